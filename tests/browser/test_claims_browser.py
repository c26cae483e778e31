"""Browser walk of a claim: compute a month, submit, check line by line, mark paid."""
from datetime import date
from decimal import Decimal as D

import pytest

from tests.claims.conftest import claims_world  # noqa: F401 (fixture)
from tests.conftest import PASSWORD
from tests.staff.factories import make_staff_line

pytestmark = pytest.mark.browser

BASE = "/operations/HL-RSA-2023/demandes"


def _log_out(page):
    page.click("[data-testid=logout]")
    page.wait_for_load_state()


def test_compute_submit_check_and_pay(page, live_server, log_in, claims_world, tmp_path):
    operation = claims_world["operation"]
    make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00"))
    make_staff_line(operation, "4400.00", hours=D("137.5"), rate=D("32.00"), name="Durand")
    page.on("dialog", lambda dialog: dialog.accept())

    # The finance officer computes January and submits it.
    log_in("fo@example.org", PASSWORD)
    page.goto(f"{live_server}{BASE}/")
    page.fill("input[name=month]", "2023-01")
    page.click("[data-testid=compute]")
    page.wait_for_load_state()
    assert page.inner_text("[data-testid=total]") == "8\u202f372,00\u00a0€"
    assert page.inner_text("[data-testid=fse-asked]") == "5\u202f023,20\u00a0€"
    page.click("[data-testid=create-draft]")
    page.wait_for_load_state()
    assert page.url.endswith(f"{BASE}/1")
    page.click("[data-testid=submit-claim]")
    page.wait_for_load_state()
    assert page.inner_text("[data-testid=state]") == "Déposé"
    assert page.locator("[data-testid=lines] tbody tr[id^=ligne-]").count() == 2
    with page.expect_download() as download:
        page.click("[data-testid=download-xlsx]")
    assert download.value.suggested_filename.endswith(".xlsx")
    _log_out(page)

    # The controller checks line by line: reduces Durand's 4 400,00 to 4 000,00.
    log_in("ctrl@example.org", PASSWORD)
    page.goto(f"{live_server}{BASE}/1")
    form = page.locator("[data-testid=decide-1]")
    form.locator("select[name=l1-decision]").select_option("reduced")
    form.locator("input[name=l1-amount]").fill("4 000,00")
    form.locator("select[name=l1-reason]").select_option("staff_time")
    form.locator("input[name=l1-comment]").fill("125 h justifiées")
    form.locator("button").click()
    page.wait_for_load_state()
    assert "décision enregistrée" in page.inner_text(".flashes")
    assert "Réduite" in page.inner_text("[data-testid=line-1]")
    page.locator("[data-testid=decide-2] button").click()  # kept
    page.wait_for_load_state()
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.click("[data-testid=finish-control]")
    page.wait_for_load_state()
    assert page.inner_text("[data-testid=state]") == "Contrôlé"
    assert dialogs and "Terminer le contrôle ?" in dialogs[0] and "2 lignes" in dialogs[0]
    # 4 000 + 2 880 = 6 880; indirect 1 032; total 7 912; FSE+ 4 747,20.
    assert page.inner_text("[data-testid=total-retained]") == "7\u202f912,00\u00a0€"
    assert page.inner_text("[data-testid=fse-due]") == "4\u202f747,20\u00a0€"
    page.screenshot(path=str(tmp_path / "controlled.png"), full_page=True)
    _log_out(page)

    # The finance officer records the payment received.
    log_in("fo@example.org", PASSWORD)
    page.goto(f"{live_server}{BASE}/1")
    page.fill("[data-testid=paid-on]", date.today().isoformat())
    page.fill("[data-testid=paid-amount]", "4 747,20")
    page.click("[data-testid=record-payment]")
    page.wait_for_load_state()
    assert page.inner_text("[data-testid=state]") == "Payé"
    assert page.inner_text("[data-testid=amount-paid]") == "4\u202f747,20\u00a0€"
    page.goto(f"{live_server}{BASE}/")
    assert "Payé" in page.inner_text("[data-testid=claims]")

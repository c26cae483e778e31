"""Operation documents in Chromium: the operation page's section, an agreement attached through
the form with CSRF protection on, then withdrawn; axe-core (WCAG 2.1 A and AA) finds nothing in
the section at 1366 px and 390 px and the page does not scroll sideways."""
import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.test_accessibility_browser import WCAG
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n% convention signee\n%%EOF\n"


def test_attach_and_withdraw_from_the_operation_page(app, page, live_server, log_in, make_user, tmp_path):
    from budget_app.kernel.extensions import db
    from budget_app.operations.services import find_operation
    from budget_app.seed import load_seed_operations
    from tests.expenses.factories import make_expense

    load_seed_operations()
    db.session.commit()
    operation = find_operation("HL-RSA-2023")
    make_expense(operation, "48000.00", category="PRESTATIONS", supplier="Cabinet Conseil RH")
    make_user("finance_officer", email="fo@example.org", operations=["HL-RSA-2023"])
    log_in("fo@example.org", PASSWORD)

    page.goto(f"{live_server}/operations/HL-RSA-2023/")
    section = page.locator("[data-testid=operation-documents]")
    assert section.locator("strong", has_text="manquant").count() == 3
    path = tmp_path / "convention.pdf"
    path.write_bytes(PDF)
    form = page.locator("[data-testid=attach-operation-document]")
    form.locator("select[name=kind]").select_option("agreement")
    form.locator("input[name=file]").set_input_files(str(path))
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "Document joint : convention.pdf" in page.inner_text("main")
    assert page.locator("[data-testid=expected-agreement]").inner_text().count("présent") == 1

    axe = Axe()
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server}/operations/HL-RSA-2023/")
        violations = axe.run(page, options=WCAG).response["violations"]
        assert violations == [], [(v["id"], [node["target"] for node in v["nodes"][:3]]) for v in violations]
        assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")

    row = page.locator("[data-testid=expected-agreement]")
    row.locator("input[name=reason]").fill("mauvaise version")
    row.locator("button", has_text="Retirer").click()
    page.wait_for_load_state()
    assert "Document retiré : convention.pdf" in page.inner_text("main")
    assert page.locator("[data-testid=expected-agreement] strong", has_text="manquant").count() == 1

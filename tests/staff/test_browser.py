"""A finance officer imports the example files through the screens, a colleague approves."""
import pytest

from budget_app.kernel.extensions import db
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def log_in(page, base, user):
    page.goto(f"{base}/connexion")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_import_preview_confirm_and_approve(app, live_server, browser_page, make_user, make_operation, tmp_path):
    first, second = make_user("finance_officer"), make_user("finance_officer")
    make_operation("HL-RSA-2023", members=[first, second])
    db.session.commit()
    page = browser_page
    log_in(page, live_server, first)
    page.goto(f"{live_server}/operations/HL-RSA-2023/personnel/import")
    page.set_input_files("input[type=file]", "fixtures/examples/personnel-exemple.xlsx")
    page.click("[data-testid=preview-button]")
    assert "5 nouvelle(s) ligne(s)" in page.inner_text("[data-testid=preview]")
    page.click("[data-testid=confirm]")
    assert "41 280,00 € / 1 720 h = 24,00 €/h" in page.inner_text("[data-testid=people]")
    page.goto(f"{live_server}/operations/HL-RSA-2023/fiches-de-temps/import")
    page.set_input_files("input[type=file]", "fixtures/examples/temps-exemple.csv")
    page.click("[data-testid=preview-button]")
    assert "137,5 h × 32,00 €/h = 4 400,00 €" in page.inner_text("[data-testid=preview]")
    page.click("[data-testid=confirm]")
    # The importer cannot approve; the colleague can.
    assert page.locator("[data-testid^=approve-]").count() == 0
    page.click("[data-testid=logout]")
    log_in(page, live_server, second)
    page.goto(f"{live_server}/operations/HL-RSA-2023/fiches-de-temps?mois=2023-01")
    for _ in range(2):
        page.locator("[data-testid^=approve-]").first.click()
    page.goto(f"{live_server}/operations/HL-RSA-2023/lignes-de-personnel?mois=2023-01")
    assert page.inner_text("[data-testid=total]").replace("\u202f", " ").replace("\xa0", " ") == "7 280,00 €"
    page.screenshot(path=str(tmp_path / "lines.png"), full_page=True)

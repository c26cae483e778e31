"""Operations in Chromium: the seed plan, the SVG dashboard under the CSP, an amendment
through the form with CSRF protection on."""
import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_plan_dashboard_and_amendment(app, page, live_server, log_in, make_user, tmp_path):
    from budget_app.kernel.extensions import db
    from budget_app.seed import load_seed_operations

    load_seed_operations()
    db.session.commit()
    make_user("admin", email="admin@example.org")
    violations = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None)

    log_in("admin@example.org", PASSWORD)
    page.goto(f"{live_server}/operations/HL-RSA-2023/")
    text = page.inner_text("main").replace("\u202f", " ").replace("\xa0", " ")
    assert "833 750,00 €" in text and "108 750,00 €" in text and "333 500,00 €" in text

    page.goto(f"{live_server}/operations/HL-RSA-2023/tableau-de-bord")
    assert page.locator("svg").count() == 3
    assert page.locator("[data-testid=chart-costs] rect").count() > 3
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

    page.goto(f"{live_server}/operations/HL-RSA-2023/avenant")
    page.fill("input[name=amendment_number]", "1")
    page.fill("input[name=signed_on]", "2024-03-01")
    page.fill("textarea[name=reason]", "Renommage du financeur")
    page.fill("input[name='resources-1-name']", "Autofinancement départemental")
    page.click("main button.primary")
    page.wait_for_load_state()
    assert page.url.endswith("/operations/HL-RSA-2023/")
    assert "Avenant n° 1" in page.inner_text("main")
    assert violations == []

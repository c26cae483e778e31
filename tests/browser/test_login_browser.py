import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_log_in_see_home_switch_to_english_and_log_out(app, page, live_server, log_in, make_user, make_operation, tmp_path):
    user = make_user("finance_officer", email="gestionnaire@example.org")
    make_operation("HL-RSA-2023", title="Accompagnement rSa", members=[user])
    make_operation("OP-AUTRE", title="Opération d'un autre service")

    log_in("gestionnaire@example.org", PASSWORD)
    assert page.url == f"{live_server}/"
    assert page.locator("html").get_attribute("lang") == "fr"
    body = page.inner_text("main")
    assert "Vos opérations" in body and "HL-RSA-2023" in body and "OP-AUTRE" not in body
    page.screenshot(path=str(tmp_path / "home-fr.png"), full_page=True)

    page.click("[data-testid=switch-en]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Your operations" in page.inner_text("main")

    page.click("[data-testid=logout]")
    page.wait_for_load_state()
    assert "/connexion" in page.url
    # The session is over on the server too: the home page asks for a login again.
    page.goto(f"{live_server}/")
    assert "/connexion" in page.url
    page.screenshot(path=str(tmp_path / "logged-out.png"), full_page=True)
    assert (tmp_path / "home-fr.png").stat().st_size > 0


def test_wrong_password_shows_a_clear_message(page, live_server, log_in, make_user):
    make_user("auditor", email="auditrice@example.org")
    log_in("auditrice@example.org", "pas le bon mot de passe")
    assert "/connexion" in page.url
    assert "incorrect" in page.inner_text("main").lower()

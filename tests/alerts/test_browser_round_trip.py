"""Browser test of the anonymous round trip (Playwright, Debian's Chromium): a visitor files
an alert with an attachment, notes the reference and secret; the referent acknowledges;
the visitor reads the acknowledgment and answers; the referent reads the answer."""
import threading

import pytest
from werkzeug.serving import make_server

from budget_app import create_app
from budget_app.extensions import db
from tests.conftest import PASSWORD

from .factories import PDF

pytestmark = pytest.mark.browser


@pytest.fixture
def live_app(app_config, tmp_path):
    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    with app.app_context():
        from budget_app.accounts.services import create_user
        from budget_app.operations.models import Operation

        db.session.add(Operation(code="HL-RSA-2023", title="Accompagnement rSa"))
        create_user("referent@example.org", "antifraud_referent", PASSWORD)
        db.session.commit()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--headless=new", "--disable-gpu"]
        )
        yield browser
        browser.close()


def test_anonymous_round_trip_in_a_browser(live_app, browser, tmp_path):
    app, base = live_app
    evidence = tmp_path / "facture.pdf"
    evidence.write_bytes(PDF)

    reporter = browser.new_context()
    page = reporter.new_page()
    page.goto(base + "/signalement")
    page.get_by_label("Fraude").check()
    page.select_option("#operation_id", label="HL-RSA-2023 — Accompagnement rSa")
    page.fill("#facts", "Des heures facturées deux fois sur l'opération.")
    page.fill("#persons", "Le gérant du prestataire")
    page.set_input_files("#attachments", str(evidence))
    page.get_by_test_id("submit-report").click()
    page.wait_for_selector("[data-testid=reference]")
    reference = page.get_by_test_id("reference").inner_text().strip()
    secret = page.get_by_test_id("secret").inner_text().strip()
    assert reference.startswith("SIG-") and len(secret) >= 26
    assert "7 jours ouvrés" in page.content()

    staff = browser.new_context()
    referent = staff.new_page()
    referent.goto(base + "/connexion")
    referent.fill("#email", "referent@example.org")
    referent.fill("#password", PASSWORD)
    referent.get_by_role("button", name="Se connecter").click()
    referent.goto(base + "/referent/signalements")
    referent.get_by_role("link", name=reference).click()
    assert "facture.pdf" in referent.get_by_test_id("attachments").inner_text()
    form = referent.get_by_test_id("transition-acknowledged")
    form.locator("textarea[name=reason]").fill("Recevable")
    form.locator("textarea[name=message]").fill("Nous accusons réception de votre signalement.")
    form.get_by_role("button", name="Accuser réception").click()
    assert referent.get_by_test_id("state").inner_text() == "Accusé de réception envoyé"

    page.goto(base + "/signalement/suivi")
    page.fill("#reference", reference)
    page.fill("#secret", secret)
    page.get_by_role("button", name="Accéder").click()
    assert "Nous accusons réception de votre signalement." in page.get_by_test_id("thread").inner_text()
    page.fill("#body", "Merci. Les factures en double datent de mars.")
    page.get_by_role("button", name="Envoyer ma réponse").click()
    assert "Les factures en double datent de mars." in page.get_by_test_id("thread").inner_text()

    referent.reload()
    assert "Les factures en double datent de mars." in referent.get_by_test_id("thread").inner_text()
    reporter.close()
    staff.close()

"""Browser test of the anonymous round trip (Playwright, Debian's Chromium): a visitor files
an alert with an attachment, notes the reference and secret; the referent acknowledges;
the visitor reads the acknowledgment and answers; the referent reads the answer."""
import pytest

from tests.alerts.factories import PDF
from tests.browser.conftest import pass_second_factor
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_anonymous_round_trip_in_a_browser(app, make_user, make_operation, live_server, browser, tmp_path):
    make_operation("HL-RSA-2023", title="Accompagnement rSa")
    make_user("antifraud_referent", email="referent@example.org")
    base = live_server
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
    referent.wait_for_load_state()
    pass_second_factor(referent, base, "referent@example.org")
    referent.goto(base + "/referent/signalements")
    referent.get_by_role("link", name=reference).click()
    assert "facture.pdf" in referent.get_by_test_id("attachments").inner_text()
    form = referent.get_by_test_id("transition-acknowledged")
    form.locator("textarea[name=reason]").fill("Recevable")
    assert "Nous accusons réception" in form.locator("textarea[name=message]").input_value()
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


def test_too_large_attachment_is_refused_before_sending(app, make_operation, live_server, browser, tmp_path):
    app.config["UPLOAD_MAX_BYTES"] = 1024
    make_operation("HL-RSA-2023", title="Accompagnement rSa")
    big = tmp_path / "gros.pdf"
    big.write_bytes(PDF + b"0" * 4096)
    page = browser.new_context().new_page()
    page.goto(live_server + "/signalement")
    page.get_by_label("Fraude").check()
    page.fill("#facts", "Un long texte écrit pendant deux heures.")
    page.set_input_files("#attachments", str(big))
    page.get_by_test_id("submit-report").click()
    problem = page.locator(".upload-problem")
    problem.wait_for(state="visible")
    assert "gros.pdf" in problem.inner_text()
    assert page.input_value("#facts") == "Un long texte écrit pendant deux heures."
    assert page.url.endswith("/signalement")

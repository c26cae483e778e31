"""The public form's text (issue 14): who runs the channel, a privacy notice, errors tied to
their field, and a follow-up secret without look-alike characters (at least 128 bits)."""
import math

from budget_app.alerts.filing import SECRET_ALPHABET, SECRET_LENGTH

from .conftest import post_report, receipt_codes


def test_the_form_names_the_organisation_and_has_a_privacy_notice(app, client):
    app.config["ALERT_CHANNEL_ORGANISATION"] = "Département de la Haute-Loire, service FSE"
    app.config["ALERT_PRIVACY_CONTACT"] = "dpo@hauteloire.example"
    page = client.get("/signalement").get_data(as_text=True)
    assert "Ce canal est géré par Département de la Haute-Loire, service FSE." in page
    assert 'data-testid="privacy-notice"' in page and "60 jours après la clôture" in page
    assert "dpo@hauteloire.example" in page and "CNIL" in page


def test_errors_are_tied_to_their_field(client):
    response = post_report(client, facts="")
    page = response.get_data(as_text=True)
    assert 'aria-describedby="facts-error"' in page and 'id="facts-error"' in page


def test_the_secret_has_no_look_alike_characters_and_128_bits(client, operation):
    assert not set("0Oo1lI") & set(SECRET_ALPHABET)
    assert SECRET_LENGTH * math.log2(len(SECRET_ALPHABET)) >= 128
    _reference, secret = receipt_codes(post_report(client, operation))
    assert len(secret) == SECRET_LENGTH and set(secret) <= set(SECRET_ALPHABET)

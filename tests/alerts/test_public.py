"""The public channel: filing, receipt, follow-up thread, throttling, CSRF time limit."""
import io
import logging
import re
import time

from budget_app import create_app
from budget_app.alerts import filing
from budget_app.alerts.models import Alert, AlertMessage
from budget_app.kernel.extensions import db

from .conftest import post_report, receipt_codes
from .factories import PDF


def test_anonymous_round_trip(app, client, referent, operation, login):
    response = post_report(client, operation)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    reference, secret = receipt_codes(response)
    assert re.fullmatch(r"SIG-\d{4}-\d{6}", reference)
    assert len(secret) >= 26  # 160 bits, url-safe base64
    assert "7 jours ouvrés" in page and "3 mois" in page
    assert response.headers["Cache-Control"] == "no-store"

    alert = db.session.scalar(db.select(Alert).where(Alert.reference == reference))
    assert alert.state == "received" and alert.anonymous and len(alert.attachments) == 1

    staff = app.test_client()
    login(staff, referent)
    detail = staff.get(f"/referent/signalements/{reference}").get_data(as_text=True)
    assert "Facture gonflée CANARY-7f3a" in detail and "preuve.pdf" in detail
    response = staff.post(
        f"/referent/signalements/{reference}/etat",
        data={"target": "acknowledged", "reason": "recevable", "message": "Nous accusons réception de votre signalement."},
    )
    assert response.status_code == 302

    reporter = app.test_client()
    assert reporter.post("/signalement/suivi", data={"reference": reference, "secret": secret}).status_code == 302
    thread = reporter.get("/signalement/suivi").get_data(as_text=True)
    assert "Nous accusons réception de votre signalement." in thread
    response = reporter.post("/signalement/suivi/reponse", data={"body": "Merci, voici une autre facture.",
                                                                   "attachments": [(io.BytesIO(PDF), "autre.pdf")]},
                             content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/signalement/suivi")
    assert "Merci, voici une autre facture." in reporter.get("/signalement/suivi").get_data(as_text=True)
    assert "Merci, voici une autre facture." in staff.get(f"/referent/signalements/{reference}").get_data(as_text=True)
    db.session.expire_all()
    alert = db.session.get(Alert, alert.id)
    assert [m.author for m in alert.messages] == ["referent", "reporter"]
    assert len(alert.attachments) == 2
    # Ending the follow-up forgets it.
    reporter.post("/signalement/suivi/fin")
    assert "Nous accusons" not in reporter.get("/signalement/suivi").get_data(as_text=True)


def test_named_report_needs_name_and_contact(client, operation):
    response = post_report(client, operation, identity="named", name="Alice")
    assert response.status_code == 400
    assert "un nom et un moyen de vous contacter" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Alert.id))) == 0


def test_operation_chosen_or_described(client):
    response = post_report(client, None, operation_text="")
    assert response.status_code == 400
    assert "décrivez-la" in response.get_data(as_text=True)


def test_a_report_naming_no_operation_is_refused_with_the_list_shown_again(client, operation):
    """Issue 27: a report naming no operation is checked without reading the list; when it
    is refused, the form comes back with every operation to choose from."""
    response = post_report(client, None, operation_text="", facts="Faits")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "décrivez-la" in page
    assert f'<option value="{operation.id}">HL-RSA-2023 — Accompagnement socio-professionnel rSa</option>' in page
    response = post_report(client, None, operation_id=str(operation.id + 1000))  # not in the list
    assert response.status_code == 400 and f'value="{operation.id}"' in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Alert.id))) == 0
    reference, _secret = receipt_codes(post_report(client, operation))
    assert db.session.scalar(db.select(Alert.operation_id).where(Alert.reference == reference)) == operation.id


def test_attachment_checked_by_content(client, operation):
    response = post_report(client, operation, files=(("facture.pdf", b"<html><script>x</script></html>"),))
    assert response.status_code == 400
    assert "pas un fichier PDF valide" in response.get_data(as_text=True)
    response = post_report(client, operation, files=(("x.exe", b"MZ..."),))
    assert response.status_code == 400
    assert db.session.scalar(db.select(db.func.count(Alert.id))) == 0


def test_attachment_over_the_size_limit_is_refused(app, client, operation):
    app.config["UPLOAD_MAX_BYTES"] = 1000
    response = post_report(client, operation, files=(("gros.pdf", PDF + b"0" * 2000),))
    assert response.status_code == 400
    assert "dépasse la taille maximale" in response.get_data(as_text=True)


def test_wrong_secrets_are_throttled_per_address(client, operation):
    reference, _secret = receipt_codes(post_report(client, operation))
    statuses = [client.post("/signalement/suivi", data={"reference": reference, "secret": "faux"}).status_code
                for _ in range(11)]
    assert statuses[:10] == [200] * 10 and statuses[10] == 429


def test_secret_is_never_accepted_in_the_query_string(client, operation):
    reference, secret = receipt_codes(post_report(client, operation))
    assert client.get(f"/signalement/suivi?reference={reference}&secret={secret}").status_code == 400


def test_secret_is_stored_only_as_a_hash(client, operation):
    reference, secret = receipt_codes(post_report(client, operation))
    alert = db.session.scalar(db.select(Alert).where(Alert.reference == reference))
    assert secret not in alert.secret_hash and alert.secret_hash.startswith("$hkdf-sha256$")
    assert filing.verify_follow_up(reference, secret).id == alert.id
    assert filing.verify_follow_up(reference, secret + "x") is None
    assert filing.verify_follow_up("SIG-0000-000000", secret) is None


def test_public_form_is_rate_limited(app, client, operation, caplog):
    app.config["ALERT_REPORTS_PER_ADDRESS"] = "2 per hour"
    client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    assert post_report(client, operation).status_code == 200
    assert post_report(client, operation).status_code == 200
    assert post_report(client, operation).status_code == 429
    warnings = [r.getMessage() for r in caplog.records if "alerts_throttled" in r.getMessage()]
    assert warnings and "reports_per_address" in warnings[0] and "203.0.113.9" not in " ".join(warnings)
    # Invalid submissions do not count.
    app.config["ALERT_REPORTS_PER_ADDRESS"] = "5 per hour"


def test_no_address_or_user_agent_is_stored_or_logged(app, client, operation, caplog, referent, login):
    caplog.set_level(logging.DEBUG)
    environ = {"REMOTE_ADDR": "203.0.113.7", "HTTP_USER_AGENT": "UA-CANARY-42"}
    client.environ_base.update(environ)
    response = post_report(client, operation, facts="Faits LOGCANARY")
    reference, secret = receipt_codes(response)
    client.post("/signalement/suivi", data={"reference": reference, "secret": secret})
    client.post("/signalement/suivi/reponse", data={"body": "réponse LOGCANARY"})
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for needle in ("203.0.113.7", "UA-CANARY-42", secret, "LOGCANARY"):
        assert needle not in logged
    dump = _database_dump()
    assert "203.0.113.7" not in dump and "UA-CANARY-42" not in dump and "203_0_113" not in dump


def _database_dump() -> str:
    chunks = []
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                chunks.append(repr(tuple(row)))
    return "\n".join(chunks)


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_two_hours_writing_a_report_does_not_lose_it(app_config, operation, monkeypatch):
    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    client = app.test_client()
    token = _token(client.get("/signalement").get_data(as_text=True))
    login_token = _token(client.get("/connexion").get_data(as_text=True))
    later = time.time() + 2 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    # A site-wide form with a two-hour-old token is refused (WTF_CSRF_TIME_LIMIT = 3600 s)...
    assert client.post("/connexion", data={"email": "a@example.org", "password": "x", "csrf_token": login_token}).status_code == 400
    # ...the report form is accepted.
    response = post_report(client, operation, csrf_token=token)
    assert response.status_code == 200
    assert "Votre signalement a été reçu" in response.get_data(as_text=True)


def test_report_without_csrf_token_is_refused_and_the_text_kept(app_config, operation):
    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    client = app.test_client()
    client.get("/signalement")
    response = post_report(client, operation, facts="Mon long texte conservé")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Le formulaire a expiré" in page and "Mon long texte conservé" in page
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Alert.id))) == 0


def test_reply_needs_a_follow_up_session(client):
    response = client.post("/signalement/suivi/reponse", data={"body": "x"})
    assert response.status_code == 302
    assert db.session.scalar(db.select(db.func.count(AlertMessage.id))) == 0


def test_follow_up_session_expires(app, client, operation, monkeypatch):
    reference, secret = receipt_codes(post_report(client, operation))
    client.post("/signalement/suivi", data={"reference": reference, "secret": secret})
    assert "data-testid=\"thread\"" in client.get("/signalement/suivi").get_data(as_text=True)
    from datetime import datetime, timedelta, timezone

    from budget_app.alerts import follow_up

    later = datetime.now(timezone.utc) + timedelta(minutes=31)
    monkeypatch.setattr(follow_up, "_now", lambda: later)
    assert "data-testid=\"thread\"" not in client.get("/signalement/suivi").get_data(as_text=True)


def test_reply_without_csrf_token_is_refused_and_the_text_kept(app_config, operation):
    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    client = app.test_client()
    page = client.get("/signalement").get_data(as_text=True)
    response = post_report(client, operation, csrf_token=_token(page))
    reference, secret = receipt_codes(response)
    page = client.get("/signalement/suivi").get_data(as_text=True)
    client.post("/signalement/suivi", data={"reference": reference, "secret": secret, "csrf_token": _token(page)})
    response = client.post("/signalement/suivi/reponse", data={"body": "Texte de réponse conservé"})
    assert response.status_code == 400
    assert "Texte de réponse conservé" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(AlertMessage.id))) == 0


def test_secrets_are_long_random_and_distinct():
    secrets_made = {filing.new_secret() for _ in range(10_000)}
    assert len(secrets_made) == 10_000
    assert all(len(s) == 27 and re.fullmatch(r"[A-Za-z0-9_-]+", s) for s in secrets_made)  # 160 bits


def test_public_pages_switch_to_english(client):
    assert 'data-testid="switch-en"' in client.get("/signalement").get_data(as_text=True)
    client.post("/compte/langue", data={"lang": "en", "next": "/signalement"})
    page = client.get("/signalement").get_data(as_text=True)
    assert "Report a fraud or a conflict of interest" in page and "I stay anonymous" in page

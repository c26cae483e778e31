"""Encryption at rest, key handling, role isolation, access log, output escaping."""
import os
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from budget_app.alerts import crypto, filing
from budget_app.alerts.models import Alert, AlertAccess
from budget_app.kernel.extensions import db
from tests.conftest import ON_POSTGRES

from .conftest import post_report, receipt_codes
from .factories import CANARY, PDF, file_alert, open_as

ALERT_URLS = (
    "/referent/signalements",
    "/referent/signalements/{ref}",
    "/referent/signalements/{ref}/transmission",
    "/referent/signalements/{ref}/transmission.xlsx",
    "/referent/signalements/{ref}/transmission/impression",
    "/referent/signalements/{ref}/pieces/1",
)


def _raw_rows() -> str:
    chunks = []
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                chunks.append(repr(tuple(row)))
    return "\n".join(chunks)


def test_raw_database_and_files_hold_no_plaintext(app, client, referent, operation, login):
    response = post_report(
        client, operation, facts=f"Les faits {CANARY}", persons=f"Personne {CANARY}", identity="named",
        name=f"Nom {CANARY}", contact=f"{CANARY}@example.org", files=((f"{CANARY}.pdf", PDF + CANARY.encode()),),
    )
    reference, secret = receipt_codes(response)
    staff = app.test_client()
    login(staff, referent)
    staff.post(f"/referent/signalements/{reference}/etat",
               data={"target": "acknowledged", "reason": f"motif {CANARY}", "message": f"message {CANARY}"})
    dump = _raw_rows()
    assert CANARY not in dump and secret not in dump
    assert CANARY.encode() not in dump.encode("utf-8", "backslashreplace")
    if not ON_POSTGRES:
        path = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
        db.session.remove()
        db.engine.dispose()
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert CANARY.encode() not in raw and secret.encode() not in raw
    for stored in Path(app.config["BUDGET_APP_UPLOAD_DIR"]).rglob("*"):
        if stored.is_file():
            assert CANARY.encode() not in stored.read_bytes()
            assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    # The referent, with the key, reads it all back.
    alert = open_as(referent, db.session.scalar(db.select(Alert).where(Alert.reference == reference)))
    assert CANARY in filing.alert_content(alert)["facts"]
    assert filing.alert_identity(alert)["name"] == f"Nom {CANARY}"
    assert filing.attachment_meta(alert.attachments[0])["name"] == f"{CANARY}.pdf"


def test_tampered_ciphertext_does_not_decrypt(app, operation):
    alert, _secret = file_alert(operation=operation)
    token = bytearray(alert.content_enc)
    token[40] ^= 1
    with pytest.raises(crypto.AlertKeyError):
        crypto.decrypt_bytes(bytes(token))


def test_key_file_is_generated_with_owner_only_mode(app):
    path = crypto.key_file_path()
    assert not app.config.get("ALERT_KEY") and not path.exists()
    crypto.configured_keys()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    Fernet(path.read_bytes().strip())


def test_key_file_defaults_to_the_instance_folder(app):
    app.config.pop("ALERT_KEY_FILE")
    assert crypto.key_file_path() == Path(app.instance_path) / "alert_key"


def test_key_from_the_environment_variable(app_config, monkeypatch):
    from budget_app import create_app

    key = Fernet.generate_key().decode()
    monkeypatch.setenv("BUDGET_APP_ALERT_KEY", key)
    app = create_app(app_config)
    with app.app_context():
        assert crypto.configured_keys() == [key.encode()]
        assert Fernet(key.encode()).decrypt(crypto.encrypt_bytes(b"x")) == b"x"


def test_rotate_key(app, runner, operation):
    alert, secret = file_alert(operation=operation, attachments=[("preuve.pdf", PDF)])
    old_key = crypto.configured_keys()[0]
    result = runner.invoke(args=["alerts", "rotate-key"])
    assert result.exit_code == 0, result.output
    new_keys = crypto.configured_keys()
    assert new_keys != [old_key] and len(new_keys) == 1
    assert stat.S_IMODE(os.stat(crypto.key_file_path()).st_mode) == 0o600
    db.session.expire_all()
    alert = db.session.get(Alert, alert.id)
    assert CANARY in filing.alert_content(alert)["facts"]
    from budget_app.alerts import files

    assert filing.attachment_data(alert.attachments[0]) == PDF
    with pytest.raises(Exception):
        Fernet(old_key).decrypt(bytes(alert.content_enc))
    assert filing.verify_follow_up(alert.reference, secret) is not None


@pytest.mark.parametrize("role", ["admin", "finance_officer", "controller", "auditor"])
def test_no_other_role_sees_any_alert(app, make_user, login, operation, role):
    alert, _secret = file_alert(operation=operation, attachments=[("preuve.pdf", PDF)])
    client = app.test_client()
    login(client, make_user(role, operations=[operation.code]))
    for url in ALERT_URLS:
        assert client.get(url.format(ref=alert.reference)).status_code == 404, url
    assert client.post(f"/referent/signalements/{alert.reference}/etat", data={"target": "acknowledged"}).status_code == 404
    assert "Signalements</a>" not in client.get("/").get_data(as_text=True)
    anonymous = app.test_client()
    assert anonymous.get(f"/referent/signalements/{alert.reference}").status_code == 404


def test_each_opening_is_logged_and_auditors_see_the_log_without_contents(app, referent, make_user, login, operation):
    alert, _secret = file_alert(operation=operation, attachments=[("preuve.pdf", PDF)])
    staff = app.test_client()
    login(staff, referent)
    staff.get(f"/referent/signalements/{alert.reference}")
    staff.get(f"/referent/signalements/{alert.reference}/pieces/{alert.attachments[0].id}")
    staff.get(f"/referent/signalements/{alert.reference}/transmission.xlsx")
    accesses = db.session.scalars(db.select(AlertAccess).order_by(AlertAccess.id)).all()
    assert [(a.reference, a.user_id, a.action) for a in accesses] == [
        (alert.reference, referent.id, "view"), (alert.reference, referent.id, "download"),
        (alert.reference, referent.id, "export"),
    ]
    auditor = app.test_client()
    login(auditor, make_user("auditor"))
    page = auditor.get("/signalements/acces").get_data(as_text=True)
    # Auditors see a keyed pseudonym of the reference, the referent the reference.
    assert alert.reference not in page and "referent@example.org" in page and "consultation" in page
    assert alert.reference in staff.get("/signalements/acces").get_data(as_text=True)
    assert CANARY not in page and "Facture" not in page
    admin = app.test_client()
    login(admin, make_user("admin"))
    assert admin.get("/signalements/acces").status_code == 404


def test_alert_events_go_to_the_referents_log_not_the_audit_trail(app, client, referent, login, operation):
    reference, _secret = receipt_codes(post_report(client, operation, facts=f"faits {CANARY}"))
    staff = app.test_client()
    login(staff, referent)
    staff.post(f"/referent/signalements/{reference}/etat",
               data={"target": "acknowledged", "reason": f"motif {CANARY}", "message": f"message {CANARY}"})
    from budget_app.alerts.models import AlertLogEntry
    from budget_app.kernel.audit.models import AuditEntry

    assert db.session.scalars(db.select(AuditEntry).where(AuditEntry.object_type == "alerts")).all() == []
    entries = db.session.scalars(db.select(AlertLogEntry).order_by(AlertLogEntry.id)).all()
    assert {e.action for e in entries} >= {"received", "transition", "message"}
    assert CANARY not in repr([(e.details, e.actor) for e in entries])
    transition = next(e for e in entries if e.action == "transition")
    assert transition.details["from_state"] == "received" and transition.details["to_state"] == "acknowledged"
    assert transition.actor == f"user:{referent.id}"
    received = next(e for e in entries if e.action == "received")
    assert received.actor == "public"


def test_report_text_and_file_names_are_escaped(app, client, referent, login, operation):
    payload = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
    reference, _secret = receipt_codes(post_report(client, operation, facts=payload, files=(("<img src=x onerror=alert(1)>.pdf", PDF),)))
    staff = app.test_client()
    login(staff, referent)
    page = staff.get(f"/referent/signalements/{reference}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_attachment_download_is_never_rendered(app, referent, login, operation):
    alert, _secret = file_alert(operation=operation, attachments=[("preuve.pdf", PDF)])
    staff = app.test_client()
    login(staff, referent)
    response = staff.get(f"/referent/signalements/{alert.reference}/pieces/{alert.attachments[0].id}")
    assert response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    other, _ = file_alert(operation=operation)
    assert staff.get(f"/referent/signalements/{other.reference}/pieces/{alert.attachments[0].id}").status_code == 404


def test_rotate_key_with_a_wrong_key_changes_nothing(app, runner, operation):
    alert, _secret = file_alert(operation=operation)
    before = bytes(alert.content_enc)
    app.config["ALERT_KEY"] = Fernet.generate_key().decode()  # not the key the data was written with
    result = runner.invoke(args=["alerts", "rotate-key"])
    assert result.exit_code == 1 and "Erreur" in result.output
    db.session.expire_all()
    assert bytes(db.session.get(Alert, alert.id).content_enc) == before
    app.config["ALERT_KEY"] = "pas-une-cle"
    result = runner.invoke(args=["alerts", "rotate-key"])
    assert result.exit_code == 1 and "Erreur" in result.output


def test_rotate_key_from_the_environment_prints_the_new_key(app, runner, operation):
    key = Fernet.generate_key().decode()
    app.config["ALERT_KEY"] = key
    alert, _secret = file_alert(operation=operation)
    result = runner.invoke(args=["alerts", "rotate-key"])
    assert result.exit_code == 0, result.output
    new_key = result.output.strip().splitlines()[-1]
    assert new_key != key
    app.config["ALERT_KEY"] = new_key
    db.session.expire_all()
    assert CANARY in filing.alert_content(db.session.get(Alert, alert.id))["facts"]

"""Keys per referent (issue 21, finding « an admin can read alerts »; CHECKLIST §5): an
account an admin gives the referent role, or a referent whose password an admin resets
through a set-up link, reads nothing until an existing referent grants access; neither the
database (with the server key) nor the cookie alone opens an alert; the recovery key
restores access by command; logout destroys the session's key."""
import json
import re

from budget_app.accounts import sessions
from budget_app.accounts.models import User, UserSession
from budget_app.accounts.services import find_user
from budget_app.alerts import crypto, files, keyring, legacy, referent_keys
from budget_app.alerts.key_models import REFERENT, RECOVERY, SERVER, AlertKeyWrap, ReferentKey
from budget_app.alerts.models import Alert, AlertLogEntry
from budget_app.kernel.extensions import db
from tests.conftest import PASSWORD

from .factories import CANARY, PDF, file_alert

NEW_PASSWORD = "Une phrase assez longue 42"


def _alert_pages(alert):
    return [f"/referent/signalements/{alert.reference}",
            f"/referent/signalements/{alert.reference}/pieces/{alert.attachments[0].id}",
            f"/referent/signalements/{alert.reference}/transmission",
            f"/referent/signalements/{alert.reference}/transmission.xlsx",
            f"/referent/signalements/{alert.reference}/transmission/impression"]


def _reads_nothing(client, alert):
    for url in _alert_pages(alert):
        response = client.get(url)
        body = response.get_data()
        assert CANARY.encode() not in body and b"Jean Dupont" not in body and PDF not in body, url
        assert response.status_code == 403, url


def _reads_everything(client, alert):
    page = client.get(f"/referent/signalements/{alert.reference}").get_data(as_text=True)
    assert CANARY in page and "Jean Dupont" in page
    assert client.get(_alert_pages(alert)[1]).get_data() == PDF


def _link_of(page: str) -> str:
    return re.search(r"(/compte/activation/[A-Za-z0-9_\-]+)", page).group(1)


def _access_events():
    return [entry.action for entry in db.session.scalars(
        db.select(AlertLogEntry).where(AlertLogEntry.alert_id.is_(None)).order_by(AlertLogEntry.id))]


def test_admin_made_referent_reads_nothing(app, referent, make_user, login, form_login, operation):
    """Fails on the code of before: one server key opened every alert for any referent."""
    alert, _secret = file_alert(operation=operation, attachments=[("preuve.pdf", PDF)], anonymous=False,
                                name="Jean Dupont", contact="jd@example.org")
    admin = app.test_client()
    login(admin, make_user("admin", email="admin@example.org"))
    page = admin.post("/admin/utilisateurs", data={"email": "fake@example.org", "full_name": "Faux",
                                                   "role": "antifraud_referent", "operations": ""})
    assert page.status_code == 200
    fake = app.test_client()
    path = _link_of(page.get_data(as_text=True))
    assert fake.post(path, data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    form_login(fake, find_user("fake@example.org"), NEW_PASSWORD)
    _reads_nothing(fake, alert)
    assert "Faux" in fake.get("/referent/acces").get_data(as_text=True)
    # A new alert is not wrapped for them either.
    later, _ = file_alert(operation=operation, attachments=[("preuve.pdf", PDF)])
    _reads_nothing(fake, later)
    # The real referent is told, on their page.
    real = app.test_client()
    login(real, referent)
    events = real.get("/referent/acces").get_data(as_text=True)
    assert "Compte administrateur ou référent créé" in events and "Faux" in events
    _reads_everything(real, alert)


def test_admin_resetting_the_referent_by_link_reads_nothing(app, referent, make_user, login, form_login, operation):
    other = make_user("antifraud_referent", email="second@example.org")
    alert, _secret = file_alert(operation=operation, attachments=[("preuve.pdf", PDF)])
    admin = app.test_client()
    login(admin, make_user("admin", email="admin@example.org"))
    response = admin.post(f"/admin/utilisateurs/{referent.id}/lien", data={})
    link = _link_of(admin.get("/admin/utilisateurs").get_data(as_text=True) + str(response.headers)
                    + "".join(m for _c, m in _flashes(admin)))
    attacker = app.test_client()
    assert attacker.post(link, data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    form_login(attacker, db.session.get(User, referent.id), NEW_PASSWORD)
    _reads_nothing(attacker, alert)
    assert db.session.scalar(db.select(AlertKeyWrap).where(AlertKeyWrap.user_id == referent.id,
                                                           AlertKeyWrap.holder == REFERENT)) is None
    assert {"account_setup_link", "access_lost"} <= set(_access_events())
    told = app.test_client()
    login(told, other)
    page = told.get("/referent/acces").get_data(as_text=True)
    assert "Nouveau lien d'activation" in page and "accès aux signalements perdu" in page


def _flashes(client):
    with client.session_transaction() as session:
        return session.get("_flashes", [])


def test_database_and_server_key_alone_open_nothing(app, referent, login, operation):
    alert, _secret = file_alert(operation=operation, attachments=[("preuve.pdf", PDF)])
    staff = app.test_client()
    login(staff, referent)
    _reads_everything(staff, alert)
    # Whoever holds every table and the server key peels the server layer and finds nothing.
    values = [alert.content_enc] + [m.body_enc for m in alert.messages] + [a.meta_enc for a in alert.attachments]
    for value in values:
        assert CANARY.encode() not in crypto.decrypt_bytes(value)
    inner = crypto.decrypt_bytes(files.read_encrypted(alert.attachments[0].stored_name))
    assert PDF not in inner
    assert db.session.scalar(db.select(AlertKeyWrap).where(AlertKeyWrap.holder == SERVER)) is None
    # The session row's vault does not open without the cookie's token.
    record = db.session.scalars(db.select(UserSession).where(UserSession.user_id == referent.id)).one()
    assert record.vault is not None
    assert sessions.vault_get("not-the-token", keyring.PRIVATE_KEY) is None
    private = referent_keys.open_private_key(referent, PASSWORD)
    assert private not in bytes(record.vault)


def test_cookie_alone_holds_no_key(app, referent, login, operation):
    alert, _secret = file_alert(operation=operation)
    staff = app.test_client()
    login(staff, referent)
    with staff.session_transaction() as session:
        contents = dict(session)
    assert set(contents) <= {"_user_id", "_fresh", "sid", "_id", "csrf_token", "lang"}
    private = referent_keys.open_private_key(referent, PASSWORD)
    assert private.hex() not in repr(contents) and private not in repr(contents).encode()
    # Logout: the vault is emptied; the same cookie opens nothing any more.
    cookie = staff.get_cookie("budget_session").value
    staff.post("/deconnexion")
    record = db.session.scalars(db.select(UserSession).where(UserSession.user_id == referent.id)).one()
    assert record.vault is None and record.ended_at is not None
    thief = app.test_client()
    thief.set_cookie("budget_session", cookie)
    assert thief.get(f"/referent/signalements/{alert.reference}").status_code == 404


def test_expiry_destroys_the_session_key(app, referent, login, make_user, operation):
    staff = app.test_client()
    login(staff, referent)
    record = db.session.scalars(db.select(UserSession).where(UserSession.user_id == referent.id)).one()
    record.last_seen_at = record.last_seen_at.replace(year=2000)
    db.session.commit()
    login(app.test_client(), make_user("finance_officer"))  # any login ends what expired
    db.session.expire_all()
    assert db.session.get(UserSession, record.id).vault is None


def test_grant_by_an_existing_referent_is_logged_and_opens_the_alerts(app, referent, make_user, login, operation):
    alert, _secret = file_alert(operation=operation, attachments=[("preuve.pdf", PDF)])
    newcomer = make_user("antifraud_referent", email="newcomer@example.org")
    other = app.test_client()
    login(other, newcomer)
    _reads_nothing(other, alert)
    granter = app.test_client()
    login(granter, referent)
    response = granter.post(f"/referent/acces/{newcomer.id}/accorder")
    assert response.status_code == 302
    entry = db.session.scalars(db.select(AlertLogEntry).where(AlertLogEntry.action == "access_granted")
                               .order_by(AlertLogEntry.id.desc())).first()
    assert entry.user_id == referent.id and entry.details == {"referent": newcomer.id, "alerts": 1}
    _reads_everything(other, alert)
    later, _ = file_alert(operation=operation, attachments=[("preuve.pdf", PDF)])
    _reads_everything(other, later)  # new alerts are sealed for them too


def test_grant_needs_a_fresh_confirmation(app, referent, make_user, login):
    newcomer = make_user("antifraud_referent", email="newcomer@example.org")
    login(app.test_client(), newcomer)
    granter = app.test_client()
    login(granter, referent)
    for record in db.session.scalars(db.select(UserSession).where(UserSession.user_id == referent.id)):
        record.fresh_at = record.fresh_at.replace(year=2000)
    db.session.commit()
    response = granter.post(f"/referent/acces/{newcomer.id}/accorder")
    assert response.headers["Location"].startswith("/compte/confirmation")
    assert referent_keys.key_row(newcomer.id).granted_at is None


def test_recovery_key_restores_access_by_command(app, runner, make_user, login, operation):
    result = runner.invoke(args=["users", "create", "first@example.org", "--role", "antifraud_referent"],
                           input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    recovery = re.search(r"^  ([A-Z2-7]{4}(?:-[A-Z2-7]{1,4})+)$", result.output, re.M).group(1)
    alert, _secret = file_alert(operation=operation, attachments=[("preuve.pdf", PDF)])
    runner.invoke(args=["users", "disable", "first@example.org"])  # the last referent leaves
    successor = make_user("antifraud_referent", email="successor@example.org")
    client = app.test_client()
    login(client, successor)
    _reads_nothing(client, alert)
    refused = runner.invoke(args=["alerts", "recover", "successor@example.org"], input="AAAA-BBBB\n")
    assert refused.exit_code == 1 and "clé de secours" in refused.output
    result = runner.invoke(args=["alerts", "recover", "successor@example.org"], input=recovery + "\n")
    assert result.exit_code == 0, result.output
    assert "access_recovered" in _access_events()
    _reads_everything(client, alert)


def test_alerts_of_before_are_sealed_at_the_first_referent_login(app, make_user, login, operation):
    """Migration 0019: an alert under the server key alone; the referent of before (pending)
    logs in: the alert gets its own key, wrapped for them and the recovery key; the server
    wraps go once no referent of before is pending."""
    alert, _secret = file_alert(operation=operation)
    plain = {"facts": f"Ancien {CANARY}", "persons": "", "dates": "", "operation_text": ""}
    alert.content_enc = crypto.encrypt_bytes(json.dumps(plain).encode())
    alert.sealed = False
    db.session.execute(db.delete(AlertKeyWrap))
    db.session.execute(db.delete(referent_keys.RecoveryKey))
    old = make_user("finance_officer", email="old.referent@example.org")
    old.role = "antifraud_referent"
    db.session.add(ReferentKey(user_id=old.id, legacy_pending=True, granted_at=alert.received_at))
    db.session.commit()
    db.session.expire_all()
    assert keyring.transition_open()
    client = app.test_client()
    login(client, db.session.get(User, old.id))
    sealed = db.session.get(Alert, alert.id)
    assert sealed.sealed
    holders = {wrap.holder for wrap in db.session.scalars(db.select(AlertKeyWrap).where(AlertKeyWrap.alert_id == alert.id))}
    assert holders == {REFERENT, RECOVERY}  # no server wrap left: nobody else was pending
    assert CANARY.encode() not in crypto.decrypt_bytes(sealed.content_enc)
    assert legacy.retire_server_wraps() == 0
    # The recovery key is shown once, before any other page.
    assert client.get("/referent/signalements").headers["Location"] == "/referent/cle-de-secours"
    assert 'data-testid="recovery-key"' in client.get("/referent/cle-de-secours").get_data(as_text=True)
    client.post("/referent/cle-de-secours")
    assert client.get("/referent/cle-de-secours").status_code == 302  # never shown again
    assert f"Ancien {CANARY}" in client.get(f"/referent/signalements/{alert.reference}").get_data(as_text=True)

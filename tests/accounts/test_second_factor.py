"""Second factor (TOTP, RFC 6238) and the fresh confirmation before sensitive actions."""
import time

import pyotp
import pytest

from budget_app.accounts import second_factor
from budget_app.accounts.models import RecoveryCode, User, UserSession
from budget_app.kernel.extensions import db
from tests.conftest import PASSWORD, current_code, enrol


def _login(client, email, password=PASSWORD):
    return client.post("/connexion", data={"email": email, "password": password})


def _logged_in(client) -> bool:
    return client.get("/").status_code == 200


def test_admin_first_login_forces_enrolment_then_recovery_codes_once(client, make_user):
    admin = make_user("admin", email="admin@example.org")
    response = _login(client, "admin@example.org")
    assert response.headers["Location"] == "/connexion/code"
    assert not _logged_in(client)  # the password alone opens no page
    assert client.get("/connexion/code").headers["Location"] == "/connexion/double-authentification"
    page = client.get("/connexion/double-authentification").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page  # QR code inline, no request
    secret = second_factor.pending_secret(db.session.get(User, admin.id))
    assert secret in page
    response = client.post("/connexion/double-authentification", data={"code": pyotp.TOTP(secret).now()})
    codes = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-testid="recovery-codes"' in codes
    assert _logged_in(client)
    stored = db.session.scalars(db.select(RecoveryCode).where(RecoveryCode.user_id == admin.id)).all()
    assert len(stored) == 10 and all(code.code_hash.startswith("$argon2") for code in stored)
    assert secret not in str(db.session.get(User, admin.id).totp_secret_enc)


def test_finance_officer_logs_in_without_second_factor_unless_enabled(client, make_user):
    officer = make_user("finance_officer", email="fo@example.org")
    assert _login(client, "fo@example.org").headers["Location"] == "/"
    enrol(officer)
    other = client.application.test_client()
    assert _login(other, "fo@example.org").headers["Location"] == "/connexion/code"


def test_wrong_code_is_refused_and_keeps_the_session_pending(client, make_user):
    admin = make_user("admin", email="admin@example.org")
    enrol(admin)
    _login(client, "admin@example.org")
    good = current_code(admin)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    response = client.post("/connexion/code", data={"code": wrong})
    assert response.status_code == 400 and not _logged_in(client)
    assert db.session.scalars(db.select(UserSession).where(UserSession.user_id == admin.id)).one().second_factor_pending


def test_replayed_code_is_refused(app, make_user):
    """RFC 6238 §5.2: a code accepted once is not accepted again (even within its 30 s)."""
    admin = make_user("admin", email="admin@example.org")
    enrol(admin)
    now = time.time()
    code = pyotp.TOTP(second_factor._secret(admin)).at(now)
    assert second_factor.check_code(admin, code, now=now) is True
    assert second_factor.check_code(admin, code, now=now) is False
    # An older code (previous step) is refused too once a newer one was used.
    assert second_factor.check_code(admin, pyotp.TOTP(second_factor._secret(admin)).at(now - 30), now=now) is False


def test_recovery_code_works_once(client, make_user):
    admin = make_user("admin", email="admin@example.org")
    codes = enrol(admin)
    _login(client, "admin@example.org")
    assert client.post("/connexion/code", data={"code": codes[0]}).headers["Location"] == "/"
    other = client.application.test_client()
    _login(other, "admin@example.org")
    assert other.post("/connexion/code", data={"code": codes[0]}).status_code == 400
    assert second_factor.remaining_recovery_codes(db.session.get(User, admin.id)) == 9


def test_pending_session_expires(client, make_user, monkeypatch):
    admin = make_user("admin", email="admin@example.org")
    enrol(admin)
    _login(client, "admin@example.org")
    record = db.session.scalars(db.select(UserSession).where(UserSession.user_id == admin.id)).one()
    record.created_at = record.created_at.replace(year=2000)
    db.session.commit()
    response = client.post("/connexion/code", data={"code": current_code(admin)})
    assert response.headers["Location"].startswith("/connexion")
    assert not _logged_in(client)


def _stale(user):
    """The session's last confirmation is older than FRESH_AUTH_MINUTES."""
    for record in db.session.scalars(db.select(UserSession).where(UserSession.user_id == user.id)):
        record.fresh_at = record.fresh_at.replace(year=2000) if record.fresh_at else None
    db.session.commit()


def _confirm(client, user, password=PASSWORD, code=None):
    return client.post("/compte/confirmation", data={"password": password, "code": code or current_code(user),
                                                     "next": "/admin/utilisateurs"})


def test_creating_a_referent_account_asks_password_and_code_again(app, client, make_user, login):
    admin = make_user("admin", email="admin@example.org")
    enrol(admin)
    login(client, admin)
    _stale(admin)
    data = {"email": "new.referent@example.org", "full_name": "Nouveau", "role": "antifraud_referent",
            "operations": ""}
    response = client.post("/admin/utilisateurs", data=data)
    assert response.headers["Location"].startswith("/compte/confirmation")
    assert db.session.scalar(db.select(User).where(User.email == "new.referent@example.org")) is None
    assert _confirm(client, admin, password="wrong password!!").status_code == 400
    assert _confirm(client, admin).headers["Location"] == "/admin/utilisateurs"
    assert client.post("/admin/utilisateurs", data=data).status_code == 200
    assert db.session.scalar(db.select(User).where(User.email == "new.referent@example.org")) is not None
    # A finance officer's account needs no confirmation.
    _stale(admin)
    data.update(email="fo@example.org", role="finance_officer")
    assert client.post("/admin/utilisateurs", data=data).status_code == 200


def test_re_enabling_an_admin_asks_for_confirmation(app, client, make_user, login):
    admin = make_user("admin", email="admin@example.org")
    enrol(admin)
    other = make_user("admin", email="other@example.org", active=False)
    login(client, admin)
    _stale(admin)
    response = client.post(f"/admin/utilisateurs/{other.id}/etat", data={"active": "1"})
    assert response.headers["Location"].startswith("/compte/confirmation")
    assert db.session.get(User, other.id).active is False
    _confirm(client, admin)
    client.post(f"/admin/utilisateurs/{other.id}/etat", data={"active": "1"})
    assert db.session.get(User, other.id).active is True


def test_approving_an_amendment_asks_for_confirmation(app, client, make_user, make_operation, login):
    from budget_app.operations.models import AmendmentRequest

    admin = make_user("admin", email="admin@example.org")
    enrol(admin)
    operation = make_operation("OP-1")
    pending = AmendmentRequest(operation_id=operation.id, state="pending", payload="{}")
    db.session.add(pending)
    db.session.commit()
    login(client, admin)
    _stale(admin)
    response = client.post(f"/operations/OP-1/avenants/{pending.id}/decision", data={"action": "approve"})
    assert response.headers["Location"].startswith("/compte/confirmation")
    assert db.session.get(AmendmentRequest, pending.id).state == "pending"


@pytest.mark.parametrize("role", ["admin", "antifraud_referent"])
def test_required_second_factor_cannot_be_turned_off(client, make_user, login, role):
    user = make_user(role, email="someone@example.org")
    enrol(user)
    login(client, user)
    client.post("/compte/double-authentification", data={"action": "disable"})
    assert second_factor.enabled(db.session.get(User, user.id))


def test_reset_second_factor_command(runner, make_user):
    admin = make_user("admin", email="admin@example.org")
    enrol(admin)
    result = runner.invoke(args=["users", "reset-second-factor", "admin@example.org"])
    assert result.exit_code == 0, result.output
    assert not second_factor.enabled(db.session.get(User, admin.id))

"""A filing wraps the new alert's content key for exactly the holders of the keyring's rules
(issue 27 reads them in one query: ``keyring.holders``): every active, granted referent with
a key pair, the recovery key, the server key only in the transition, and the reporter —
never a referent not granted, disabled, or no longer a referent."""
from datetime import datetime, timezone

from budget_app.accounts.models import User
from budget_app.alerts import keyring
from budget_app.alerts.key_models import RECOVERY, REFERENT, REPORTER, SERVER, AlertKeyWrap, ReferentKey
from budget_app.kernel import keybox
from budget_app.kernel.extensions import db

from .factories import PDF, file_alert


def _wraps(alert) -> set[tuple[str, int | None]]:
    return {(wrap.holder, wrap.user_id) for wrap in db.session.scalars(
        db.select(AlertKeyWrap).where(AlertKeyWrap.alert_id == alert.id))}


def _key_row(user) -> ReferentKey:
    row = db.session.get(ReferentKey, user.id)  # made with the account, or at its first login
    if row is None:
        row = ReferentKey(user_id=user.id)
        db.session.add(row)
    return row


def _key_pair(user, granted=True, legacy=False) -> None:
    row = _key_row(user)
    row.public_key = keybox.new_keypair()[1]
    row.legacy_pending, row.granted_at = legacy, datetime.now(timezone.utc) if granted else None


def _the_four_queries():
    """What the keyring's single-purpose readers say (the rules before issue 27)."""
    recovery = keyring.live_recovery_key()
    return ({row.user_id for row in keyring.granted_referents()},
            bytes(recovery.public_key) if recovery is not None else None, keyring.transition_open())


def _holders_say():
    holders = keyring.holders()
    return {user_id for user_id, _public in holders.referents}, holders.recovery, holders.server


def test_before_any_referent_the_server_key_holds_the_new_alert(app, operation):
    assert _holders_say() == _the_four_queries() == (set(), None, True)
    alert, _secret = file_alert(operation=operation)
    assert _wraps(alert) == {(SERVER, None), (REPORTER, None)}


def test_the_new_alert_is_wrapped_for_the_granted_active_referents_only(app, referent, make_user, login,
                                                                         operation):
    login(app.test_client(), referent)  # the first referent: granted, the recovery key made
    granted = make_user("antifraud_referent", email="granted@example.org")
    waiting = make_user("antifraud_referent", email="waiting@example.org")
    gone = make_user("antifraud_referent", email="gone@example.org")
    moved = make_user("antifraud_referent", email="moved@example.org")
    for user in (granted, gone, moved):
        _key_pair(user)
    _key_pair(waiting, granted=False)
    gone.active = False
    moved.role = "finance_officer"  # a key row left from when they were a referent
    db.session.commit()
    assert _holders_say() == _the_four_queries()
    assert _holders_say()[0] == {referent.id, granted.id} and _holders_say()[2] is False

    alert, _secret = file_alert(operation=operation, attachments=[("preuve.pdf", PDF)])
    assert _wraps(alert) == {(REFERENT, referent.id), (REFERENT, granted.id), (RECOVERY, None), (REPORTER, None)}


def test_a_referent_of_before_still_pending_keeps_the_server_wrap(app, referent, make_user, login, operation):
    login(app.test_client(), referent)
    old = make_user("antifraud_referent", email="old@example.org")
    row = _key_row(old)
    row.public_key, row.legacy_pending, row.granted_at = None, True, datetime.now(timezone.utc)
    db.session.commit()
    assert _holders_say() == _the_four_queries() == ({referent.id}, _holders_say()[1], True)
    alert, _secret = file_alert(operation=operation)
    assert _wraps(alert) == {(REFERENT, referent.id), (RECOVERY, None), (SERVER, None), (REPORTER, None)}
    db.session.get(User, old.id).active = False  # pending, but disabled: not counted
    db.session.commit()
    assert _holders_say()[2] is False and _the_four_queries()[2] is False

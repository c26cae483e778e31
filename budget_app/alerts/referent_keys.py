"""Each referent's key pair, access grants and the organisation's recovery key (the model is
told in ``keyring``). Answers the accounts hooks (``ACCOUNT_HOOKS``, wired by ``create_app``).

- At a referent's login (password verified): their private key is opened with the password
  (argon2id) into the session's vault, or a key pair is made on their first login.
- Once the session is open (second factor given), a referent granted access receives the
  alerts waiting under the server key (migration 0019's transition) and converts the
  alerts of before; the very first referent (no recovery key, nobody granted) is granted
  and the recovery key is made, its private part shown once.
- A password change re-encrypts the private key; a password set through a set-up link
  loses it: the referent reads nothing until another referent grants access again.
"""
import base64
from datetime import datetime, timezone

from flask import current_app, g, has_app_context
from sqlalchemy import select

from ..accounts import hooks as account_hooks
from ..accounts import sessions
from ..accounts.models import User
from ..accounts import second_factor
from ..accounts.policy import alert_readers
from ..kernel import keybox
from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.i18n import N_
from ..kernel.transactions import atomic
from . import crypto, journal, keyring, legacy
from .key_models import RECOVERY, REFERENT, AlertKeyWrap, RecoveryKey, ReferentKey

RECOVERY_NOTICE = "recovery_key"


def _now():
    return datetime.now(timezone.utc)


def _purpose(user_id: int) -> str:
    return f"referent-private-key:{user_id}"


def _password_key(password: str, salt: bytes) -> bytes:
    return keybox.password_key(password, bytes(salt), testing=bool(current_app.config.get("TESTING")))


def _lock_private(row: ReferentKey, private: bytes, password: str) -> None:
    row.kdf_salt = keybox.random_key()[:16]
    row.private_enc = keybox.lock(_password_key(password, row.kdf_salt), private, _purpose(row.user_id))


def key_row(user_id: int) -> ReferentKey | None:
    return db.session.get(ReferentKey, user_id)


def on_password_check(user: User, password: str) -> bool | None:
    """At login, a referent's password is checked by opening their private key (authenticated
    encryption: only the right password opens it) — one argon2id derivation (64 MiB, 3 passes)
    instead of the stored hash and then the derivation; the key opened is kept for this
    request (``open_private_key``). None (the stored hash decides) when there is no key to
    open or it does not open."""
    if not keyring.reads_alerts(user):
        return None
    row = key_row(user.id)
    if row is None or row.public_key is None or row.private_enc is None:
        return None
    try:
        private = keybox.unlock(_password_key(password, row.kdf_salt), row.private_enc, _purpose(user.id))
    except keybox.KeyboxError:
        return None
    g.referent_private_opened = (user.id, private)
    return True


def open_private_key(user: User, password: str) -> bytes | None:
    """The referent's private key, opened with their password; a new key pair (granted
    nothing) on their first login or after their key was lost."""
    opened = g.pop("referent_private_opened", None) if has_app_context() else None
    if opened is not None and opened[0] == user.id:
        return opened[1]  # opened by this login's password check: not derived twice
    row = key_row(user.id)
    if row is not None and row.public_key is not None:
        try:
            return keybox.unlock(_password_key(password, row.kdf_salt), row.private_enc, _purpose(user.id))
        except keybox.KeyboxError:
            return None  # cannot happen through the application (password changes re-encrypt)
    if row is None:
        row = ReferentKey(user_id=user.id, legacy_pending=False)
        db.session.add(row)
    private, row.public_key = keybox.new_keypair()
    _lock_private(row, private, password)
    db.session.flush()
    return private


def _nobody_granted() -> bool:
    return keyring.live_recovery_key() is None and db.session.scalar(
        select(ReferentKey.user_id).where(ReferentKey.granted_at.is_not(None)).limit(1)) is None


def recovery_text(private: bytes) -> str:
    """32 bytes as base32 in groups of 4, to print and type back."""
    text = base64.b32encode(private).decode("ascii").rstrip("=")
    return "-".join(text[i:i + 4] for i in range(0, len(text), 4))


def recovery_bytes(text: str) -> bytes | None:
    cleaned = "".join(ch for ch in (text or "").upper() if ch.isalnum())
    try:
        raw = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except (ValueError, base64.binascii.Error):
        return None
    return raw if len(raw) == keybox.KEY else None


def settle(user: User, private: bytes | None) -> list[tuple[str, str]]:
    """After login: the first referent is granted (and the recovery key made); a referent
    granted access receives what waits under the server key. Returns notices to show once."""
    row = key_row(user.id)
    if row is None or private is None or not keyring.reads_alerts(user):
        return []
    notices = []
    if row.granted_at is None and _nobody_granted():
        row.granted_at = _now()
        journal.record(None, "access_granted", user=user, referent=user.id, how="first_referent")
    if row.granted_at is None:
        return []
    if keyring.live_recovery_key() is None:
        recovery_private, recovery_public = keybox.new_keypair()
        db.session.add(RecoveryKey(public_key=recovery_public))
        db.session.flush()
        journal.record(None, "recovery_key_created", user=user)
        notices.append((RECOVERY_NOTICE, recovery_text(recovery_private)))
        for wrap in db.session.scalars(select(AlertKeyWrap).where(AlertKeyWrap.holder == "server")).all():
            key = crypto.decrypt_bytes(wrap.wrapped)
            keyring.add_wrap(wrap.alert_id, RECOVERY, keybox.seal(recovery_public, key, keyring.purpose(wrap.alert_id)))
    row.legacy_pending = False
    received = 0
    for wrap in db.session.scalars(select(AlertKeyWrap).where(AlertKeyWrap.holder == "server")).all():
        if keyring.wrap_of(wrap.alert_id, REFERENT, user.id) is None:
            keyring.wrap_for_referent(wrap.alert_id, crypto.decrypt_bytes(wrap.wrapped), row)
            received += 1
    db.session.flush()
    converted = legacy.convert_all_legacy()
    if received or converted:
        journal.record(None, "access_received", user=user, referent=user.id, alerts=received + converted)
    legacy.retire_server_wraps()
    return notices


# ------------------------------------------------------------------ accounts' hooks

def on_password_verified(user: User, password: str, token: str | None):
    if not keyring.reads_alerts(user):
        return []
    private = open_private_key(user, password)
    if token is not None:
        sessions.vault_put(token, keyring.PRIVATE_KEY, private)
        return []
    return settle(user, private)  # a command: no session, settled at once


def on_session_started(user: User, token: str):
    if not keyring.reads_alerts(user):
        return []
    notices = settle(user, sessions.vault_get(token, keyring.PRIVATE_KEY))
    for kind, text in notices:
        if kind == RECOVERY_NOTICE:  # shown once on the referent's next page, from the vault
            sessions.vault_put(token, keyring.RECOVERY_ONCE, text.encode("ascii"))
    return notices


def on_password_changed(user: User, old: str, new: str):
    row = key_row(user.id)
    if row is None or row.public_key is None:
        return
    try:
        private = keybox.unlock(_password_key(old, row.kdf_salt), row.private_enc, _purpose(user.id))
    except keybox.KeyboxError:
        return
    _lock_private(row, private, new)


def on_password_reset(user: User):
    """A password set through a set-up link: the old private key cannot be opened any more,
    and whoever set it may not be the referent. Access starts again from nothing."""
    row = key_row(user.id)
    if row is None:
        return
    had_access = row.granted_at is not None
    db.session.execute(db.delete(AlertKeyWrap).where(AlertKeyWrap.holder == REFERENT,
                                                     AlertKeyWrap.user_id == user.id))
    row.public_key = row.private_enc = row.kdf_salt = None
    row.granted_at = row.granted_by = None
    row.legacy_pending = False
    journal.record(None, "access_lost", referent=user.id, had_access=had_access)


def on_account_event(user: User, event: str, actor=None):
    """The referents are told of every admin or referent account created, re-enabled or
    given a new set-up link (their page « Comptes et accès »)."""
    if second_factor.required_for(user):
        journal.record(None, f"account_{event}", user=actor, account=user.id, role=user.role)


# The accounts hooks this module answers (wired by ``create_app``'s ``HOOKS``).
ACCOUNT_HOOKS = (
    (account_hooks.password_check, on_password_check),
    (account_hooks.password_verified, on_password_verified),
    (account_hooks.session_started, on_session_started),
    (account_hooks.password_changed, on_password_changed),
    (account_hooks.password_reset, on_password_reset),
    (account_hooks.account_event, on_account_event),
)


# ------------------------------------------------------------------ grant, recover

def _grantee(user: User) -> ReferentKey:
    if user is None or not keyring.reads_alerts(user) or not user.active:
        raise DomainError(N_("Seul un compte de référent anti-fraude actif peut recevoir l'accès."))
    row = key_row(user.id)
    if row is None or row.public_key is None:
        raise DomainError(N_("%(who)s doit d'abord se connecter une fois (sa clé est créée à sa connexion)."),
                          who=user.display_name)
    return row


def _rewrap(source_holder: str, private: bytes, row: ReferentKey, source_user_id: int | None = None) -> int:
    query = select(AlertKeyWrap).where(AlertKeyWrap.holder == source_holder)
    if source_user_id is not None:
        query = query.where(AlertKeyWrap.user_id == source_user_id)
    count = 0
    for wrap in db.session.scalars(query).all():
        key = keybox.unseal(private, wrap.wrapped, keyring.purpose(wrap.alert_id))
        keyring.wrap_for_referent(wrap.alert_id, key, row)
        count += 1
    return count


@atomic
def grant_access(granter: User, grantee: User) -> int:
    """An existing referent re-wraps every alert key they hold for another referent."""
    if grantee is not None and grantee.id == granter.id:
        raise DomainError(N_("Vous ne pouvez pas vous accorder l'accès à vous-même."))
    row = _grantee(grantee)
    mine = key_row(granter.id)
    private = keyring.referent_private_key()
    if mine is None or mine.granted_at is None or private is None:
        raise DomainError(N_("Vous n'avez pas vous-même accès aux signalements."))
    count = _rewrap(REFERENT, private, row, source_user_id=granter.id)
    row.granted_at, row.granted_by = _now(), granter.id
    journal.record(None, "access_granted", user=granter, referent=grantee.id, alerts=count)
    return count


@atomic
def recover_access(grantee: User, recovery_key_text: str) -> int:
    """``flask alerts recover``: the organisation's recovery key re-wraps every alert key for
    a referent (when no referent with access is left)."""
    row = _grantee(grantee)
    recovery = keyring.live_recovery_key()
    private = recovery_bytes(recovery_key_text)
    if recovery is None or private is None or keybox.public_of(private) != bytes(recovery.public_key):
        raise DomainError(N_("Cette clé de secours n'est pas celle de l'organisation."))
    count = _rewrap(RECOVERY, private, row)
    row.granted_at, row.granted_by = _now(), None
    journal.record(None, "access_recovered", referent=grantee.id, alerts=count)
    return count


def referents_access() -> list[tuple[User, ReferentKey | None]]:
    """Every referent account and their key state (the page « Comptes et accès »)."""
    users = db.session.scalars(select(User).where(alert_readers()).order_by(User.email)).all()
    return [(user, key_row(user.id)) for user in users]

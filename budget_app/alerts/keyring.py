"""Keys per referent (GlobaLeaks' model; CHECKLIST §5 « The admin is not a referent »).

Each alert has a random **content key** that encrypts everything the reporter and the
referents write (``crypto``). It is stored only *wrapped* (``AlertKeyWrap``):

- for each referent granted access: sealed to their X25519 public key; their private key
  is encrypted under their password (argon2id), opened at login into the session's vault
  (``accounts.sessions``: under a key that only the cookie carries);
- for the organisation's recovery key (public part in the database, private part printed
  once and kept offline: ``flask alerts recover``);
- for the reporter: under a key derived from the follow-up secret (only its hash is kept).

The public files alerts without any password: sealing needs only public keys. The server
key alone opens nothing; an admin who gives an account the referent role, or resets a
referent's password through a set-up link, gets a key pair that no alert is wrapped for
until an existing referent grants access (``referent_keys.grant_access``).

Content keys opened during a request are kept in ``g`` for that request only.
"""
import os
from dataclasses import dataclass

from flask import g, has_request_context
from flask_login import current_user
from sqlalchemy import select

from ..accounts import sessions
from ..accounts.models import User
from ..accounts.policy import alert_readers, may
from ..kernel import keybox
from ..kernel.extensions import db
from . import crypto
from .key_models import REFERENT, RECOVERY, REPORTER, SERVER, AlertKeyWrap, RecoveryKey, ReferentKey

PRIVATE_KEY = "alerts.referent_private_key"
RECOVERY_ONCE = "alerts.recovery_key_once"


class AlertLocked(Exception):
    """The current user holds no key of this alert (not granted yet, or not a referent)."""


def purpose(alert_id: int) -> str:
    return f"alert-content-key:{alert_id}"


def _cache() -> dict:
    return g.setdefault("alert_content_keys", {})


def remember(alert, key: bytes) -> None:
    _cache()[alert.id] = key


def referent_private_key() -> bytes | None:
    """The logged-in referent's private key, from their session's vault (None on the public
    channel, where the staff session is ignored)."""
    if not has_request_context() or g.get("alerts_public_channel"):
        return None
    if not current_user.is_authenticated or not reads_alerts(current_user):
        return None
    return sessions.vault_get(sessions.current_token(), PRIVATE_KEY)


def reads_alerts(user) -> bool:
    """The anti-fraud referent's role (the access policy decides who reads alerts)."""
    return may("alerts.detail", user=user)


def wrap_of(alert_id: int, holder: str, user_id: int | None = None) -> AlertKeyWrap | None:
    query = select(AlertKeyWrap).where(AlertKeyWrap.alert_id == alert_id, AlertKeyWrap.holder == holder)
    if user_id is not None:
        query = query.where(AlertKeyWrap.user_id == user_id)
    return db.session.scalars(query.order_by(AlertKeyWrap.id.desc())).first()


def content_key(alert) -> bytes:
    """The content key of ``alert`` for the current request, else ``AlertLocked``."""
    key = _cache().get(alert.id)
    if key is not None:
        return key
    private = referent_private_key()
    wrap = wrap_of(alert.id, REFERENT, current_user.id) if private is not None and alert.sealed else None
    if wrap is None:
        raise AlertLocked(alert.id)
    try:
        key = keybox.unseal(private, wrap.wrapped, purpose(alert.id))
    except keybox.KeyboxError as exc:
        raise AlertLocked(alert.id) from exc
    remember(alert, key)
    return key


def may_open(alert) -> bool:
    try:
        content_key(alert)
    except AlertLocked:
        return False
    return True


def add_wrap(alert_id: int, holder: str, wrapped: bytes, user_id: int | None = None, salt: bytes | None = None):
    if holder == REFERENT:  # one wrap per referent and alert: a new grant replaces the old one
        db.session.execute(db.delete(AlertKeyWrap).where(
            AlertKeyWrap.alert_id == alert_id, AlertKeyWrap.holder == REFERENT, AlertKeyWrap.user_id == user_id))
    db.session.add(AlertKeyWrap(alert_id=alert_id, holder=holder, user_id=user_id, wrapped=wrapped, salt=salt))


def wrap_for_referent(alert_id: int, key: bytes, referent: ReferentKey) -> None:
    add_wrap(alert_id, REFERENT, keybox.seal(referent.public_key, key, purpose(alert_id)), user_id=referent.user_id)


def live_recovery_key() -> RecoveryKey | None:
    return db.session.scalars(select(RecoveryKey).order_by(RecoveryKey.id.desc())).first()


def granted_referents() -> list[ReferentKey]:
    """Referents granted access, with a key pair, whose account is active."""
    return db.session.scalars(
        select(ReferentKey).join(User, User.id == ReferentKey.user_id)
        .where(ReferentKey.granted_at.is_not(None), ReferentKey.public_key.is_not(None), User.active.is_(True),
               alert_readers())
    ).all()


def transition_open() -> bool:
    """Content keys also go under the server key while no recovery key exists yet (no referent
    was ever set up) or a referent of before keys per referent has not logged in since."""
    if live_recovery_key() is None:
        return True
    return db.session.scalar(
        select(ReferentKey.user_id).join(User, User.id == ReferentKey.user_id)
        .where(ReferentKey.legacy_pending.is_(True), User.active.is_(True)).limit(1)
    ) is not None


def wrap_for_holders(alert, key: bytes) -> None:
    """Wraps ``key`` for every granted referent, the recovery key and, in the transition,
    the server key (never for a referent not granted)."""
    for referent in granted_referents():
        wrap_for_referent(alert.id, key, referent)
    recovery = live_recovery_key()
    if recovery is not None:
        add_wrap(alert.id, RECOVERY, keybox.seal(recovery.public_key, key, purpose(alert.id)))
    if transition_open():
        add_wrap(alert.id, SERVER, crypto.encrypt_bytes(key))


@dataclass(frozen=True)
class Holders:
    """Who a new alert's content key is wrapped for, read once per filing: the granted
    referents' public keys, the recovery key's, and whether the server key holds it too."""

    referents: tuple[tuple[int, bytes], ...]
    recovery: bytes | None
    server: bool


def holders() -> Holders:
    """The holders of ``wrap_for_holders`` in one query (what ``granted_referents``,
    ``live_recovery_key`` and ``transition_open`` read in four), read at each filing: a
    grant, a lost key or a disabled account counts from the next filing on, on every server."""
    recovery_key = select(RecoveryKey.public_key).order_by(RecoveryKey.id.desc()).limit(1).scalar_subquery()
    rows = db.session.execute(
        select(recovery_key, ReferentKey.user_id, ReferentKey.public_key, ReferentKey.granted_at.is_not(None),
               ReferentKey.legacy_pending, alert_readers())
        .join(User, User.id == ReferentKey.user_id).where(User.active.is_(True)).order_by(ReferentKey.user_id)
    ).all()
    if rows:
        recovery = rows[0][0]
    else:  # no active referent has a key yet
        recovery = db.session.scalar(select(recovery_key))
    return Holders(
        referents=tuple((user_id, bytes(public)) for _r, user_id, public, granted, _legacy, reader in rows
                        if granted and reader and public is not None),
        recovery=bytes(recovery) if recovery is not None else None,
        server=recovery is None or any(legacy for _r, _user, _public, _granted, legacy, _reader in rows),
    )


def _reporter_key(secret: str, salt: bytes) -> bytes:
    # The follow-up secret has ≈157 random bits: HKDF suffices (no password stretching).
    return keybox.derived_key(secret.strip().encode("utf-8"), "alert-reporter", salt=salt)


def new_content_key() -> bytes:
    return crypto.generate_key()


def seal_new_alert(alert, key: bytes, follow_up_secret: str, to: Holders) -> None:
    """Wraps a new alert's content key (the alert flushed, so it has an id: each wrap names
    it) for its holders ``to`` and the reporter, and keeps it for this request. The wraps
    are only added (a new alert has none to replace): the caller's flush writes them at once."""
    purpose_ = purpose(alert.id)
    wraps = [AlertKeyWrap(alert_id=alert.id, holder=REFERENT, user_id=user_id,
                          wrapped=keybox.seal(public, key, purpose_)) for user_id, public in to.referents]
    if to.recovery is not None:
        wraps.append(AlertKeyWrap(alert_id=alert.id, holder=RECOVERY, wrapped=keybox.seal(to.recovery, key, purpose_)))
    if to.server:
        wraps.append(AlertKeyWrap(alert_id=alert.id, holder=SERVER, wrapped=crypto.encrypt_bytes(key)))
    salt = os.urandom(16)
    wraps.append(AlertKeyWrap(alert_id=alert.id, holder=REPORTER, salt=salt,
                              wrapped=keybox.lock(_reporter_key(follow_up_secret, salt), key, purpose_)))
    db.session.add_all(wraps)
    remember(alert, key)


def reporter_content_key(alert, secret: str) -> bytes | None:
    """The content key opened with the follow-up secret (None if it does not open it)."""
    wrap = wrap_of(alert.id, REPORTER)
    if wrap is None or wrap.salt is None:
        return None
    try:
        return keybox.unlock(_reporter_key(secret, bytes(wrap.salt)), wrap.wrapped, purpose(alert.id))
    except keybox.KeyboxError:
        return None


def wrap_for_reporter(alert, key: bytes, secret: str) -> None:
    salt = os.urandom(16)
    add_wrap(alert.id, REPORTER, keybox.lock(_reporter_key(secret, salt), key, purpose(alert.id)), salt=salt)

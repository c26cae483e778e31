"""Server-side record of each login: logout, a password change or disabling the account
ends it, so a copied cookie stops working (the signed cookie alone cannot be revoked).
Idle and absolute lifetimes: ``SESSION_IDLE_MINUTES``, ``SESSION_MAX_HOURS`` (ASVS 3.3.2).

A session whose password was given but not yet its second factor is *pending*: it opens no
page but the code's (``pending_user``), for ``SECOND_FACTOR_MINUTES`` at most.

The **vault** of a session holds what was opened at login (the referent's private key),
encrypted under a key derived (HKDF) from the cookie's token; the database keeps only the
token's SHA-256, so the database alone cannot open it and the cookie alone holds nothing to
open. Ending the session (logout, expiry, password change, account disabled) empties it."""
import hashlib
import json
import secrets
from base64 import b64decode, b64encode
from datetime import datetime, timedelta, timezone

from flask import current_app, session
from sqlalchemy import select, update

from ..kernel import keybox
from ..kernel.integers import parse_id
from ..kernel.extensions import db
from .models import User, UserSession

SECOND_FACTOR_MINUTES = 5
VAULT_PURPOSE = "session-vault"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def start_session(user: User, pending: bool = False) -> str:
    """A new random session identifier at every login (ASVS 3.2.1); returns the token for the
    cookie. ``pending``: the second factor is still to be given."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(timezone.utc)
    end_expired_sessions(now)
    db.session.add(UserSession(user_id=user.id, token_hash=_token_hash(token), created_at=now, last_seen_at=now,
                               second_factor_pending=pending, fresh_at=None if pending else now))
    if not pending:
        user.last_login_at = now
    db.session.flush()
    return token


def _record(token: str | None) -> UserSession | None:
    if not isinstance(token, str) or not token:
        return None
    return db.session.scalar(
        select(UserSession).where(UserSession.token_hash == _token_hash(token), UserSession.ended_at.is_(None))
    )


def pending_user(token: str | None) -> User | None:
    """The user of a live pending session (password given, code not yet), else None."""
    record = _record(token)
    if record is None or not record.second_factor_pending:
        return None
    now = datetime.now(timezone.utc)
    if now - _aware(record.created_at) > timedelta(minutes=SECOND_FACTOR_MINUTES):
        record.ended_at, record.end_reason, record.vault = now, "expired", None
        return None
    user = db.session.get(User, record.user_id)
    return user if user is not None and user.active else None


def complete_second_factor(token: str) -> None:
    """The code was right: the pending session becomes a full one, fresh."""
    record = _record(token)
    now = datetime.now(timezone.utc)
    record.second_factor_pending = False
    record.fresh_at = record.last_seen_at = now
    record.user.last_login_at = now


def current_token() -> str | None:
    """The token of this request's session (full or pending)."""
    token = session.get("sid") or session.get("pending_sid")
    return token if isinstance(token, str) else None


def mark_fresh(token: str) -> None:
    record = _record(token)
    if record is not None:
        record.fresh_at = datetime.now(timezone.utc)


def is_fresh(token: str | None, minutes: int) -> bool:
    record = _record(token)
    if record is None or record.fresh_at is None or record.second_factor_pending:
        return False
    return datetime.now(timezone.utc) - _aware(record.fresh_at) <= timedelta(minutes=minutes)


def _vault_key(token: str) -> bytes:
    return keybox.derived_key(token.encode("ascii"), VAULT_PURPOSE)


def _vault_items(record: UserSession, token: str) -> dict:
    if record.vault is None:
        return {}
    try:
        return json.loads(keybox.unlock(_vault_key(token), record.vault, VAULT_PURPOSE + record.token_hash))
    except keybox.KeyboxError:
        return {}


def vault_put(token: str | None, name: str, value: bytes | None) -> None:
    """Keeps ``value`` (None removes it) in the vault of the session named by ``token``."""
    record = _record(token)
    if record is None:
        return
    items = _vault_items(record, token)
    if value is None:
        items.pop(name, None)
    else:
        items[name] = b64encode(value).decode("ascii")
    record.vault = keybox.lock(_vault_key(token), json.dumps(items).encode(), VAULT_PURPOSE + record.token_hash) \
        if items else None


def vault_get(token: str | None, name: str) -> bytes | None:
    record = _record(token)
    if record is None or record.second_factor_pending:
        return None
    value = _vault_items(record, token).get(name)
    return None if value is None else b64decode(value)


def end_expired_sessions(now: datetime) -> None:
    """Sessions past their idle or absolute limit end and their vault is emptied, even if
    their cookie never comes back (run at each login)."""
    idle = now - timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    oldest = now - timedelta(hours=current_app.config["SESSION_MAX_HOURS"])
    db.session.execute(
        update(UserSession)
        .where(UserSession.ended_at.is_(None), (UserSession.last_seen_at < idle) | (UserSession.created_at < oldest))
        .values(ended_at=now, end_reason="expired", vault=None)
    )


def end_session(token: str | None, reason: str) -> None:
    if not token:
        return
    db.session.execute(
        update(UserSession)
        .where(UserSession.token_hash == _token_hash(token), UserSession.ended_at.is_(None))
        .values(ended_at=datetime.now(timezone.utc), end_reason=reason, vault=None)
    )


def end_all_sessions(user: User, reason: str) -> None:
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=datetime.now(timezone.utc), end_reason=reason, vault=None)
    )


def _aware(moment: datetime) -> datetime:
    # SQLite returns naive datetimes; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def user_for_session(user_id: str, token: str | None) -> User | None:
    """The user of a live session, or None: ended, idle too long, too old, or account disabled.
    The record's expiry and last activity are written with the request's commit."""
    user_number = parse_id(str(user_id))
    if not token or user_number is None:
        return None
    # The record and its user in one query (every request of a signed-in user reads both).
    found = db.session.execute(
        select(UserSession, User).join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == _token_hash(token), UserSession.ended_at.is_(None))
    ).first()
    if found is None:
        return None
    record, user = found
    if record.user_id != user_number or record.second_factor_pending:
        return None
    now = datetime.now(timezone.utc)
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    maximum = timedelta(hours=current_app.config["SESSION_MAX_HOURS"])
    if now - _aware(record.last_seen_at) > idle or now - _aware(record.created_at) > maximum:
        record.ended_at, record.end_reason, record.vault = now, "expired", None  # committed with the request
        return None
    if not user.active:
        return None
    # Written at most once a minute: enough for the idle limit, light on the database.
    if now - _aware(record.last_seen_at) > timedelta(seconds=60):
        record.last_seen_at = now
    return user

"""Server-side record of each login: logout, a password change or disabling the account
ends it, so a copied cookie stops working (the signed cookie alone cannot be revoked).
Idle and absolute lifetimes: ``SESSION_IDLE_MINUTES``, ``SESSION_MAX_HOURS`` (ASVS 3.3.2)."""
import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import select, update

from ..kernel.integers import parse_id
from ..kernel.extensions import db
from .models import User, UserSession


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def start_session(user: User) -> str:
    """A new random session identifier at every login (ASVS 3.2.1); returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(timezone.utc)
    db.session.add(UserSession(user_id=user.id, token_hash=_token_hash(token), created_at=now, last_seen_at=now))
    user.last_login_at = now
    return token


def end_session(token: str | None, reason: str) -> None:
    if not token:
        return
    db.session.execute(
        update(UserSession)
        .where(UserSession.token_hash == _token_hash(token), UserSession.ended_at.is_(None))
        .values(ended_at=datetime.now(timezone.utc), end_reason=reason)
    )


def end_all_sessions(user: User, reason: str) -> None:
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=datetime.now(timezone.utc), end_reason=reason)
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
    record = db.session.scalar(
        select(UserSession).where(UserSession.token_hash == _token_hash(token), UserSession.ended_at.is_(None))
    )
    if record is None or record.user_id != user_number:
        return None
    now = datetime.now(timezone.utc)
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    maximum = timedelta(hours=current_app.config["SESSION_MAX_HOURS"])
    if now - _aware(record.last_seen_at) > idle or now - _aware(record.created_at) > maximum:
        record.ended_at, record.end_reason = now, "expired"  # committed with the request
        return None
    user = db.session.get(User, record.user_id)
    if user is None or not user.active:
        return None
    # Written at most once a minute: enough for the idle limit, light on the database.
    if now - _aware(record.last_seen_at) > timedelta(seconds=60):
        record.last_seen_at = now
    return user

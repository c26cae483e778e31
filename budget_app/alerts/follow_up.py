"""Reporters' follow-up sessions, kept on the server (``FollowUpSession``): the cookie holds
only a random token, stored here as a SHA-256 hash. "Terminer", idle expiry and the
absolute limit delete the row, so a copied or replayed cookie reads nothing; activity
extends the idle limit, never past ``ALERT_FOLLOW_UP_MAX_MINUTES`` after the login.

The alert's content key, opened with the secret at login, is kept in the row under a key
derived from the cookie's token (``key_enc``): neither the row nor the cookie alone opens it."""
import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import delete, select

from ..kernel import keybox
from ..kernel.extensions import db
from . import keyring
from .models import Alert, FollowUpSession

PURPOSE = "follow-up-session"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _idle() -> timedelta:
    return timedelta(minutes=current_app.config["ALERT_FOLLOW_UP_IDLE_MINUTES"])


def _maximum() -> timedelta:
    return timedelta(minutes=current_app.config["ALERT_FOLLOW_UP_MAX_MINUTES"])


def remove_expired(now: datetime | None = None) -> None:
    db.session.execute(delete(FollowUpSession).where(FollowUpSession.expires_at < (now or _now())))


def _key(token: str) -> bytes:
    return keybox.derived_key(token.encode("ascii"), PURPOSE)


def start_session(alert: Alert, content_key: bytes | None) -> str:
    """A new follow-up session for ``alert``; returns the token for the cookie."""
    now = _now()
    remove_expired(now)
    token = secrets.token_urlsafe(32)
    key_enc = keybox.lock(_key(token), content_key, PURPOSE) if content_key else None
    db.session.add(FollowUpSession(token_hash=_hash(token), alert_id=alert.id, created_at=now,
                                   expires_at=now + min(_idle(), _maximum()), key_enc=key_enc))
    return token


def alert_of_session(token: str) -> Alert | None:
    """The alert of a live session, else None (and the dead session is deleted)."""
    if not token:
        return None
    record = db.session.scalar(select(FollowUpSession).where(FollowUpSession.token_hash == _hash(token)))
    if record is None:
        return None
    now = _now()
    alert = db.session.get(Alert, record.alert_id)
    if _aware(record.expires_at) <= now or alert is None or alert.secret_hash is None:
        db.session.delete(record)
        return None
    record.expires_at = min(now + _idle(), _aware(record.created_at) + _maximum())
    if record.key_enc is not None:
        try:
            keyring.remember(alert, keybox.unlock(_key(token), record.key_enc, PURPOSE))
        except keybox.KeyboxError:
            pass
    return alert


def end_session(token: str) -> None:
    db.session.execute(delete(FollowUpSession).where(FollowUpSession.token_hash == _hash(token)))


def end_sessions_of(alert: Alert) -> None:
    db.session.execute(delete(FollowUpSession).where(FollowUpSession.alert_id == alert.id))

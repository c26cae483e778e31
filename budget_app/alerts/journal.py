"""The referent's own log of alert events (``AlertLogEntry``). Alert events never go to the
general audit trail (read by admins and auditors, append-only): no reference, alert id,
transmission target or link between a cost line and an alert is written there.

On the public channel the actor is always "public", whoever is logged in in the browser
(the public views also hide the logged-in account, see ``views.public``)."""
from flask import g, has_request_context
from flask_login import current_user

from ..kernel.audit.services import json_value
from ..kernel.extensions import db
from .models import AlertLogEntry


def public_channel() -> bool:
    return has_request_context() and bool(g.get("alerts_public_channel"))


def _actor(user) -> tuple[int | None, str]:
    if public_channel():
        return None, "public"
    if user is None and has_request_context() and current_user and current_user.is_authenticated:
        user = current_user
    if user is not None and getattr(user, "id", None) is not None:
        return user.id, f"user:{user.id}"
    if has_request_context():
        return None, "public"
    return None, "cli"


def record(alert, action: str, user=None, **details) -> AlertLogEntry:
    """Adds an event to the alert's log, in the current transaction. ``details`` hold no
    contents (states, amounts, line ids), never what the reporter wrote."""
    user_id, actor = _actor(user)
    entry = AlertLogEntry(
        alert_id=getattr(alert, "id", None),
        actor=actor,
        user_id=user_id,
        action=action,
        details={key: json_value(value) for key, value in details.items()} or None,
    )
    db.session.add(entry)
    return entry


def entries_of(alert) -> list[AlertLogEntry]:
    return db.session.scalars(
        db.select(AlertLogEntry).where(AlertLogEntry.alert_id == alert.id).order_by(AlertLogEntry.id)
    ).all()

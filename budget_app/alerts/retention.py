"""Keeping alerts no longer than needed: the personal data of closed alerts is purged
after ``ALERT_RETENTION_DAYS`` (CNIL guidance on professional alerts); the encryption
key can be rotated (every value and file re-encrypted)."""
from datetime import datetime, timedelta

from sqlalchemy import select

from ..kernel.extensions import db
from . import crypto, deadlines, files, follow_up, journal
from .filing import events_of, utcnow
from .key_models import SERVER, AlertKeyWrap
from .models import (
    CLOSED_STATES,
    Alert,
    AlertAttachment,
    AlertCostLine,
    AlertEvent,
    AlertMessage,
)



def purge_closed_alerts(retention_days: int, now: datetime | None = None) -> list[Alert]:
    """Deletes the personal data of alerts closed more than ``retention_days`` ago: facts,
    identities, messages, attachments (files overwritten), reasons, the secret. The record
    stays: reference, kind, operation, states and dates, amounts, recipient."""
    now = now or utcnow()
    limit = deadlines.local_day(now) - timedelta(days=retention_days)
    alerts = db.session.scalars(
        select(Alert).where(Alert.purged_at.is_(None), Alert.state.in_(CLOSED_STATES), Alert.closed_on <= limit)
    ).all()
    for alert in alerts:
        for attachment in list(alert.attachments):
            files.remove_file(attachment.stored_name)
            db.session.delete(attachment)
        for message in alert.messages:
            message.body_enc = None
        for event in events_of(alert):
            event.reason_enc = None
        for link in alert.cost_lines:
            link.lift_reason = None
        alert.content_enc = None
        alert.identity_enc = None
        alert.transmission_enc = None
        alert.secret_hash = None
        follow_up.end_sessions_of(alert)
        # Nothing is left to open: every wrapped content key goes too.
        db.session.execute(db.delete(AlertKeyWrap).where(AlertKeyWrap.alert_id == alert.id))
        alert.purged_at = now
        db.session.flush()
        # The referent's own log only (no application log line: it would date an alert).
        journal.record(alert, "purged", closed_on=alert.closed_on)
    return alerts


ENCRYPTED_COLUMNS = (
    (Alert, ("content_enc", "identity_enc", "transmission_enc")),
    (AlertMessage, ("body_enc",)),
    (AlertAttachment, ("meta_enc",)),
    (AlertCostLine, ("lift_reason",)),
    (AlertEvent, ("reason_enc",)),
)


def reencrypt_all(old_and_new) -> int:
    """Re-encrypts every encrypted column and file with the first key of ``old_and_new``
    (a MultiFernet that also holds the old keys). Returns the number of values rewritten."""
    try:
        return _reencrypt_all(old_and_new)
    except crypto.invalid_token() as exc:
        raise crypto.AlertKeyError("some alert data cannot be decrypted with the configured key") from exc


def _reencrypt_all(old_and_new) -> int:
    count = 0
    for model, columns in ENCRYPTED_COLUMNS:
        for row in db.session.scalars(select(model)).all():
            for column in columns:
                value = getattr(row, column)
                if value is not None:
                    setattr(row, column, old_and_new.rotate(bytes(value)))
                    count += 1
    for attachment in db.session.scalars(select(AlertAttachment)).all():
        stored = files.read_encrypted(attachment.stored_name)
        if stored is not None:
            files.replace_encrypted(attachment.stored_name, old_and_new.rotate(stored))
            count += 1
    # Content keys still under the server key (transition from before keys per referent).
    for wrap in db.session.scalars(select(AlertKeyWrap).where(AlertKeyWrap.holder == SERVER)).all():
        wrap.wrapped = old_and_new.rotate(bytes(wrap.wrapped))
        count += 1
    db.session.flush()
    return count

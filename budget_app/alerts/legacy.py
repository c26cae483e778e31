"""Alerts filed before keys per referent (migration 0019): their contents were under the
server key alone. Converting one needs no password: a new content key is made, every value
and file is re-encrypted under it (inside the server layer), and the key is wrapped for its
holders (``keyring.wrap_for_holders``: granted referents, the recovery key and, while some
referent of before has not logged in, the server key). Run at the login of a referent
granted access, at a reporter's follow-up, and by ``alerts rotate-key``.

When every referent of before has logged in (and a recovery key exists), the content keys
kept under the server key are deleted (``retire_server_wraps``): from then on the server
key opens nothing (rotate it, ``alerts rotate-key``, so that the old one, which opens the
older backups, is kept only with them)."""
import logging

from sqlalchemy import select

from ..kernel.extensions import db
from . import crypto, files, journal, keyring
from .key_models import SERVER, AlertKeyWrap
from .models import Alert, AlertAttachment
from .retention import ENCRYPTED_COLUMNS

log = logging.getLogger("budget_app.alerts")


def _rows_of(alert, model):
    if model is Alert:
        return [alert]
    return db.session.scalars(select(model).where(model.alert_id == alert.id)).all()


def convert_legacy_alert(alert) -> None:
    key = crypto.generate_key()
    for model, columns in ENCRYPTED_COLUMNS:
        for row in _rows_of(alert, model):
            for column in columns:
                value = getattr(row, column)
                if value is not None:
                    setattr(row, column, crypto.encrypt_for(key, crypto.decrypt_bytes(value)))
    for attachment in _rows_of(alert, AlertAttachment):
        stored = files.read_encrypted(attachment.stored_name)
        if stored is not None:
            files.replace_encrypted(attachment.stored_name, crypto.encrypt_for(key, crypto.decrypt_bytes(stored)))
    alert.sealed = True
    db.session.flush()
    keyring.wrap_for_holders(alert, key)
    keyring.remember(alert, key)


def convert_all_legacy() -> int:
    alerts = db.session.scalars(select(Alert).where(Alert.sealed.is_(False)).order_by(Alert.id)).all()
    for alert in alerts:
        convert_legacy_alert(alert)
    if alerts:
        journal.record(None, "legacy_alerts_sealed", alerts=len(alerts))
    return len(alerts)


def reporter_content_key(alert, secret: str) -> bytes | None:
    """The content key at a reporter's follow-up login. For an alert filed before keys per
    referent, while its key is still under the server key (the transition), the reporter's
    first follow-up wraps it for their secret."""
    key = keyring.reporter_content_key(alert, secret)
    if key is not None:
        return key
    if not alert.sealed:
        convert_legacy_alert(alert)
    wrap = keyring.wrap_of(alert.id, SERVER)
    if wrap is None:
        return None
    key = crypto.decrypt_bytes(wrap.wrapped)
    keyring.wrap_for_reporter(alert, key, secret)
    return key


def retire_server_wraps() -> int:
    """Deletes the content keys kept under the server key once the transition is over."""
    if keyring.transition_open():
        return 0
    wraps = db.session.scalars(select(AlertKeyWrap.id).where(AlertKeyWrap.holder == SERVER)).all()
    if wraps:
        db.session.execute(db.delete(AlertKeyWrap).where(AlertKeyWrap.holder == SERVER))
        journal.record(None, "server_wraps_retired", alerts=len(wraps))
        log.info("event=alert_server_wraps_retired")
    return len(wraps)

"""The confidential channel's public side: filing a report (anonymous or named, with
attachments checked by content), the reporter's follow-up with a reference and a secret
(kept only as an Argon2 hash), the thread of messages, and reading what was filed.
Everything the reporter writes is encrypted (``crypto``). Sources: FSE-PRIMER §6
(directive 2019/1937; loi 2022-401 and décret 2022-1284)."""
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache

from sqlalchemy import select

from ..accounts.passwords import hash_random_secret, verify_hash
from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.i18n import N_
from ..kernel.transactions import atomic
from . import crypto, deadlines, files, journal, keyring
from .models import (
    KINDS,
    RECEIVED,
    Alert,
    AlertAccess,
    AlertAttachment,
    AlertEvent,
    AlertMessage,
)


MAX_TEXT = 20000
# The follow-up secret is read and copied by people: no look-alike characters (0/O/o,
# 1/l/I). 56 symbols, 27 of them: 27 × log2(56) ≈ 156.8 bits (at least 128; ASVS 2.6.2: 112).
SECRET_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz"
SECRET_LENGTH = 27


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verified against for an unknown reference, so both paths take the same time (as long
    # as the alert's secret was hashed since issue 27; older ones are argon2 hashes).
    return hash_random_secret("not-a-secret-of-any-report")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_reference(year: int) -> str:
    for _attempt in range(50):
        reference = f"SIG-{year}-{secrets.randbelow(10**6):06d}"
        if db.session.scalar(select(Alert.id).where(Alert.reference == reference)) is None:
            return reference
    raise RuntimeError("no free alert reference")  # pragma: no cover (10^6 per year)


def new_secret() -> str:
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(SECRET_LENGTH))


@dataclass
class Report:
    kind: str
    facts: str
    operation_id: int | None = None
    operation_text: str = ""
    persons: str = ""
    dates: str = ""
    anonymous: bool = True
    name: str = ""
    contact: str = ""


def checked_report(report: Report, attachments=()) -> list[tuple[str, bytes, str]]:
    """Refuses a report that cannot be filed (DomainError, before anything is written);
    returns its attachments as (display name, bytes, content type)."""
    if report.kind not in KINDS:
        raise DomainError(N_("Type de signalement inconnu."))
    if not (report.facts or "").strip():
        raise DomainError(N_("Décrivez les faits."))
    if report.operation_id is None and not (report.operation_text or "").strip():
        raise DomainError(N_("Choisissez l'opération concernée dans la liste ou décrivez-la."))
    if not report.anonymous and not ((report.name or "").strip() and (report.contact or "").strip()):
        raise DomainError(N_("Pour ne pas rester anonyme, indiquez un nom et un moyen de vous contacter."))
    return [(files.safe_display_name(name), data, files.check_attachment(name, data)) for name, data in attachments]


def file_alert(report: Report, attachments=(), now: datetime | None = None) -> tuple[Alert, str]:
    """Files an alert from the public form; returns it and the follow-up secret (shown once).
    ``attachments`` are (filename, bytes) pairs, already read.

    Not ``@atomic``, and need not be (issue 27: a savepoint is two more round trips of each
    filing): every refusal (DomainError) is raised by ``checked_report`` before anything is
    written; after it, only a failure of the database or the storage can stop a filing, and
    it ends the request (rolled back whole, ``kernel.transactions``) or the command.
    Everything is encrypted before the first write; the alert is inserted whole (sealed, its
    contents under its content key), then its key wraps, attachments and log entry in one
    flush: a few statements, whatever the number of referents."""
    checked = checked_report(report, attachments)
    now = now or utcnow()
    to = keyring.holders()
    key = keyring.new_content_key()
    received_on = deadlines.local_day(now)
    secret = new_secret()
    alert = Alert(
        reference=new_reference(received_on.year),
        kind=report.kind,
        state=RECEIVED,
        anonymous=report.anonymous,
        operation_id=report.operation_id,
        # ≈ 157 random bits: a salted KDF, no password stretching (``hash_random_secret``).
        secret_hash=hash_random_secret(secret),
        received_at=now,
        received_on=received_on,
        acknowledgment_due=deadlines.acknowledgment_due(received_on),
        feedback_due=deadlines.feedback_due(received_on, None),
        sealed=True,
        # Sealed to the referents' and the recovery public keys, and for the secret: no password needed.
        content_enc=crypto.encrypt_json(key, {
            "facts": report.facts.strip(),
            "persons": (report.persons or "").strip(),
            "dates": (report.dates or "").strip(),
            "operation_text": (report.operation_text or "").strip(),
        }),
        identity_enc=None if report.anonymous else crypto.encrypt_json(
            key, {"name": report.name.strip(), "contact": report.contact.strip()}),
    )
    db.session.add(alert)
    db.session.flush()
    keyring.seal_new_alert(alert, key, secret, to)
    for name, data, content_type in checked:
        add_attachment(alert, None, name, data, content_type)
    # The referent's own log only: the general audit trail is read by admins and auditors,
    # and the application log says nothing either (its time could be matched, issue 21).
    journal.record(alert, "received", state=alert.state)
    db.session.flush()
    return alert, secret


def add_attachment(alert, message, name, data, content_type):
    key = keyring.content_key(alert)
    stored_name = files.store_encrypted(key, data)
    attachment = AlertAttachment(
        alert_id=alert.id,
        message_id=message.id if message is not None else None,
        stored_name=stored_name,
        meta_enc=crypto.encrypt_json(key, {"name": name, "content_type": content_type, "size": len(data)}),
    )
    db.session.add(attachment)
    return attachment


def verify_follow_up(reference: str, secret: str) -> Alert | None:
    """The alert whose reference and secret match, else None (same work either way)."""
    reference = (reference or "").strip().upper()
    alert = db.session.scalar(select(Alert).where(Alert.reference == reference)) if reference else None
    stored = alert.secret_hash if alert is not None and alert.secret_hash else _dummy_hash()
    ok = verify_hash(stored, (secret or "").strip())
    return alert if ok and alert is not None and alert.secret_hash else None


@atomic
def post_message(alert: Alert, author: str, body: str, user=None, attachments=()) -> AlertMessage:
    body = (body or "").strip()
    if not body:
        raise DomainError(N_("Le message est vide."))
    if len(body) > MAX_TEXT:
        raise DomainError(N_("Le message dépasse %(n)s caractères."), n=MAX_TEXT)
    if alert.purged_at is not None:
        raise DomainError(N_("Ce signalement est clos et ses données personnelles ont été supprimées."))
    checked = [(files.safe_display_name(name), data, files.check_attachment(name, data)) for name, data in attachments]
    message = AlertMessage(alert_id=alert.id, author=author, user_id=getattr(user, "id", None),
                           body_enc=crypto.encrypt_text(keyring.content_key(alert), body))
    db.session.add(message)
    db.session.flush()
    for name, data, content_type in checked:
        add_attachment(alert, message, name, data, content_type)
    journal.record(alert, "message", user=user, author=author)
    return message


# Reading needs the alert's content key (``keyring.content_key``: AlertLocked without it).

def alert_content(alert: Alert) -> dict:
    return crypto.decrypt_json(keyring.content_key(alert), alert.content_enc, default={}) or {}


def alert_identity(alert: Alert) -> dict | None:
    return crypto.decrypt_json(keyring.content_key(alert), alert.identity_enc)


def message_body(message: AlertMessage) -> str:
    return crypto.decrypt_text(keyring.content_key(message.alert), message.body_enc) or ""


def attachment_meta(attachment: AlertAttachment) -> dict:
    return crypto.decrypt_json(keyring.content_key(attachment.alert), attachment.meta_enc, default={}) or {}


def attachment_data(attachment: AlertAttachment) -> bytes:
    return files.read_decrypted(keyring.content_key(attachment.alert), attachment.stored_name)


def transmission_details(alert: Alert) -> dict:
    return crypto.decrypt_json(keyring.content_key(alert), alert.transmission_enc, default={}) or {}


def event_reason(event: AlertEvent) -> str:
    if event.reason_enc is None:
        return ""
    return crypto.decrypt_text(keyring.content_key(db.session.get(Alert, event.alert_id)), event.reason_enc) or ""


def encrypted_text(alert: Alert, text: str | None) -> bytes | None:
    """``text`` under the alert's content key (a reason, a referent's note)."""
    return crypto.encrypt_text(keyring.content_key(alert), text)


def decrypted_text(alert: Alert, token: bytes | None) -> str:
    if token is None:
        return ""
    return crypto.decrypt_text(keyring.content_key(alert), token) or ""


def events_of(alert: Alert) -> list[AlertEvent]:
    return db.session.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert.id).order_by(AlertEvent.id)).all()


def log_access(alert: Alert, user, action: str) -> None:
    db.session.add(AlertAccess(reference=alert.reference, user_id=user.id, action=action))

"""Alerts services: filing, follow-up, handling (transition table), suspicion on cost
lines, transmission form data, purge, key rotation. Services only flush.

The claims domain calls ``suspected_cost_lines`` and ``controller_may_check`` (below).
Sources: FSE-PRIMER §6 (CPR art. 69, 74(1)(c) and annex XII; directive 2019/1937;
loi 2022-401 and décret 2022-1284).
"""
import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from importlib import import_module

from argon2 import PasswordHasher
from cryptography.fernet import InvalidToken
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import or_, select

from ..audit import services as audit
from ..extensions import db
from ..money import N_, cents, translate
from . import crypto, deadlines, files
from .models import (
    ACKNOWLEDGED,
    CLOSED_FOUNDED,
    CLOSED_STATES,
    CLOSED_UNFOUNDED,
    KINDS,
    LINE_TYPES,
    RECEIVED,
    RECIPIENTS,
    TRANSMITTED,
    UNDER_REVIEW,
    Alert,
    AlertAccess,
    AlertAttachment,
    AlertCostLine,
    AlertEvent,
    AlertMessage,
    DaciDeclaration,
)

log = logging.getLogger("budget_app.alerts")

# CPR art. 69(2) and annex XII: irregularities of 10 000 EUR or more of EU contribution
# are reported to the Commission.
COMMISSION_REPORTING_THRESHOLD = Decimal("10000.00")
MAX_TEXT = 20000
SECRET_BYTES = 20  # 160 bits (ASVS 2.6.2 asks at least 112)

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-secret-" + secrets.token_hex(8))


class AlertError(ValueError):
    """A refused action; ``str(err)`` is a user-facing message."""


def _error(message: str, **params) -> AlertError:
    return AlertError(translate(message, **params))


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def today() -> date:
    return deadlines.local_day(utcnow())


# ---------------------------------------------------------------- filing

def new_reference(year: int) -> str:
    for _attempt in range(50):
        reference = f"SIG-{year}-{secrets.randbelow(10**6):06d}"
        if db.session.scalar(select(Alert.id).where(Alert.reference == reference)) is None:
            return reference
    raise RuntimeError("no free alert reference")  # pragma: no cover (10^6 per year)


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


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


def file_alert(report: Report, attachments=(), now: datetime | None = None) -> tuple[Alert, str]:
    """Files an alert from the public form; returns it and the follow-up secret (shown once).
    ``attachments`` are (filename, bytes) pairs, already read."""
    if report.kind not in KINDS:
        raise _error(N_("Type de signalement inconnu."))
    if not (report.facts or "").strip():
        raise _error(N_("Décrivez les faits."))
    if report.operation_id is None and not (report.operation_text or "").strip():
        raise _error(N_("Choisissez l'opération concernée dans la liste ou décrivez-la."))
    if not report.anonymous and not ((report.name or "").strip() and (report.contact or "").strip()):
        raise _error(N_("Pour ne pas rester anonyme, indiquez un nom et un moyen de vous contacter."))
    checked = [(files.safe_display_name(name), data, files.check_attachment(name, data)) for name, data in attachments]
    now = now or utcnow()
    received_on = deadlines.local_day(now)
    secret = new_secret()
    alert = Alert(
        reference=new_reference(received_on.year),
        kind=report.kind,
        state=RECEIVED,
        anonymous=report.anonymous,
        operation_id=report.operation_id,
        secret_hash=_hasher.hash(secret),
        content_enc=crypto.encrypt_json(
            {
                "facts": report.facts.strip(),
                "persons": (report.persons or "").strip(),
                "dates": (report.dates or "").strip(),
                "operation_text": (report.operation_text or "").strip(),
            }
        ),
        identity_enc=None
        if report.anonymous
        else crypto.encrypt_json({"name": report.name.strip(), "contact": report.contact.strip()}),
        received_at=now,
        received_on=received_on,
        acknowledgment_due=deadlines.acknowledgment_due(received_on),
        feedback_due=deadlines.feedback_due(received_on, None),
    )
    db.session.add(alert)
    db.session.flush()
    for name, data, content_type in checked:
        _add_attachment(alert, None, name, data, content_type)
    db.session.flush()
    # Content-free: the audit trail is read by admins and auditors and cannot be purged.
    audit.record("alert_received", "alerts", alert.id, after={"reference": alert.reference, "state": alert.state})
    log.info("event=alert_received id=%s", alert.id)
    return alert, secret


def _add_attachment(alert, message, name, data, content_type):
    stored_name = files.store_encrypted(data)
    attachment = AlertAttachment(
        alert_id=alert.id,
        message_id=message.id if message is not None else None,
        stored_name=stored_name,
        meta_enc=crypto.encrypt_json({"name": name, "content_type": content_type, "size": len(data)}),
    )
    db.session.add(attachment)
    return attachment


def verify_follow_up(reference: str, secret: str) -> Alert | None:
    """The alert whose reference and secret match, else None (same work either way)."""
    reference = (reference or "").strip().upper()
    alert = db.session.scalar(select(Alert).where(Alert.reference == reference)) if reference else None
    stored = alert.secret_hash if alert is not None and alert.secret_hash else _DUMMY_HASH
    try:
        ok = _hasher.verify(stored, (secret or "").strip())
    except (VerificationError, InvalidHashError):
        ok = False
    return alert if ok and alert is not None and alert.secret_hash else None


# ---------------------------------------------------------------- reading

def alert_content(alert: Alert) -> dict:
    return crypto.decrypt_json(alert.content_enc, default={}) or {}


def alert_identity(alert: Alert) -> dict | None:
    return crypto.decrypt_json(alert.identity_enc)


def message_body(message: AlertMessage) -> str:
    return crypto.decrypt_text(message.body_enc) or ""


def attachment_meta(attachment: AlertAttachment) -> dict:
    return crypto.decrypt_json(attachment.meta_enc, default={}) or {}


def transmission_details(alert: Alert) -> dict:
    return crypto.decrypt_json(alert.transmission_enc, default={}) or {}


def event_reason(event: AlertEvent) -> str:
    return crypto.decrypt_text(event.reason_enc) or ""


def events_of(alert: Alert) -> list[AlertEvent]:
    return db.session.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert.id).order_by(AlertEvent.id)).all()


def log_access(alert: Alert, user, action: str) -> None:
    db.session.add(AlertAccess(reference=alert.reference, user_id=user.id, action=action))


# ---------------------------------------------------------------- thread

def post_message(alert: Alert, author: str, body: str, user=None, attachments=()) -> AlertMessage:
    body = (body or "").strip()
    if not body:
        raise _error(N_("Le message est vide."))
    if len(body) > MAX_TEXT:
        raise _error(N_("Le message dépasse %(n)s caractères."), n=MAX_TEXT)
    if alert.purged_at is not None:
        raise _error(N_("Ce signalement est clos et ses données personnelles ont été supprimées."))
    checked = [(files.safe_display_name(name), data, files.check_attachment(name, data)) for name, data in attachments]
    message = AlertMessage(
        alert_id=alert.id, author=author, user_id=getattr(user, "id", None), body_enc=crypto.encrypt_text(body)
    )
    db.session.add(message)
    db.session.flush()
    for name, data, content_type in checked:
        _add_attachment(alert, message, name, data, content_type)
    audit.record("alert_message", "alerts", alert.id, after={"author": author})
    return message


# ---------------------------------------------------------------- handling

@dataclass(frozen=True)
class Transition:
    target: str
    label: str
    # The reporter must be told (a message is required and posted in the thread).
    tells_reporter: bool
    # The move answers the reporter on the outcome (directive art. 9(1)(f) feedback).
    is_feedback: bool = False
    needs_recipient: bool = False


TRANSITIONS: dict[str, tuple[Transition, ...]] = {
    RECEIVED: (Transition(ACKNOWLEDGED, N_("Accuser réception"), tells_reporter=True),),
    ACKNOWLEDGED: (
        Transition(UNDER_REVIEW, N_("Passer en examen"), tells_reporter=False),
        Transition(CLOSED_UNFOUNDED, N_("Clore : non fondé"), tells_reporter=True, is_feedback=True),
    ),
    UNDER_REVIEW: (
        Transition(TRANSMITTED, N_("Transmettre"), tells_reporter=True, is_feedback=True, needs_recipient=True),
        Transition(CLOSED_FOUNDED, N_("Clore : fondé"), tells_reporter=True, is_feedback=True),
        Transition(CLOSED_UNFOUNDED, N_("Clore : non fondé"), tells_reporter=True, is_feedback=True),
    ),
    TRANSMITTED: (
        Transition(CLOSED_FOUNDED, N_("Clore : fondé"), tells_reporter=True, is_feedback=True),
        Transition(CLOSED_UNFOUNDED, N_("Clore : non fondé"), tells_reporter=True, is_feedback=True),
    ),
    CLOSED_FOUNDED: (),
    CLOSED_UNFOUNDED: (),
}


def allowed_transitions(alert: Alert) -> tuple[Transition, ...]:
    if alert.purged_at is not None:
        return ()
    return TRANSITIONS[alert.state]


def change_state(
    alert: Alert,
    target: str,
    user,
    reason: str,
    message: str = "",
    recipient: str | None = None,
    on: date | None = None,
) -> AlertEvent:
    """Moves an alert along the transition table, with a reason; a message to the reporter
    where the move concerns them. Audited (without contents)."""
    move = next((t for t in allowed_transitions(alert) if t.target == target), None)
    if move is None:
        raise _error(N_("Ce changement d'état n'est pas permis depuis l'état actuel."))
    reason = (reason or "").strip()
    if not reason:
        raise _error(N_("Indiquez le motif du changement d'état."))
    if move.tells_reporter and not (message or "").strip():
        raise _error(N_("Ce changement d'état concerne l'auteur du signalement : rédigez-lui un message."))
    on = on or today()
    if on > today():
        raise _error(N_("La date ne peut pas être dans le futur."))
    if on < alert.received_on:
        raise _error(N_("La date ne peut pas précéder la réception du signalement."))
    if move.needs_recipient:
        if recipient not in RECIPIENTS:
            raise _error(N_("Choisissez le destinataire de la transmission."))
        alert.transmitted_to = recipient
        alert.transmitted_on = on
    before = alert.state
    alert.state = target
    if target == ACKNOWLEDGED:
        alert.acknowledged_on = on
        alert.feedback_due = deadlines.feedback_due(alert.received_on, on)
    if move.is_feedback and alert.feedback_on is None:
        alert.feedback_on = on
    if target in CLOSED_STATES:
        alert.closed_on = on
    event = AlertEvent(
        alert_id=alert.id, user_id=user.id, from_state=before, to_state=target, reason_enc=crypto.encrypt_text(reason)
    )
    db.session.add(event)
    if (message or "").strip():
        post_message(alert, "referent", message, user=user)
    db.session.flush()
    audit.record(
        "alert_transition",
        "alerts",
        alert.id,
        before={"state": before},
        after={"state": target, "transmitted_to": alert.transmitted_to, "on": on},
        note="reason recorded (encrypted)",
    )
    return event


def record_feedback(alert: Alert, user, message: str) -> None:
    """A message that gives the reporter feedback on the action taken (stops the 3-month clock)."""
    post_message(alert, "referent", message, user=user)
    if alert.feedback_on is None:
        alert.feedback_on = today()


def next_deadline(alert: Alert) -> tuple[str, date] | None:
    if alert.purged_at is not None or alert.is_closed:
        return None
    if alert.acknowledged_on is None:
        return "acknowledgment", alert.acknowledgment_due
    if alert.feedback_on is None:
        return "feedback", alert.feedback_due
    return None


def is_overdue(alert: Alert, on: date | None = None) -> bool:
    deadline = next_deadline(alert)
    return deadline is not None and deadline[1] < (on or today())


def dashboard_alerts() -> list[Alert]:
    """Open alerts first, by nearest deadline; then the rest, newest first."""
    alerts = db.session.scalars(select(Alert).order_by(Alert.received_at.desc())).all()
    with_deadline = sorted((a for a in alerts if next_deadline(a)), key=lambda a: (next_deadline(a)[1], a.received_at))
    without = [a for a in alerts if not next_deadline(a)]
    return with_deadline + without


# ---------------------------------------------------------------- operation and cost lines

@dataclass(frozen=True)
class CostLine:
    line_type: str
    id: int
    operation_id: int
    label: str
    amount: Decimal | None


LINE_MODELS = {
    "expense": ("budget_app.expenses.models", "Expense"),
    "staff_cost_line": ("budget_app.staff.models", "StaffCostLine"),
}
LINE_TYPE_LABELS = {"expense": N_("Dépense"), "staff_cost_line": N_("Frais de personnel")}


def line_model(line_type: str):
    """The model of a cost-line type, or None while that domain is not installed."""
    module_name, class_name = LINE_MODELS[line_type]
    try:
        model = getattr(import_module(module_name), class_name)
    except (ImportError, AttributeError):
        return None
    if not sa_inspect(db.engine).has_table(model.__tablename__):
        return None
    return model


def _first_attr(obj, names, default=None):
    for name in names:
        value = getattr(obj, name, None)
        if value is not None:
            return value
    return default


def _line_label(line_type: str, row) -> str:
    if line_type == "staff_cost_line" and getattr(row, "person", None) is not None:
        # Staff lines: the person's registration number (pseudonymous id) and the month.
        month = getattr(row, "month", None)
        return f"{row.person.registration_number} — {month.strftime('%m/%Y') if month else ''}".strip(" —")
    parts = [getattr(row, "supplier_name", None), getattr(row, "document_number", None)]
    label = _first_attr(row, ("label", "description", "computation"), "")
    prefix = " ".join(str(p) for p in parts if p)
    return f"{prefix} — {label}" if prefix else str(label)


def _as_cost_line(line_type: str, row) -> CostLine:
    amount = _first_attr(row, ("eligible_amount", "amount"))
    if amount is not None and not isinstance(amount, Decimal):
        amount = None
    return CostLine(line_type, row.id, row.operation_id, _line_label(line_type, row), amount)


def operation_cost_lines(operation_id: int) -> list[CostLine]:
    """The operation's cost lines that can be put under suspicion (not deleted)."""
    lines = []
    for line_type in LINE_TYPES:
        model = line_model(line_type)
        if model is None:
            continue
        query = select(model).where(model.operation_id == operation_id).order_by(model.id)
        if hasattr(model, "deleted_at"):
            query = query.where(model.deleted_at.is_(None))
        lines.extend(_as_cost_line(line_type, row) for row in db.session.scalars(query))
    return lines


def cost_line(line_type: str, line_id: int) -> CostLine | None:
    model = line_model(line_type) if line_type in LINE_TYPES else None
    if model is None:
        return None
    row = db.session.get(model, line_id)
    return None if row is None else _as_cost_line(line_type, row)


def link_operation(alert: Alert, operation) -> None:
    if any(link.lifted_at is None for link in alert.cost_lines) and operation.id != alert.operation_id:
        raise _error(N_("Levez d'abord la suspicion sur les lignes de l'opération actuelle."))
    before = alert.operation_id
    alert.operation_id = operation.id
    db.session.flush()
    audit.record("alert_operation", "alerts", alert.id, before={"operation_id": before}, after={"operation_id": operation.id})


def link_cost_lines(alert: Alert, user, pairs) -> list[AlertCostLine]:
    """Puts cost lines of the alert's operation under suspicion: they stay out of any new claim."""
    if alert.operation_id is None:
        raise _error(N_("Rattachez d'abord le signalement à une opération."))
    if alert.purged_at is not None or alert.is_closed:
        raise _error(N_("Ce signalement est clos."))
    live = {(link.line_type, link.line_id) for link in alert.cost_lines if link.lifted_at is None}
    created = []
    for line_type, line_id in pairs:
        line = cost_line(line_type, line_id)
        if line is None:
            raise _error(N_("La ligne %(type)s n° %(id)s n'existe pas."), type=line_type, id=line_id)
        if line.operation_id != alert.operation_id:
            raise _error(N_("La ligne %(type)s n° %(id)s n'appartient pas à l'opération du signalement."), type=line_type, id=line_id)
        if (line_type, line_id) in live:
            continue
        link = AlertCostLine(
            alert_id=alert.id, operation_id=alert.operation_id, line_type=line_type, line_id=line_id, linked_by=user.id
        )
        db.session.add(link)
        alert.cost_lines.append(link)
        live.add((line_type, line_id))
        created.append(link)
    db.session.flush()
    for link in created:
        audit.record("suspicion_set", link.line_type, link.line_id, after={"alert_id": alert.id})
    return created


def lift_suspicion(link: AlertCostLine, user, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise _error(N_("Indiquez le motif de la levée de suspicion."))
    if link.lifted_at is not None:
        raise _error(N_("La suspicion sur cette ligne est déjà levée."))
    link.lifted_at = utcnow()
    link.lifted_by = user.id
    link.lift_reason = crypto.encrypt_text(reason)
    db.session.flush()
    audit.record("suspicion_lifted", link.line_type, link.line_id, after={"alert_id": link.alert_id}, note="reason recorded (encrypted)")


def suspected_cost_lines(operation_id: int) -> set[tuple[str, int]]:
    """Cost lines under a live suspicion, as ("expense" | "staff_cost_line", id) pairs:
    they stay out of any new claim until the referent lifts the suspicion."""
    rows = db.session.execute(
        select(AlertCostLine.line_type, AlertCostLine.line_id).where(
            AlertCostLine.operation_id == operation_id, AlertCostLine.lifted_at.is_(None)
        )
    ).all()
    return {(line_type, line_id) for line_type, line_id in rows}


# ---------------------------------------------------------------- transmission form

def fse_rate(operation) -> Decimal | None:
    rate = getattr(operation, "fse_rate", None) if operation is not None else None
    return rate if isinstance(rate, Decimal) else None


def computed_amounts(alert: Alert) -> tuple[Decimal | None, Decimal | None]:
    """Total of the live suspected lines and its EU share at the operation's FSE+ rate,
    each rounded half-up once (FSE-PRIMER §5)."""
    lines = [cost_line(link.line_type, link.line_id) for link in alert.cost_lines if link.lifted_at is None]
    amounts = [line.amount for line in lines if line is not None and line.amount is not None]
    if not amounts:
        return None, None
    total = cents(sum(amounts, Decimal("0")))
    rate = fse_rate(alert.operation)
    return total, (eu_share(total, rate) if rate is not None else None)


def eu_share(total: Decimal, rate_percent: Decimal) -> Decimal:
    """EU (FSE+) share of an amount at the operation's rate, rounded half-up once."""
    return cents(total * rate_percent / 100)


def amounts_concerned(alert: Alert) -> tuple[Decimal | None, Decimal | None]:
    """The amounts the referent entered, else those computed from the suspected lines."""
    total, eu_share = computed_amounts(alert)
    return (
        alert.amount_concerned if alert.amount_concerned is not None else total,
        alert.eu_amount_concerned if alert.eu_amount_concerned is not None else eu_share,
    )


def is_reportable_to_commission(alert: Alert) -> bool:
    _total, eu_share = amounts_concerned(alert)
    return eu_share is not None and eu_share >= COMMISSION_REPORTING_THRESHOLD


def save_transmission_details(alert: Alert, *, amount, eu_amount, detected_on, period_start, period_end,
                              detection, measures, persons, reveal_persons) -> None:
    if period_start and period_end and period_end < period_start:
        raise _error(N_("La fin de la période concernée précède son début."))
    if eu_amount is not None and amount is not None and eu_amount > amount:
        raise _error(N_("La part UE ne peut pas dépasser le montant concerné."))
    alert.amount_concerned = amount
    alert.eu_amount_concerned = eu_amount
    alert.detected_on = detected_on
    alert.period_start = period_start
    alert.period_end = period_end
    alert.reveal_persons = bool(reveal_persons)
    alert.transmission_enc = crypto.encrypt_json(
        {"detection": (detection or "").strip(), "measures": (measures or "").strip(), "persons": (persons or "").strip()}
    )
    db.session.flush()
    audit.record("alert_transmission_form", "alerts", alert.id, after={"amount": amount, "eu_amount": eu_amount})


def persons_for_form(alert: Alert) -> list[str]:
    """Persons concerned, one a line; pseudonymised ("Personne 1"...) unless the referent
    chose to name them."""
    details = transmission_details(alert)
    text = details.get("persons") or alert_content(alert).get("persons") or ""
    names = [line.strip() for line in text.splitlines() if line.strip()]
    if alert.reveal_persons:
        return names
    return [_("Personne %(n)s", n=index) for index in range(1, len(names) + 1)]


def transmission_rows(alert: Alert) -> list[tuple[str, object]]:
    """The fields of the irregularity report (CPR art. 69, annex XII), in order:
    (label, value, kind) with kind "text", "money", "percent" or "date"; value may be None."""
    from .models import KIND_LABELS, RECIPIENT_LABELS, STATE_LABELS

    operation = alert.operation
    organisation = getattr(operation, "organisation", None) if operation is not None else None
    details = transmission_details(alert)
    content = alert_content(alert)
    total, eu_share = amounts_concerned(alert)
    rate = fse_rate(operation)
    procedure = _(STATE_LABELS[alert.state])
    if alert.transmitted_to:
        procedure += " — " + _("transmis à %(who)s le %(day)s", who=_(RECIPIENT_LABELS[alert.transmitted_to]),
                                day=alert.transmitted_on.strftime("%d/%m/%Y"))
    detection = _("Signalement reçu par le canal d'alerte le %(day)s", day=alert.received_on.strftime("%d/%m/%Y"))
    if details.get("detection"):
        detection += ". " + details["detection"]
    return [
        (_("Référence du signalement"), alert.reference, "text"),
        (_("Opération"), f"{operation.code} — {operation.title}" if operation else content.get("operation_text", ""), "text"),
        (_("Bénéficiaire"), getattr(organisation, "name", "") if organisation is not None else "", "text"),
        (_("Type d'irrégularité"), _(KIND_LABELS[alert.kind]), "text"),
        (_("Montant concerné (dépenses)"), total, "money"),
        (_("Taux FSE+"), rate, "percent"),
        (_("Part UE concernée"), eu_share, "money"),
        (
            _("À signaler à la Commission (part UE ≥ 10 000 €)"),
            _("Oui") if is_reportable_to_commission(alert) else _("Non"),
            "text",
        ),
        (_("Mode de détection"), detection, "text"),
        (_("Date de détection"), alert.detected_on or alert.received_on, "date"),
        (_("Début de la période concernée"), alert.period_start, "date"),
        (_("Fin de la période concernée"), alert.period_end, "date"),
        (_("Personnes concernées"), "\n".join(persons_for_form(alert)), "text"),
        (_("Mesures prises"), details.get("measures", ""), "text"),
        (_("État de la procédure"), procedure, "text"),
    ]


def transmission_lines(alert: Alert) -> list[CostLine]:
    lines = []
    for link in alert.cost_lines:
        if link.lifted_at is None:
            line = cost_line(link.line_type, link.line_id)
            if line is not None:
                lines.append(line)
    return lines


# ---------------------------------------------------------------- purge and key rotation

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
        alert.purged_at = now
        db.session.flush()
        audit.record("alert_purged", "alerts", alert.id, after={"reference": alert.reference, "closed_on": alert.closed_on})
        log.info("event=alert_purged id=%s reference=%s", alert.id, alert.reference)
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
    except InvalidToken as exc:
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
        path = files.storage_dir() / attachment.stored_name
        if path.exists():
            rotated = old_and_new.rotate(path.read_bytes())
            tmp = path.with_suffix(".rotating")
            tmp.write_bytes(rotated)
            tmp.chmod(0o600)
            tmp.replace(path)
            count += 1
    db.session.flush()
    return count


# ---------------------------------------------------------------- DACI

def record_declaration(*, user, operation, programme_year, signed_on, valid_until, has_interest,
                       interest_description, recorded_by) -> DaciDeclaration:
    if (operation is None) == (programme_year is None):
        raise _error(N_("Choisissez une opération ou une année de programmation (l'une ou l'autre)."))
    if valid_until is not None and valid_until < signed_on:
        raise _error(N_("La fin de validité précède la date de signature."))
    if signed_on > today():
        raise _error(N_("La date de signature ne peut pas être dans le futur."))
    description = (interest_description or "").strip()
    if has_interest and not description:
        raise _error(N_("Décrivez l'intérêt déclaré."))
    if has_interest and operation is None:
        raise _error(N_("Un intérêt se déclare pour une opération précise, pas pour une année entière."))
    declaration = DaciDeclaration(
        user_id=user.id,
        operation_id=operation.id if operation is not None else None,
        programme_year=programme_year,
        signed_on=signed_on,
        valid_until=valid_until,
        has_interest=bool(has_interest),
        interest_description=description or None,
        recorded_by=recorded_by.id if recorded_by is not None else None,
    )
    db.session.add(declaration)
    db.session.flush()
    return declaration


def withdraw_declaration(declaration: DaciDeclaration, on: date | None = None) -> None:
    if declaration.withdrawn_on is not None:
        raise _error(N_("Cette déclaration est déjà retirée."))
    declaration.withdrawn_on = on or today()
    db.session.flush()


def declarations_covering(user_id: int, operation_id: int, on: date) -> list[DaciDeclaration]:
    """Declarations of a person in force on ``on`` for an operation: its own, or the
    programme-year one of that year."""
    query = select(DaciDeclaration).where(
        DaciDeclaration.user_id == user_id,
        or_(DaciDeclaration.operation_id == operation_id, DaciDeclaration.programme_year == on.year),
        DaciDeclaration.signed_on <= on,
        or_(DaciDeclaration.valid_until.is_(None), DaciDeclaration.valid_until >= on),
        or_(DaciDeclaration.withdrawn_on.is_(None), DaciDeclaration.withdrawn_on > on),
    )
    return db.session.scalars(query).all()


def controller_may_check(user, operation, on: date | None = None) -> str | None:
    """None when ``user`` may record service-done decisions on ``operation``; otherwise
    the reason, e.g. no valid conflict-of-interest declaration (DACI) or a declared interest."""
    on = on or today()
    covering = declarations_covering(user.id, operation.id, on)
    if any(d.has_interest for d in covering):
        return _("Vous avez déclaré un intérêt pour l'opération %(code)s : vous vous déportez de ce dossier.",
                 code=operation.code)
    if not covering:
        return _("Aucune déclaration d'absence de conflit d'intérêts (DACI) valide pour l'opération %(code)s.",
                 code=operation.code)
    return None


def missing_declarations(on: date | None = None) -> list[tuple]:
    """(user, operation) pairs of controllers assigned to an operation without a DACI in force."""
    from ..accounts.models import User
    from ..accounts.roles import CONTROLLER
    from ..operations.models import Operation, OperationMember

    on = on or today()
    rows = db.session.execute(
        select(User, Operation)
        .join(OperationMember, OperationMember.user_id == User.id)
        .join(Operation, Operation.id == OperationMember.operation_id)
        .where(User.role == CONTROLLER, User.active.is_(True))
        .order_by(Operation.code, User.email)
    ).all()
    return [(user, operation) for user, operation in rows if not declarations_covering(user.id, operation.id, on)]


def daci_register() -> list[DaciDeclaration]:
    return db.session.scalars(
        select(DaciDeclaration).order_by(DaciDeclaration.signed_on.desc(), DaciDeclaration.id.desc())
    ).all()


def declaration_in_force(declaration: DaciDeclaration, on: date | None = None) -> bool:
    on = on or today()
    if declaration.withdrawn_on is not None and declaration.withdrawn_on <= on:
        return False
    if declaration.signed_on > on or (declaration.valid_until is not None and declaration.valid_until < on):
        return False
    return declaration.programme_year is None or declaration.programme_year == on.year

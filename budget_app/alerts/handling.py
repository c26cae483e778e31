"""The referent's handling of an alert: the transition table (received → acknowledged →
under review → transmitted / closed founded / closed unfounded), each move with a reason
and, where it concerns the reporter, a message to them; the deadlines and the dashboard.
Moves are written to the alert's own events (encrypted reasons), and to the referent's
own log (``journal``), never to the general audit trail."""
from datetime import date

from sqlalchemy import or_, select

from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.formatting import today_in_paris
from ..kernel.i18n import N_
from ..kernel.transactions import atomic
from ..kernel.transitions import StateMachine, Transition
from . import deadlines, journal
from .filing import encrypted_text, post_message
from .models import (
    ACKNOWLEDGED,
    CLOSED_FOUNDED,
    CLOSED_STATES,
    CLOSED_UNFOUNDED,
    RECEIVED,
    RECIPIENTS,
    STATE_LABELS,
    TRANSMITTED,
    UNDER_REVIEW,
    Alert,
    AlertCostLine,
    AlertEvent,
)

TELLS_REPORTER = "tells_reporter"  # a message to the reporter is required and posted
FEEDBACK = "feedback"  # the move answers the reporter on the outcome (directive art. 9(1)(f))
NEEDS_RECIPIENT = "needs_recipient"

ALERTS = StateMachine(
    STATE_LABELS,
    [
        Transition("acknowledge", (RECEIVED,), ACKNOWLEDGED, N_("Accuser réception"), True,
                   frozenset({TELLS_REPORTER})),
        Transition("review", (ACKNOWLEDGED,), UNDER_REVIEW, N_("Passer en examen"), True),
        Transition("transmit", (UNDER_REVIEW,), TRANSMITTED, N_("Transmettre"), True,
                   frozenset({TELLS_REPORTER, FEEDBACK, NEEDS_RECIPIENT})),
        Transition("close_founded", (UNDER_REVIEW, TRANSMITTED), CLOSED_FOUNDED, N_("Clore : fondé"), True,
                   frozenset({TELLS_REPORTER, FEEDBACK})),
        Transition("close_unfounded", (ACKNOWLEDGED, UNDER_REVIEW, TRANSMITTED), CLOSED_UNFOUNDED,
                   N_("Clore : non fondé"), True, frozenset({TELLS_REPORTER, FEEDBACK})),
    ],
)


def today() -> date:
    return today_in_paris()


def allowed_transitions(alert: Alert) -> tuple[Transition, ...]:
    if alert.purged_at is not None:
        return ()
    return ALERTS.allowed(alert.state)


@atomic
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
        raise DomainError(N_("Ce changement d'état n'est pas permis depuis l'état actuel."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(N_("Indiquez le motif du changement d'état."))
    if move.has(TELLS_REPORTER) and not (message or "").strip():
        raise DomainError(N_("Ce changement d'état concerne l'auteur du signalement : rédigez-lui un message."))
    on = on or today()
    if on > today():
        raise DomainError(N_("La date ne peut pas être dans le futur."))
    if on < alert.received_on:
        raise DomainError(N_("La date ne peut pas précéder la réception du signalement."))
    if move.has(NEEDS_RECIPIENT):
        if recipient not in RECIPIENTS:
            raise DomainError(N_("Choisissez le destinataire de la transmission."))
        alert.transmitted_to = recipient
        alert.transmitted_on = on
    before = ALERTS.move(alert, move, reason)
    if target == ACKNOWLEDGED:
        alert.acknowledged_on = on
        alert.feedback_due = deadlines.feedback_due(alert.received_on, on)
    if move.has(FEEDBACK) and alert.feedback_on is None:
        alert.feedback_on = on
    if target in CLOSED_STATES:
        alert.closed_on = on
    event = AlertEvent(
        alert_id=alert.id, user_id=user.id, from_state=before, to_state=target, reason_enc=encrypted_text(alert, reason)
    )
    db.session.add(event)
    if (message or "").strip():
        post_message(alert, "referent", message, user=user)
    db.session.flush()
    journal.record(alert, "transition", user=user, from_state=before, to_state=target,
                   transmitted_to=alert.transmitted_to, on=on)
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


def procedure_under_way(operation_id: int) -> bool:
    """CPR 82: records are kept while a procedure is under way: here, while an alert on the
    operation (or on some of its cost lines) is not closed. Callers say "extended", never why."""
    linked = select(AlertCostLine.alert_id).where(AlertCostLine.operation_id == operation_id)
    query = select(Alert.id).where(
        Alert.state.not_in(sorted(CLOSED_STATES)), or_(Alert.operation_id == operation_id, Alert.id.in_(linked))
    ).limit(1)
    return db.session.scalar(query) is not None

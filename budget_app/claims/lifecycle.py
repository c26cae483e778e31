"""A bilan's life: draft → submitted (its lines attached and frozen, with a snapshot) →
controlled (the service-done check, ``control``) → paid (``payments``); a submitted bilan
can be withdrawn to draft with a reason, a controlled one reopened by an admin. Nothing
else moves a bilan (``CLAIMS``), and every move is guarded in the database. Which bilans
may exist (kind, count, periods) is ``bilans``.

Submitting marks the bilan's lines declared in it (``marks``), withdrawing releases those
marks: the expenses and staff domains read the marks themselves ("a declared line is
frozen"); claims only tell them the bilan's number and state (``bilan_numbers``,
``bilan_state``, wired in ``create_app``).
"""
from datetime import date, datetime, timezone

from sqlalchemy import delete, func, insert, select

from ..kernel.audit import services as audit
from ..kernel.audit.services import current_actor
from ..kernel.errors import Conflict, DomainError
from ..kernel.extensions import db
from ..kernel.formatting import today_in_paris
from ..kernel.i18n import N_, translate_label
from ..marks import services as marks
from ..kernel.transactions import atomic
from ..kernel.transitions import StateMachine, Transition
from ..operations.models import Operation
from ..operations.plans import payment_deadline
from ..staff.lifecycle import lock_held_timesheets, unlock_held_timesheets
from .bilans import check_new_bilan, check_submission_order
from .computation import figures_to_json
from .credit_notes import snapshot_reference
from .models import CLAIM_STATES, Claim, ClaimLine, ClaimStateChange
from .participant_indicators import freeze_indicator_table
from .unit_selection import quantity_text
from .selection import (
    Computation,
    compute_period,
    included_expenses_query,
    included_staff_query,
    included_units,
)

CLAIMS = StateMachine(
    CLAIM_STATES,
    [
        Transition("submit", ("draft",), "submitted", N_("Déposer")),
        Transition("withdraw", ("submitted",), "draft", N_("Retirer"), reason_required=True),
        Transition("control", ("submitted",), "controlled", N_("Terminer le contrôle")),
        Transition("reopen", ("controlled",), "submitted", N_("Rouvrir"), reason_required=True),
        Transition("pay", ("controlled",), "paid", N_("Enregistrer le paiement")),
    ],
    refusal=N_("Un bilan à l'état « %(state)s » ne peut pas passer à l'état « %(target)s »."),
    conflict=N_("Le bilan a été modifié entre-temps par quelqu'un d'autre ; rechargez la page."),
)


def claim_for_number(operation: Operation, number: int) -> Claim | None:
    return db.session.scalar(select(Claim).where(Claim.operation_id == operation.id, Claim.number == number))


def claims_of(operation: Operation) -> list[Claim]:
    return db.session.scalars(select(Claim).where(Claim.operation_id == operation.id).order_by(Claim.number)).all()


def move(claim: Claim, action: str, to_state: str, reason: str | None = None) -> None:
    """Apply one move of ``CLAIMS``, recorded with who, when and why."""
    transition = CLAIMS.by_target(claim.state, to_state, action)
    reason = (reason or "").strip() or None
    from_state = CLAIMS.move(claim, transition, reason)
    user_id, actor = current_actor()
    db.session.add(ClaimStateChange(claim_id=claim.id, from_state=from_state, to_state=to_state, reason=reason,
                                    user_id=user_id, actor=actor))
    if reason:
        audit.note_for_changes(reason)
    audit.record(f"claim_{action}", "claims", claim.id, before={"state": from_state}, after={"state": to_state},
                 note=reason)


@atomic
def create_draft(operation: Operation, start: date, end: date, user=None, final: bool = False) -> Claim:
    """A new bilan, interim or ``final``, as the rules allow (``bilans.check_new_bilan``)."""
    check_new_bilan(operation, start, end, final)
    number = (db.session.scalar(select(func.max(Claim.number)).where(Claim.operation_id == operation.id)) or 0) + 1
    claim = Claim(
        operation=operation, number=number, period_start=start, period_end=end, state="draft",
        kind="final" if final else "interim", created_by_id=getattr(user, "id", None),
    )
    db.session.add(claim)
    db.session.flush()
    return claim


def refuse_empty_draft(operation: Operation, start: date, end: date, final: bool = False) -> None:
    """People (the page, the CLI) never create a 0 € interim draft: it could never be
    submitted. Refused with the reason and what to check."""
    if final:
        return
    computation = compute_period(operation, start, end, list_left_out=False, evidence=True)
    if computation.expense_count + computation.staff_count + computation.unit_count == 0:
        raise DomainError(N_("Rien à déclarer du %(start)s au %(end)s : aucun brouillon à 0,00 € n'est créé. "
                             "Vérifiez les dépenses (pièces, date d'acquittement) et les fiches de temps "
                             "à approuver de la période."),
                          start=start, end=end)


def delete_draft(claim: Claim) -> None:
    """A draft never submitted, and the latest bilan (the periods stay without a gap)."""
    if claim.state != "draft" or claim.state_changes:
        raise DomainError(N_("Seul un brouillon jamais déposé peut être supprimé."))
    later = db.session.scalar(
        select(func.max(Claim.number)).where(Claim.operation_id == claim.operation_id, Claim.number > claim.number)
    )
    if later is not None:
        raise DomainError(N_("Seul le dernier bilan peut être supprimé : le bilan n° %(number)s le suit."),
                          number=later)
    db.session.delete(claim)
    db.session.flush()


@atomic
def submit_claim(claim: Claim, user=None, today: date | None = None) -> Computation:
    """Freeze a draft: attach its lines (race-safe), snapshot them and the totals."""
    today = today or today_in_paris()
    operation = claim.operation
    CLAIMS.by_target(claim.state, "submitted", "submit")  # an already submitted bilan says so first
    check_submission_order(claim)
    computation = compute_period(operation, claim.period_start, claim.period_end, as_of=today, claim=claim,
                                 list_left_out=False)
    if computation.expense_count + computation.staff_count + computation.unit_count == 0 and claim.kind != "final":
        raise DomainError(N_("Aucune dépense à déclarer sur cette période."))
    move(claim, "submit", "submitted")
    position = 0
    snapshot = []
    expense_ids = []
    for expense in db.session.scalars(
        included_expenses_query(operation, claim.period_start, claim.period_end, computation)
        .execution_options(yield_per=2000)
    ):
        position += 1
        expense_ids.append(expense.id)
        snapshot.append({
            "claim_id": claim.id, "position": position, "kind": "expense", "expense_id": expense.id,
            "staff_cost_line_id": None, "unit_record_id": None, "category": expense.category, "description": expense.label[:500],
            "reference": snapshot_reference(expense)[:255],
            "incurred_on": expense.incurred_on, "paid_on": expense.paid_on,
            "declared_amount": expense.eligible_amount,
        })
    staff_ids = []
    for line in db.session.scalars(included_staff_query(operation, claim.period_start, claim.period_end, computation)):
        position += 1
        staff_ids.append(line.id)
        person = line.person
        snapshot.append({
            "claim_id": claim.id, "position": position, "kind": "staff", "expense_id": None,
            "staff_cost_line_id": line.id, "unit_record_id": None, "category": "PERSONNEL", "description": line.computation[:500],
            "reference": f"{person.registration_number} {person.last_name} {person.first_name}"[:255],
            "incurred_on": line.month, "paid_on": None, "declared_amount": line.amount,
        })
    unit_ids = []
    for record in db.session.scalars(included_units(operation, claim.period_start, claim.period_end, computation)):
        position += 1
        unit_ids.append(record.id)
        snapshot.append({
            "claim_id": claim.id, "position": position, "kind": "unit", "expense_id": None,
            "staff_cost_line_id": None, "unit_record_id": record.id, "category": record.category,
            "description": record.description[:500], "reference": quantity_text(record)[:255],
            "incurred_on": record.delivered_on, "paid_on": None, "declared_amount": record.amount,
        })
    # Declare: only lines no one else has declared (one live declaration per line, a unique
    # index: a concurrent submission waits on it, then is refused).
    taken = Conflict(N_("Des dépenses de la période viennent d'être rattachées à un autre bilan : "
                        "rien n'a été déposé, recalculez le bilan."))
    marks.declare("expense", expense_ids, claim.id, taken)
    marks.declare("staff_cost_line", staff_ids, claim.id, taken)
    marks.declare("unit_record", unit_ids, claim.id, taken)
    # The claimed months' timesheets become "locked".
    locked = lock_held_timesheets(claim.id)
    if locked:
        audit.record("lock", "claims", claim.id, after={"timesheets_locked": locked})
    if snapshot:
        db.session.execute(insert(ClaimLine), snapshot)
    figures = computation.figures
    claim.figures = {"declared": figures_to_json(figures), "as_of": today.isoformat(),
                     "payment_deadline": payment_deadline(operation).isoformat()}
    claim.total_eligible = figures.total
    claim.fse_asked = figures.fse_asked
    claim.submitted_at = datetime.now(timezone.utc)
    claim.submitted_by_id = getattr(user, "id", None)
    db.session.flush()
    audit.record("claim_frozen", "claims", claim.id, after={
        "lines": len(snapshot), "total_eligible": figures.total, "fse_asked": figures.fse_asked,
    })
    freeze_indicator_table(claim)  # the participants half of the bilan (participants §2, §3)
    return computation


def _later_in(claim: Claim, states) -> int | None:
    """The number of a later bilan of the operation in one of ``states``, if any."""
    return db.session.scalar(
        select(func.min(Claim.number)).where(Claim.operation_id == claim.operation_id, Claim.number > claim.number,
                                             Claim.state.in_(states))
    )


@atomic
def withdraw_claim(claim: Claim, reason: str, user=None) -> None:
    """Back to draft (by the finance officer, with a reason): lines detached, snapshot dropped.
    Not under a later live bilan: its cumulated figures rest on this one (primer §9)."""
    later = _later_in(claim, ("submitted", "controlled", "paid"))
    if later is not None:
        raise DomainError(N_("Le bilan n° %(number)s, déposé après celui-ci, repose sur ses montants : retirez-le d'abord."),
                          number=later)
    move(claim, "withdraw", "draft", reason)
    unlock_held_timesheets(claim.id)
    marks.release_declarations(claim.id)
    db.session.execute(delete(ClaimLine).where(ClaimLine.claim_id == claim.id))
    claim.figures = None
    claim.total_eligible = claim.fse_asked = None
    claim.submitted_at = None
    claim.submitted_by_id = None
    db.session.flush()
    db.session.expire_all()


@atomic
def reopen_claim(claim: Claim, reason: str, user=None) -> None:
    """An admin reopens a controlled bilan (with a reason): back to submitted, decisions kept.
    Not under a later checked bilan: its FSE+ due rests on this one's (primer §9)."""
    later = _later_in(claim, ("controlled", "paid"))
    if later is not None:
        raise DomainError(N_("Le bilan n° %(number)s, contrôlé après celui-ci, repose sur ses montants retenus : rouvrez-le d'abord."),
                          number=later)
    move(claim, "reopen", "submitted", reason)
    claim.figures = {key: value for key, value in claim.figures.items() if key != "retained"}
    claim.total_retained = claim.fse_due = claim.advance_recovered = None
    claim.controlled_at = None
    claim.controlled_by_id = None
    db.session.flush()


# ---- what the readers of a declared mark are told of its bilan (wired in create_app)


def bilan_numbers(bilan_ids) -> dict:
    """bilan id -> (number, state label)."""
    ids = list(bilan_ids)
    if not ids:
        return {}
    rows = db.session.execute(select(Claim.id, Claim.number, Claim.state).where(Claim.id.in_(ids))).all()
    return {bilan_id: (number, translate_label(CLAIM_STATES, state)) for bilan_id, number, state in rows}


def bilan_state(bilan_id_column):
    return select(Claim.state).where(Claim.id == bilan_id_column).scalar_subquery()

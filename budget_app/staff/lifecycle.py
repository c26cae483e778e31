"""A timesheet's life: draft → submitted → approved by another finance officer than the
one who entered it (four eyes) → locked once a claim holds its month. Approving makes
the month's cost line (hours × rate, or monthly cost × fixed %: ``computations``);
going back to draft removes it. A line that carries a mark (declared in a bilan, held:
``marks``) is the person-month's identity: it is never removed nor recomputed, so its
timesheet cannot go back to draft, be re-approved or change until the mark is released."""
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from ..kernel.audit import services as audit
from ..kernel.dates import month_end
from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.formatting import format_month
from ..kernel.i18n import N_
from ..kernel.transactions import atomic
from ..kernel.transitions import StateMachine, Transition
from ..operations.closure import closed_problem
from . import computations
from ..marks.services import frozen_problem, lines_declared_in
from .models import TIMESHEET_STATES, StaffCostLine, Timesheet

# What a user may do; "lock" and "unlock" are done by a claim's submission and withdrawal.
TIMESHEETS = StateMachine(
    TIMESHEET_STATES,
    [
        Transition("submit", ("draft",), "submitted", N_("Soumettre")),
        Transition("approve", ("submitted",), "approved", N_("Approuver")),
        Transition("reopen", ("submitted", "approved"), "draft", N_("Remettre en brouillon")),
        Transition("lock", ("approved",), "locked"),
        Transition("unlock", ("locked",), "approved"),
    ],
)
USER_ACTIONS = ("submit", "approve", "reopen")
# How an entered or imported sheet reaches the state its entry path gives it (a new sheet
# starts as a draft): the moves, in order, from each state (imports, ``enter_state``).
ENTRY_PATHS = {
    ("draft", "draft"): (), ("draft", "submitted"): ("submit",), ("draft", "approved"): ("submit", "approve"),
    ("submitted", "submitted"): (), ("submitted", "draft"): ("reopen",),
    ("submitted", "approved"): ("approve",),
}


def user_moves(sheet: Timesheet):
    """The moves offered on a timesheet's row."""
    return [move for move in TIMESHEETS.allowed(sheet.state) if move.action in USER_ACTIONS]


def changeable_problem(sheet: Timesheet) -> DomainError | None:
    """Why a timesheet can no longer change (its operation is closed, a claim holds its month), or None."""
    closed = closed_problem(sheet.assignment.operation)
    if closed is not None:
        return closed
    marked = _marked_problem(sheet)
    if marked is not None:
        return marked
    if sheet.state == "locked":
        return DomainError(N_("La fiche de %(month)s est verrouillée (demandée) : elle ne peut plus être modifiée."),
                           month=format_month(sheet.month))
    return None


@atomic
def change_state(sheet: Timesheet, action: str, user) -> None:
    if action not in USER_ACTIONS:
        raise DomainError(N_("Action inconnue."))
    blocked = changeable_problem(sheet)
    if blocked is not None:
        raise blocked
    TIMESHEETS.by_action(sheet.state, action)  # refused here when the table does not allow it
    if action == "approve":
        # Four eyes: the approver is not the one who entered the figures.
        if sheet.entered_by_id is not None and user is not None and sheet.entered_by_id == user.id:
            raise DomainError(N_("Une fiche ne peut pas être approuvée par la personne qui l'a saisie : un autre gestionnaire doit l'approuver."))
        approve(sheet, user)
        return
    if action == "reopen":
        remove_cost_line(sheet)
        sheet.approved_by_id = None
        sheet.approved_at = None
    move(sheet, action)
    db.session.flush()


def approve_many(sheets, user) -> list[tuple]:
    """Batch approval: each sheet in its own savepoint (one refusal leaves the others
    approved). Returns (sheet, DomainError) for those refused, e.g. the approver's own."""
    refused = []
    for sheet in sheets:
        try:
            change_state(sheet, "approve", user)
        except DomainError as error:
            refused.append((sheet, error))
    return refused


def enter_state(sheet: Timesheet, target: str, user, note=None) -> None:
    """The form and the imports put a written sheet in ``target`` (draft, submitted, or
    approved with ``--approved``) through the table, one audited move at a time; a new
    sheet is written as a draft first."""
    if sheet.id is None:
        db.session.flush()  # written as a draft (the column's default), the table's first state
    path = ENTRY_PATHS.get((sheet.state, target))
    if path is None:
        raise DomainError(TIMESHEETS.refusal, state=TIMESHEETS.label(sheet.state), target=TIMESHEETS.label(target))
    for action in path:
        if action == "approve":
            approve(sheet, user, note=note)
        else:
            move(sheet, action, note=note)


def move(sheet: Timesheet, action: str, note=None) -> str:
    """One move of the table and its audit entry; returns the state left."""
    transition = TIMESHEETS.by_action(sheet.state, action)
    before = TIMESHEETS.move(sheet, transition)
    audit.record(action, "timesheets", sheet.id, before={"state": before}, after={"state": transition.target},
                 note=note)
    return before


def approve(sheet: Timesheet, user, note=None) -> None:
    before = TIMESHEETS.move(sheet, TIMESHEETS.by_action(sheet.state, "approve"))
    sheet.approved_by_id = user.id if user is not None else None
    sheet.approved_at = datetime.now(timezone.utc)
    line = refresh_cost_line(sheet)
    db.session.flush()
    audit.record("approve", "timesheets", sheet.id, before={"state": before},
                 after={"state": "approved", "amount": line.amount, "computation": line.computation}, note=note)


def salary_pay_day(month, operation) -> date:
    """The month's end + the operation's pay delay (« le 5 du mois suivant »: 5 days)."""
    return month_end(month) + timedelta(days=operation.salary_pay_delay or 0)


def refresh_cost_line(sheet: Timesheet) -> StaffCostLine:
    """The PERSONNEL cost of an approved person-month, with its computation kept."""
    _ensure_unmarked(sheet)
    assignment = sheet.assignment
    with db.session.no_autoflush:
        if assignment.method == "hourly":
            cost = next((cost for cost in assignment.annual_costs if cost.year == sheet.month.year), None)
            if cost is None:
                raise DomainError(N_("Aucun coût annuel %(year)s pour %(number)s : le taux horaire ne peut être calculé."),
                                  year=sheet.month.year, number=assignment.person.registration_number)
            amount, text = computations.hourly_amount(sheet.hours_on_operation, cost.hourly_rate)
            values = {"hours": sheet.hours_on_operation, "hourly_rate": cost.hourly_rate,
                      "monthly_cost": None, "monthly_hours": None, "fixed_percent": None, "days_in_period": None}
        elif assignment.method == "hourly_monthly":
            # Method B (CPR 55(2)(b)): the year's monthly cost / monthly hours of the contract.
            cost = next((cost for cost in assignment.monthly_costs if cost.year == sheet.month.year), None)
            if cost is None:
                raise DomainError(N_("Aucun coût mensuel %(year)s pour %(number)s (méthode B) : le taux horaire ne peut être calculé."),
                                  year=sheet.month.year, number=assignment.person.registration_number)
            amount, rate, text = computations.monthly_hourly_amount(sheet.hours_on_operation, cost.monthly_cost,
                                                                    cost.monthly_hours)
            values = {"hours": sheet.hours_on_operation, "hourly_rate": rate, "monthly_cost": cost.monthly_cost,
                      "monthly_hours": cost.monthly_hours, "fixed_percent": None, "days_in_period": None}
        else:
            operation = assignment.operation
            days = computations.days_in_operation(sheet.month, operation.start_date, operation.end_date)
            amount, text = computations.fixed_share_amount(
                sheet.monthly_cost, assignment.fixed_percent, days, computations.days_in_month(sheet.month))
            values = {"hours": None, "hourly_rate": None, "monthly_cost": sheet.monthly_cost, "monthly_hours": None,
                      "fixed_percent": assignment.fixed_percent, "days_in_period": days}
        values.update(operation_id=assignment.operation_id, person_id=assignment.person_id, month=sheet.month,
                      amount=amount, computation=text,
                      paid_on=sheet.salary_paid_on or salary_pay_day(sheet.month, assignment.operation))
        line = sheet.cost_line
        if line is None:
            line = StaffCostLine(timesheet=sheet, **values)
            db.session.add(line)
        else:
            for key, value in values.items():
                setattr(line, key, value)
    return line


def _marked_problem(sheet: Timesheet) -> DomainError | None:
    line = sheet.cost_line
    if line is None or line.id is None:
        return None
    return frozen_problem("staff_cost_line", line.id, DomainError(N_("La fiche de %(month)s"),
                                                                  month=format_month(sheet.month)))


def _ensure_unmarked(sheet: Timesheet) -> None:
    """Whatever path asks (a move, an import, a change), a marked line stays as it is."""
    marked = _marked_problem(sheet)
    if marked is not None:
        raise marked


def remove_cost_line(sheet: Timesheet) -> None:
    _ensure_unmarked(sheet)
    if sheet.cost_line is not None:
        db.session.delete(sheet.cost_line)
        sheet.cost_line = None
        db.session.flush()


def lock_held_timesheets(bilan_id: int) -> int:
    """For the claims domain, at submission: the timesheets of the cost lines declared in
    bilan ``bilan_id`` become 'locked' (no change after that). Returns how many."""
    sheets = _declared_sheets(bilan_id, "approved")
    move_all_sheets(sheets, "lock")
    return len(sheets)


def unlock_held_timesheets(bilan_id: int) -> int:
    """For the claims domain, when a bilan goes back to draft (before its declarations are
    released): its months' timesheets are approved again (their cost lines are free for
    another bilan), each through the table with its audit entry. Returns how many."""
    sheets = _declared_sheets(bilan_id, "locked")
    move_all_sheets(sheets, "unlock")
    return len(sheets)


def _declared_sheets(bilan_id: int, state: str) -> list[Timesheet]:
    return db.session.scalars(
        select(Timesheet)
        .join(StaffCostLine, StaffCostLine.timesheet_id == Timesheet.id)
        .where(StaffCostLine.id.in_(lines_declared_in("staff_cost_line", bilan_id)), Timesheet.state == state)
    ).all()


def move_all_sheets(sheets, action: str) -> None:
    """A bilan's timesheets at once: one guarded UPDATE through the table, one audit entry
    per sheet (``kernel.transitions.move_all``)."""
    transition = next(move for move in TIMESHEETS.transitions if move.action == action)
    before = TIMESHEETS.move_all(sheets, transition)
    audit.record_many(action, "timesheets", [(sheet.id, {"state": state}, {"state": transition.target})
                                              for sheet, state in zip(sheets, before, strict=True)])

"""Which cost lines a claim includes, in one place: the computation, the list of lines left
out (with their reason) and the submission all read the same rules (``expense_rules``,
``staff_rules``); each rule is written once, with its reason and its positive form.

A line of the period is included when it is in no other claim, not in a category a flat
rate covers, incurred and paid within the eligibility period (Décret art. 4), complete
(invoice and proof of payment, Décret art. 7), paid by the claim date (primer §5.1), its
timesheet approved (staff); lines under suspicion (alerts) and credit notes that would
make a category negative are then left out in Python.
"""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, case, false, func, literal, null, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from ..alerts.suspicions import suspected_cost_lines
from ..expenses.models import Expense
from ..kernel.extensions import db
from ..kernel.formatting import today_in_paris
from ..kernel.i18n import N_
from ..operations.models import Operation
from ..staff.models import CLAIMABLE_TIMESHEET_STATES, Person, StaffCostLine, Timesheet
from .computation import ClaimFigures, covered_categories
from .figures import figures_for, frozen_declared_figures, plan_context

ZERO = Decimal("0.00")
CHUNK = 5000  # ids per ... IN (...): under SQLite's bound-parameter limit

# Why a cost line of the period is left out of a claim (shown with the line).
LEFT_OUT_REASONS = {
    "already_claimed": N_("Déjà dans une autre demande"),
    "covered_by_flat_rate": N_("Catégorie couverte par un taux forfaitaire"),
    "outside_eligibility": N_("Hors période d'éligibilité"),
    "incomplete": N_("Pièces justificatives incomplètes"),
    "not_paid": N_("Non acquittée à la date de la demande"),
    "timesheet_not_approved": N_("Fiche de temps non approuvée"),
    "suspicion": N_("Signalement en cours (suspicion)"),
    "credit_note": N_("Avoir supérieur aux dépenses de sa catégorie sur la période"),
}


@dataclass(frozen=True)
class Rule:
    reason: str  # a LEFT_OUT_REASONS code
    left_out: ColumnElement  # true when the line is left out for that reason
    kept: ColumnElement  # the same rule as a positive condition (a NULL leaves the line out)


def expense_rules(operation: Operation, as_of: date, covered: set, incurred_checked: bool = False) -> list[Rule]:
    """``incurred_checked``: the query already keeps incurred_on inside the eligibility
    period, so the positive form need not test it on every row."""
    start, end = operation.start_date, operation.end_date
    incurred_kept = [] if incurred_checked else [Expense.incurred_on >= start, Expense.incurred_on <= end]
    rules = [Rule("already_claimed", Expense.claim_id.is_not(None), Expense.claim_id.is_(None))]
    if covered:
        rules.append(Rule("covered_by_flat_rate", Expense.category.in_(sorted(covered)),
                          Expense.category.not_in(sorted(covered))))
    return rules + [
        # Décret art. 4: incurred AND paid inside the eligibility period.
        Rule(
            "outside_eligibility",
            or_(Expense.incurred_on < start, Expense.incurred_on > end, Expense.paid_on < start, Expense.paid_on > end),
            and_(*incurred_kept, Expense.paid_on >= start, Expense.paid_on <= end),
        ),
        Rule("incomplete", Expense.is_complete.is_(False), Expense.is_complete.is_(True)),
        # Paid before the claim is submitted (primer §5.1): by today for a draft.
        Rule("not_paid", or_(Expense.paid_on.is_(None), Expense.paid_on > as_of), Expense.paid_on <= as_of),
    ]


def staff_rules(operation: Operation, covered: set) -> list[Rule]:
    rules = [Rule("already_claimed", StaffCostLine.claim_id.is_not(None), StaffCostLine.claim_id.is_(None))]
    if "PERSONNEL" in covered:
        rules.append(Rule("covered_by_flat_rate", true(), false()))
    first_month = operation.start_date.replace(day=1)
    return rules + [
        Rule(
            "outside_eligibility",
            or_(StaffCostLine.month < first_month, StaffCostLine.month > operation.end_date),
            and_(StaffCostLine.month >= first_month, StaffCostLine.month <= operation.end_date),
        ),
        Rule(
            "timesheet_not_approved",
            Timesheet.state.not_in(CLAIMABLE_TIMESHEET_STATES),
            Timesheet.state.in_(CLAIMABLE_TIMESHEET_STATES),
        ),
    ]


def reason_of(rules: list[Rule]):
    """The first reason a line is left out, or NULL when it is included."""
    return case(*[(rule.left_out, literal(rule.reason)) for rule in rules], else_=null())


def kept_by(rules: list[Rule]):
    return and_(*[rule.kept for rule in rules])


def expense_period(operation: Operation, start: date, end: date):
    return (
        Expense.operation_id == operation.id,
        Expense.deleted_at.is_(None),
        Expense.incurred_on >= start,
        Expense.incurred_on <= end,
    )


def staff_period(operation: Operation, start: date, end: date):
    # A month is in the period when its first day is (staff cost lines are monthly).
    return (
        StaffCostLine.operation_id == operation.id,
        StaffCostLine.month >= start,
        StaffCostLine.month <= end,
    )


@dataclass
class LeftOutLine:
    kind: str  # "expense" | "staff"
    id: int
    category: str
    description: str
    reference: str
    day: date
    amount: Decimal
    reason: str


@dataclass
class Computation:
    """A claim's figures with what they were computed from."""

    figures: ClaimFigures
    as_of: date
    left_out: list = field(default_factory=list)
    # Ids excluded in Python (suspicions, credit notes) on top of the SQL conditions.
    excluded_expense_ids: set = field(default_factory=set)
    excluded_staff_ids: set = field(default_factory=set)
    expense_count: int = 0
    staff_count: int = 0


def compute_period(
    operation: Operation, start: date, end: date, as_of: date | None = None, claim_id: int | None = None,
    list_left_out: bool = True,
) -> Computation:
    """The draft figures of a period: sums in the database (one grouped scan per kind),
    then the few lines excluded in Python (suspicions, credit notes)."""
    as_of = as_of or today_in_paris()
    context = plan_context(operation)
    covered = covered_categories(context["rates"])
    # One grouped scan per kind: the included lines' sums, and how many were left out
    # (their reasons are read only when there are some).
    # The scan is limited to the part of the period inside the eligibility period; lines of
    # the period outside it are only listed (left out).
    beyond_eligibility = start < operation.start_date or end > operation.end_date
    included = kept_by(expense_rules(operation, as_of, covered, incurred_checked=True))
    sums: dict = {}
    left_out_count = 1 if beyond_eligibility else 0
    rows = db.session.execute(
        select(
            Expense.category,
            func.sum(case((included, Expense.eligible_amount))),
            func.count(case((included, 1))),
            func.count(),
        )
        .where(*expense_period(operation, max(start, operation.start_date), min(end, operation.end_date)))
        .group_by(Expense.category)
    ).all()
    expense_count = 0
    for category, amount, count, lines in rows:
        if count:
            sums[category] = amount or ZERO
            expense_count += count
        left_out_count += lines - count
    staff_included = kept_by(staff_rules(operation, covered))
    staff_row = db.session.execute(
        select(func.sum(case((staff_included, StaffCostLine.amount))), func.count(case((staff_included, 1))),
               func.count())
        .join(Timesheet, Timesheet.id == StaffCostLine.timesheet_id)
        .where(*staff_period(operation, start, end))
    ).one()
    staff_count = staff_row[1]
    if staff_count:
        sums["PERSONNEL"] = sums.get("PERSONNEL", ZERO) + (staff_row[0] or ZERO)
    left_out_count += staff_row[2] - staff_count
    reason = reason_of(expense_rules(operation, as_of, covered)).label("reason_code")
    staff_reason = reason_of(staff_rules(operation, covered)).label("reason_code")

    computation = Computation(figures=None, as_of=as_of)
    left_out: list[LeftOutLine] = []
    # Suspected lines (alerts) stay out until the referent lifts the suspicion.
    suspected = suspected_cost_lines(operation.id)
    suspected_expenses = {line_id for kind, line_id in suspected if kind == "expense"}
    suspected_staff = {line_id for kind, line_id in suspected if kind == "staff_cost_line"}
    for chunk in chunks(sorted(suspected_expenses)):
        for line in db.session.execute(
            select(Expense, reason).where(*expense_period(operation, start, end), Expense.id.in_(chunk))
        ).all():
            expense, code = line
            if code is None:
                sums[expense.category] -= expense.eligible_amount
                expense_count -= 1
                computation.excluded_expense_ids.add(expense.id)
                left_out.append(_left_out_expense(expense, "suspicion"))
    for chunk in chunks(sorted(suspected_staff)):
        for line, code in db.session.execute(
            select(StaffCostLine, staff_reason)
            .join(Timesheet, Timesheet.id == StaffCostLine.timesheet_id)
            .where(*staff_period(operation, start, end), StaffCostLine.id.in_(chunk))
        ).all():
            if code is None:
                sums["PERSONNEL"] -= line.amount
                staff_count -= 1
                computation.excluded_staff_ids.add(line.id)
                left_out.append(_left_out_staff(line, "suspicion"))
    # A credit note never makes a category negative in a claim: the latest credit notes
    # of such a category are left out until it is not negative; they go into a claim
    # whose period also holds enough costs of that category.
    for category, amount in list(sums.items()):
        if amount >= 0:
            continue
        notes = db.session.scalars(
            select(Expense)
            .where(
                *expense_period(operation, max(start, operation.start_date), min(end, operation.end_date)),
                included,
                Expense.category == category,
                Expense.eligible_amount < 0,
            )
            .order_by(Expense.incurred_on.desc(), Expense.id.desc())
        ).all()
        for note in notes:
            if sums[category] >= 0:
                break
            if note.id in computation.excluded_expense_ids:
                continue
            sums[category] -= note.eligible_amount
            expense_count -= 1
            computation.excluded_expense_ids.add(note.id)
            left_out.append(_left_out_expense(note, "credit_note"))

    if list_left_out and left_out_count:
        left_out += list(_left_out_lines(operation, start, end, as_of, covered))
    computation.figures = figures_for(operation, sums, claim_id, context)
    computation.left_out = sorted(left_out, key=lambda line: (line.kind, line.day, line.id))
    computation.expense_count = expense_count
    computation.staff_count = staff_count
    return computation


def _left_out_expense(expense: Expense, reason: str) -> LeftOutLine:
    return LeftOutLine(
        "expense", expense.id, expense.category, expense.label, f"{expense.supplier_name} n° {expense.document_number}",
        expense.incurred_on, expense.eligible_amount, reason,
    )


def _left_out_staff(line: StaffCostLine, reason: str) -> LeftOutLine:
    person = line.person
    return LeftOutLine(
        "staff", line.id, "PERSONNEL", line.computation, f"{person.last_name} {person.first_name}", line.month,
        line.amount, reason,
    )


def _left_out_lines(operation, start, end, as_of, covered):
    reason = reason_of(expense_rules(operation, as_of, covered))
    for expense, code in db.session.execute(
        select(Expense, reason).where(*expense_period(operation, start, end), reason.is_not(None))
    ).all():
        yield _left_out_expense(expense, code)
    staff_reason = reason_of(staff_rules(operation, covered))
    for line, code in db.session.execute(
        select(StaffCostLine, staff_reason)
        .join(Timesheet, Timesheet.id == StaffCostLine.timesheet_id)
        .where(*staff_period(operation, start, end), staff_reason.is_not(None))
    ).all():
        yield _left_out_staff(line, code)


def included_expenses_query(operation, start, end, computation: Computation):
    """The expenses a draft counts, as a select() (streamed by the exports and the submission)."""
    covered = covered_categories(plan_context(operation)["rates"])
    query = select(Expense).where(
        *expense_period(operation, start, end), kept_by(expense_rules(operation, computation.as_of, covered))
    )
    if computation.excluded_expense_ids:
        query = query.where(Expense.id.not_in(sorted(computation.excluded_expense_ids)))
    return query.order_by(Expense.category, Expense.incurred_on, Expense.id)


def included_staff_query(operation, start, end, computation: Computation):
    covered = covered_categories(plan_context(operation)["rates"])
    query = (
        select(StaffCostLine)
        .join(Timesheet, Timesheet.id == StaffCostLine.timesheet_id)
        .join(Person, Person.id == StaffCostLine.person_id)
        .where(*staff_period(operation, start, end), kept_by(staff_rules(operation, covered)))
    )
    if computation.excluded_staff_ids:
        query = query.where(StaffCostLine.id.not_in(sorted(computation.excluded_staff_ids)))
    return query.order_by(StaffCostLine.month, Person.last_name, Person.first_name, StaffCostLine.id)


def chunks(values, size=CHUNK):
    for index in range(0, len(values), size):
        yield values[index:index + size]


def declared_figures(claim) -> ClaimFigures:
    """Frozen at submission; recomputed while draft."""
    frozen = frozen_declared_figures(claim)
    if frozen is not None:
        return frozen
    return compute_period(claim.operation, claim.period_start, claim.period_end, claim_id=claim.id,
                          list_left_out=False).figures

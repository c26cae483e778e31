"""Which cost lines a statement or a bilan includes, in one place: the computation, the
list of lines left out (with their reason) and the submission all read the same rules
(``expense_rules``, ``staff_rules``) over the same scope (``Scope``); each rule is written
once, with its reason and its positive form.

A line is included when it is in no other bilan, not replaced by a flat rate, incurred in the realisation
period (Décret art. 4), paid (a staff month: its salary) in the payment period (primer §9) and by the bilan's
date (primer §5.1), complete (invoice and proof of payment, Décret art. 7), its timesheet approved (staff);
lines under suspicion (alerts) are then left out in Python. Credit notes are netted in their period, even
when a category goes negative (primer §9).

Scope (primer §9, "nothing falls between two bilans"):
- a statement (état récapitulatif) takes the lines of its period;
- a bilan takes the lines of its period, and the lines of earlier periods that no earlier
  bilan could take (paid, completed or approved late, credit notes on a checked line);
- a staff month belongs to the period holding its last day within the operation
  (min(end of month, end of the operation)): a bilan ending on 15 June leaves June to
  the next one; a month is in one bilan only.
"""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, case, false, func, literal, not_, null, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from ..alerts.suspicions import SUSPICION_LABEL, suspected_cost_lines
from ..expenses.models import Expense
from ..kernel.dates import add_months, month_end, month_start
from ..kernel.extensions import db
from ..kernel.formatting import today_in_paris
from ..kernel.i18n import N_
from ..kernel.money import ZERO
from ..marks.services import HOLD_LABEL, has_live_mark
from ..operations.flat_rates import covered_parts
from ..operations.models import Operation
from ..operations.plans import payment_deadline
from ..staff.evidence import month_document_attached, year_document_attached
from ..staff.payment_dates import salary_payment_rules
from ..staff.models import CLAIMABLE_TIMESHEET_STATES, Person, StaffCostLine, Timesheet
from .computation import ClaimFigures, covered_categories
from .figures import figures_for, frozen_declared_figures, plan_context
from .holds import held_cost_lines
from .models import Claim
from .reasons import LEFT_OUT_REASONS, Rule, kept_by, left_out_reasons, reason_of  # noqa: F401  (read from here)
from .unit_selection import included_units_query, left_out_units, unit_sums

CHUNK = 5000  # ids per ... IN (...): under SQLite's bound-parameter limit

def covered_expense(rates) -> ColumnElement | None:
    """True for an expense a chosen flat rate replaces (primer §3, §9): a covered category,
    or the covered part of a partly covered one (participants' costs other than their pay
    and allowances under RESTANTS_40, CPR 56(2))."""
    conditions = []
    full = covered_categories(rates)
    if full:
        conditions.append(Expense.category.in_(sorted(full)))
    for category, declared in covered_parts(rates).items():
        conditions.append(and_(Expense.category == category,
                               or_(Expense.subcategory.is_(None), Expense.subcategory.not_in(declared))))
    return or_(*conditions) if conditions else None


def expense_rules(operation: Operation, as_of: date, rates, incurred_checked: bool = False,
                  evidence: bool = True, deadline=None) -> list[Rule]:
    """``incurred_checked``: the query already keeps incurred_on inside the realisation
    period, so the positive form need not test it on every row. ``evidence`` False: a
    statement, which counts lines still missing their documents (``evidence_rules``).
    ``deadline``: given when ``operation`` holds SQL columns (``reporting.overview``)."""
    start, end = operation.start_date, operation.end_date
    deadline = payment_deadline(operation) if deadline is None else deadline
    declared = has_live_mark("expense", Expense.id, "declared")
    rules = [Rule("already_claimed", declared, not_(declared))]
    covered = covered_expense(rates)
    if covered is not None:
        rules.append(Rule("covered_by_flat_rate", covered, not_(covered)))
    incurred_kept = [] if incurred_checked else [Expense.incurred_on >= start, Expense.incurred_on <= end]
    return rules + [
        # Décret art. 4: incurred inside the realisation period.
        Rule("outside_eligibility", or_(Expense.incurred_on < start, Expense.incurred_on > end),
             and_(*incurred_kept) if incurred_kept else true()),
        # Primer §9: paid between the start and the payment deadline (end + 6 months by default).
        Rule("outside_payment_period", or_(Expense.paid_on < start, Expense.paid_on > deadline),
             and_(Expense.paid_on >= start, Expense.paid_on <= deadline)),
        *(expense_evidence_rules() if evidence else []),
        # Paid before the bilan is submitted (primer §5.1, §9): by today for a draft.
        Rule("not_paid", or_(Expense.paid_on.is_(None), Expense.paid_on > as_of), Expense.paid_on <= as_of),
    ]


def expense_evidence_rules() -> list[Rule]:
    """Décret art. 7: an invoice and a proof of payment attached."""
    return [Rule("incomplete", Expense.is_complete.is_(False), Expense.is_complete.is_(True))]


def staff_evidence_rules(operation: Operation) -> list[Rule]:
    """Primer §1, §4: the month's signed timesheet or payslip, the year's contract or
    mission letter (``staff.evidence``; months before ``staff_evidence_from`` need none)."""
    month, year = month_document_attached(operation), year_document_attached(operation)
    return [Rule("staff_month_evidence", not_(month), month), Rule("staff_year_evidence", not_(year), year)]


def staff_rules(operation: Operation, rates, evidence: bool = True, as_of: date | None = None,
                deadline=None, first_month=None) -> list[Rule]:
    """``deadline``, ``first_month``: given when ``operation`` holds SQL columns (``expense_rules``)."""
    declared = has_live_mark("staff_cost_line", StaffCostLine.id, "declared")
    rules = [Rule("already_claimed", declared, not_(declared))]
    if "PERSONNEL" in covered_categories(rates):
        rules.append(Rule("covered_by_flat_rate", true(), false()))
    first_month = month_start(operation.start_date) if first_month is None else first_month
    return rules + [
        Rule("outside_eligibility", or_(StaffCostLine.month < first_month, StaffCostLine.month > operation.end_date),
             and_(StaffCostLine.month >= first_month, StaffCostLine.month <= operation.end_date)),
        Rule("timesheet_not_approved", Timesheet.state.not_in(CLAIMABLE_TIMESHEET_STATES),
             Timesheet.state.in_(CLAIMABLE_TIMESHEET_STATES)),
        *(staff_evidence_rules(operation) if evidence else []),
        *salary_payment_rules(operation, as_of, Rule, deadline=deadline),
    ]


def last_staff_month(operation: Operation, end: date) -> date:
    """The last month whose last day within the operation is on or before ``end``."""
    if end >= operation.end_date:
        return month_start(operation.end_date)
    if end == month_end(end):
        return month_start(end)
    return add_months(month_start(end), -1)


@dataclass(frozen=True)
class Scope:
    """The lines a statement (``catch_up`` False) or a bilan (True) looks at."""

    operation: Operation
    start: date
    end: date
    catch_up: bool = False

    def expenses(self, within_realisation: bool = False):
        operation = self.operation
        start, end = self.start, self.end
        if within_realisation:
            start, end = max(start, operation.start_date), min(end, operation.end_date)
        conditions = [Expense.operation_id == operation.id, Expense.deleted_at.is_(None), Expense.incurred_on <= end]
        conditions.append(self.from_start(Expense.incurred_on, start, operation.start_date, "expense", Expense.id))
        return conditions

    def staff(self):
        operation = self.operation
        first, last = month_start(self.start), last_staff_month(operation, self.end)
        conditions = [StaffCostLine.operation_id == operation.id, StaffCostLine.month <= last]
        first_of_operation = month_start(operation.start_date)
        conditions.append(self.from_start(StaffCostLine.month, first, first_of_operation,
                                          "staff_cost_line", StaffCostLine.id))
        return conditions

    def from_start(self, day, first, first_of_operation, line_type: str, line_id):
        """Lines from the period's first day; a bilan also takes the lines of earlier periods
        (from the operation's first day) that no bilan declared. One rule for every kind of
        cost line (expenses, staff lines, unit records)."""
        if self.catch_up and first > first_of_operation:
            return or_(day >= first, and_(day >= first_of_operation, not_(has_live_mark(line_type, line_id, "declared"))))
        return day >= first


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
    """A statement's or a bilan's figures with what they were computed from."""

    figures: ClaimFigures
    as_of: date
    left_out: list = field(default_factory=list)
    # Ids excluded in Python (suspicions) on top of the SQL conditions.
    excluded_expense_ids: set = field(default_factory=set)
    excluded_staff_ids: set = field(default_factory=set)
    excluded_unit_ids: set = field(default_factory=set)
    expense_count: int = 0
    staff_count: int = 0
    unit_count: int = 0
    scope: Scope | None = None
    rates: dict = field(default_factory=dict)
    # A bilan counts complete lines only; a statement counts every line (claims.evidence).
    evidence_required: bool = True


def compute_period(
    operation: Operation, start: date, end: date, as_of: date | None = None, claim_id: int | None = None,
    list_left_out: bool = True, claim=None, evidence: bool | None = None,
) -> Computation:
    """The draft figures of a statement (no ``claim``) or a bilan: sums in the database (one
    grouped scan per kind), then the few lines excluded in Python (suspicions). ``evidence``:
    lines missing documents left out (bilan; default with ``claim``) or counted (statement)."""
    as_of = as_of or today_in_paris()
    evidence = claim is not None or claim_id is not None if evidence is None else evidence
    if claim is None and claim_id is not None:
        claim = db.session.get(Claim, claim_id)
    context = plan_context(operation)
    rates = context["rates"]
    scope = Scope(operation, start, end, catch_up=claim is not None)
    # One grouped scan per kind: the included lines' sums, and how many were left out
    # (their reasons are read only when there are some). The scan is limited to the part
    # of the period inside the realisation period; lines outside it are only listed.
    beyond_realisation = start < operation.start_date or end > operation.end_date
    included = kept_by(expense_rules(operation, as_of, rates, incurred_checked=True, evidence=evidence))
    sums: dict = {}
    left_out_count = 1 if beyond_realisation else 0
    rows = db.session.execute(
        select(Expense.category, func.sum(case((included, Expense.eligible_amount))), func.count(case((included, 1))),
               func.count())
        .where(*scope.expenses(within_realisation=True))
        .group_by(Expense.category)
    ).all()
    expense_count = 0
    for category, amount, count, lines in rows:
        if count:
            sums[category] = amount or ZERO
            expense_count += count
        left_out_count += lines - count
    staff_included = kept_by(staff_rules(operation, rates, evidence=evidence, as_of=as_of))
    staff_row = db.session.execute(
        select(func.sum(case((staff_included, StaffCostLine.amount))), func.count(case((staff_included, 1))),
               func.count())
        .join(Timesheet, Timesheet.id == StaffCostLine.timesheet_id)
        .where(*scope.staff())
    ).one()
    staff_count = staff_row[1]
    if staff_count:
        sums["PERSONNEL"] = sums.get("PERSONNEL", ZERO) + (staff_row[0] or ZERO)
    left_out_count += staff_row[2] - staff_count

    computation = Computation(figures=None, as_of=as_of, scope=scope, rates=rates, evidence_required=evidence)
    # Held lines (their marks) stay out until released, whoever asked: under suspicion
    # (alerts) or held by the managing authority (``holds``); both read « En attente »,
    # only the referent reads which lines are under suspicion.
    suspected = suspected_cost_lines(operation.id)
    held = held_cost_lines(operation.id)
    # Unit costs and lump sums (``unit_selection``): in their bilan category.
    unit_amounts, computation.unit_count, units_left_out, computation.excluded_unit_ids, left_out = unit_sums(
        scope, evidence, held)
    for category, amount in unit_amounts.items():
        sums[category] = sums.get(category, ZERO) + amount
    left_out_count += units_left_out
    held_expenses = {line_id for kind, line_id in held if kind == "expense"}
    held_staff = {line_id for kind, line_id in held if kind == "staff_cost_line"}
    reason = reason_of(expense_rules(operation, as_of, rates, evidence=evidence)).label("reason_code")
    staff_reason = reason_of(staff_rules(operation, rates, evidence=evidence, as_of=as_of)).label("reason_code")
    for chunk in chunks(sorted(held_expenses)):
        for expense, code in db.session.execute(
            select(Expense, reason).where(*scope.expenses(), Expense.id.in_(chunk))
        ).all():
            if code is None:
                sums[expense.category] -= expense.eligible_amount
                expense_count -= 1
                computation.excluded_expense_ids.add(expense.id)
                left_out.append(_left_out_expense(expense, _hold_reason(("expense", expense.id), suspected)))
    for chunk in chunks(sorted(held_staff)):
        for line, code in db.session.execute(
            select(StaffCostLine, staff_reason)
            .join(Timesheet, Timesheet.id == StaffCostLine.timesheet_id)
            .where(*scope.staff(), StaffCostLine.id.in_(chunk))
        ).all():
            if code is None:
                sums["PERSONNEL"] -= line.amount
                staff_count -= 1
                computation.excluded_staff_ids.add(line.id)
                left_out.append(_left_out_staff(line, _hold_reason(("staff_cost_line", line.id), suspected)))

    if list_left_out and left_out_count:
        left_out += list(_left_out_lines(scope, as_of, rates, evidence)) + list(left_out_units(scope, evidence))
    computation.figures = figures_for(operation, sums, claim, context)
    computation.left_out = sorted(left_out, key=lambda line: (line.kind, line.day, line.id))
    computation.expense_count = expense_count
    computation.staff_count = staff_count
    return computation


def _hold_reason(pair, suspected) -> str:
    """"on_hold" for a line under suspicion, "held" for one the authority holds: the same
    words for everyone (``left_out_reasons``), except the referent, who reads the first."""
    return "on_hold" if pair in suspected else "held"


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


def _left_out_lines(scope: Scope, as_of, rates, evidence: bool = True):
    operation = scope.operation
    reason = reason_of(expense_rules(operation, as_of, rates, evidence=evidence))
    for expense, code in db.session.execute(
        select(Expense, reason).where(*scope.expenses(), reason.is_not(None))
    ).all():
        yield _left_out_expense(expense, code)
    staff_reason = reason_of(staff_rules(operation, rates, evidence=evidence, as_of=as_of))
    for line, code in db.session.execute(
        select(StaffCostLine, staff_reason)
        .join(Timesheet, Timesheet.id == StaffCostLine.timesheet_id)
        .where(*scope.staff(), staff_reason.is_not(None))
    ).all():
        yield _left_out_staff(line, code)


def _scope(operation, start, end, computation: Computation) -> Scope:
    return computation.scope or Scope(operation, start, end)


def included_expenses_query(operation, start, end, computation: Computation):
    """The expenses a draft counts, as a select() (streamed by the exports and the submission)."""
    query = select(Expense).where(
        *_scope(operation, start, end, computation).expenses(),
        kept_by(expense_rules(operation, computation.as_of, computation.rates,
                              evidence=computation.evidence_required)),
    )
    if computation.excluded_expense_ids:
        query = query.where(Expense.id.not_in(sorted(computation.excluded_expense_ids)))
    return query.order_by(Expense.category, Expense.incurred_on, Expense.id)


def included_staff_query(operation, start, end, computation: Computation):
    query = (
        select(StaffCostLine)
        .join(Timesheet, Timesheet.id == StaffCostLine.timesheet_id)
        .join(Person, Person.id == StaffCostLine.person_id)
        .where(*_scope(operation, start, end, computation).staff(),
               kept_by(staff_rules(operation, computation.rates, computation.evidence_required, computation.as_of)))
    )
    if computation.excluded_staff_ids:
        query = query.where(StaffCostLine.id.not_in(sorted(computation.excluded_staff_ids)))
    return query.order_by(StaffCostLine.month, Person.last_name, Person.first_name, StaffCostLine.id)


def included_units(operation, start, end, computation: Computation):
    """The unit costs and lump sums a draft counts, as a select()."""
    return included_units_query(_scope(operation, start, end, computation), computation.evidence_required,
                                computation.excluded_unit_ids)


def chunks(values, size=CHUNK):
    for index in range(0, len(values), size):
        yield values[index:index + size]


def declared_figures(claim) -> ClaimFigures:
    """Frozen at submission; recomputed while draft."""
    frozen = frozen_declared_figures(claim)
    if frozen is not None:
        return frozen
    return compute_period(claim.operation, claim.period_start, claim.period_end, claim=claim,
                          list_left_out=False).figures


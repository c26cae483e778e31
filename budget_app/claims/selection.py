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

from sqlalchemy import and_, false, literal, not_, null, or_, select, true
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
from .left_out_rows import (  # noqa: F401  (LeftOutLine, expense_line, staff_line: read from here)
    LeftOutLine, add_total, expense_line, expense_rows, expense_totals, first_left_out, staff_line, staff_rows,
    staff_totals,
)
from .models import Claim
from .reasons import LEFT_OUT_REASONS, Rule, kept_by, left_out_reasons, reason_of  # noqa: F401  (read from here)
from .unit_selection import included_units_query, left_out_units, unit_reason_totals, unit_sums

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
        # A line with no payment date is not outside that period: "not_paid" (primer §5.1) leaves
        # it out. Both forms say so (NULL kept here, as the reason is NULL), so that the rules
        # read apart (the kept figures leave "not_paid" to a group of their own) still agree.
        Rule("outside_payment_period", or_(Expense.paid_on < start, Expense.paid_on > deadline),
             or_(Expense.paid_on.is_(None), and_(Expense.paid_on >= start, Expense.paid_on <= deadline))),
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
class Computation:
    """A statement's or a bilan's figures with what they were computed from."""

    figures: ClaimFigures
    as_of: date
    left_out: list = field(default_factory=list)
    # reason -> (lines, total) of every line left out, also when ``left_out`` is the first ones only.
    left_out_totals: dict = field(default_factory=dict)
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
    list_left_out: bool = True, claim=None, evidence: bool | None = None, left_out_limit: int | None = None,
) -> Computation:
    """The draft figures of a statement (no ``claim``) or a bilan: sums in the database (one
    grouped scan per kind), then the few lines excluded in Python (suspicions). ``evidence``:
    lines missing documents left out (bilan; default with ``claim``) or counted (statement).
    ``list_left_out``: the lines left out, with their count and total per reason; only the
    first ``left_out_limit`` lines (by kind, day, id) when given (a page shows a part of them;
    the counts and totals are still of every line)."""
    as_of = as_of or today_in_paris()
    evidence = claim is not None or claim_id is not None if evidence is None else evidence
    if claim is None and claim_id is not None:
        claim = db.session.get(Claim, claim_id)
    context = plan_context(operation)
    rates = context["rates"]
    scope = Scope(operation, start, end, catch_up=claim is not None)
    # One grouped scan per kind, by category and reason: the included lines' sums (no
    # reason) and the left-out lines' count and total per reason; the lines themselves are
    # read only when asked, the first ``left_out_limit`` when given.
    reason = reason_of(expense_rules(operation, as_of, rates, evidence=evidence))
    staff_reason = reason_of(staff_rules(operation, rates, evidence=evidence, as_of=as_of))
    sums: dict = {}
    totals: dict = {}
    expense_count = staff_count = 0
    for category, code, count, amount in expense_totals(scope.expenses(), reason):
        if code is None:
            sums[category] = amount or ZERO
            expense_count += count
        else:
            add_total(totals, code, count, amount or ZERO)
    for code, count, amount in staff_totals(scope.staff(), staff_reason):
        if code is None:
            sums["PERSONNEL"] = sums.get("PERSONNEL", ZERO) + (amount or ZERO)
            staff_count += count
        else:
            add_total(totals, code, count, amount or ZERO)

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
    if units_left_out:
        for code, (count, total) in unit_reason_totals(scope, evidence).items():
            add_total(totals, code, count, total)
    left_out_count = sum(count for count, _total in totals.values())
    held_expenses = {line_id for kind, line_id in held if kind == "expense"}
    held_staff = {line_id for kind, line_id in held if kind == "staff_cost_line"}
    for chunk in chunks(sorted(held_expenses)):
        for row in db.session.execute(expense_rows([*scope.expenses(), Expense.id.in_(chunk)], reason)):
            if row.reason_code is None:
                sums[row.category] -= row.eligible_amount
                expense_count -= 1
                computation.excluded_expense_ids.add(row.id)
                left_out.append(expense_line(row, _hold_reason(("expense", row.id), suspected)))
    for chunk in chunks(sorted(held_staff)):
        for row in db.session.execute(staff_rows([*scope.staff(), StaffCostLine.id.in_(chunk)], staff_reason)):
            if row.reason_code is None:
                sums["PERSONNEL"] -= row.amount
                staff_count -= 1
                computation.excluded_staff_ids.add(row.id)
                left_out.append(staff_line(row, _hold_reason(("staff_cost_line", row.id), suspected)))
    for line in left_out:  # held lines (and held unit records): few, read above
        add_total(totals, line.reason, 1, line.amount)
    computation.left_out_totals = totals
    if list_left_out and left_out_count:
        left_out += first_left_out((scope.expenses(), scope.staff()), (reason, staff_reason), left_out_limit)
        left_out += left_out_units(scope, evidence, left_out_limit)
    computation.figures = figures_for(operation, sums, claim, context)
    computation.left_out = sorted(left_out, key=lambda line: (line.kind, line.day, line.id))[:left_out_limit]
    computation.expense_count = expense_count
    computation.staff_count = staff_count
    return computation


def _hold_reason(pair, suspected) -> str:
    """"on_hold" for a line under suspicion, "held" for one the authority holds: the same
    words for everyone (``left_out_reasons``), except the referent, who reads the first."""
    return "on_hold" if pair in suspected else "held"


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


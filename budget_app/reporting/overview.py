"""The operations table (home page, operations list, envelope page) for any number of
operations in a bounded number of queries (issue 27): the figures of
``progress.operation_progress`` that the table shows, to the cent, without computing each
operation's statement on its own.

Realised = what the live bilans count + what a statement would count today among the
other lines (``claims.balance.realised``). Here the second part is one grouped scan per
kind of line for all the operations sharing the same chosen flat rates (a handful of
combinations whatever the number of operations), the selection rules of
``claims.selection`` reading each operation's dates from a small list of literal rows
joined on the line's operation; held lines are left out in the same scan (the per-
operation computation subtracts them afterwards: the same sums). Plans and live bilans
are read once for all the operations.

Worked example: an operation planned 10 000,00 with one live bilan counting 2 000,00 and
1 000,00 of paid, complete lines not yet declared realises 3 000,00: 30,00 % consumed.
"""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import Date, Integer, func, literal, not_, select, union_all
from sqlalchemy.orm import selectinload

from ..claims.figures import LIVE_STATES, counted, cumulated, figures_for, plan_context
from ..claims.models import Claim
from ..claims.selection import expense_rules, kept_by, last_staff_month, staff_rules
from ..expenses.models import Expense
from ..kernel.dates import month_start
from ..kernel.extensions import db
from ..kernel.money import ZERO, percent
from ..marks.services import has_live_mark
from ..operations.models import Operation, PlanVersion
from ..operations.unit_lines import CLAIM_CATEGORIES
from ..operations.plans import current_figures, final_balance_deadline, payment_deadline
from ..staff.models import StaffCostLine, Timesheet
from .progress import elapsed_share


@dataclass
class Overview:
    """What the operations table shows of ``progress.Progress`` (same names, same values)."""

    planned_total: Decimal
    realised_total: Decimal
    consumed_percent: Decimal
    elapsed_percent: Decimal
    pace_gap: Decimal
    pace_warning: bool
    final_deadline: date
    deadline_passed: bool


def _parameters(operations):
    """One literal row per operation: the dates its selection rules compare with."""
    def day(value):
        return literal(value, Date)

    rows = [
        select(literal(op.id, Integer).label("op_id"), day(op.start_date).label("start_date"),
               day(op.end_date).label("end_date"), day(payment_deadline(op)).label("deadline"),
               day(month_start(op.start_date)).label("first_month"),
               day(last_staff_month(op, op.end_date)).label("last_month"),
               # No date (evidence always required): a day before any month, never NULL (a
               # NULL literal would be untyped on PostgreSQL).
               day(op.staff_evidence_from or date.min).label("evidence_from"))
        for op in operations
    ]
    return (union_all(*rows) if len(rows) > 1 else rows[0]).subquery("op_parameters")


def _pending_sums(operations, rates, today: date) -> dict:
    """Operation id -> category -> what a statement would count today (``compute_period``
    with ``evidence`` over the whole realisation period), for operations sharing ``rates``."""
    p = _parameters(operations)
    columns = SimpleNamespace(id=p.c.op_id, start_date=p.c.start_date, end_date=p.c.end_date,
                              staff_evidence_from=p.c.evidence_from)
    sums: dict = {op.id: {} for op in operations}
    kept = kept_by(expense_rules(columns, today, rates, incurred_checked=True, deadline=p.c.deadline))
    for op_id, category, amount in db.session.execute(
        select(p.c.op_id, Expense.category, func.sum(Expense.eligible_amount))
        .join(p, p.c.op_id == Expense.operation_id)
        .where(Expense.deleted_at.is_(None), Expense.incurred_on >= p.c.start_date,
               Expense.incurred_on <= p.c.end_date, kept, not_(has_live_mark("expense", Expense.id, "held")))
        .group_by(p.c.op_id, Expense.category)
    ):
        sums[op_id][category] = amount or ZERO
    staff_kept = kept_by(staff_rules(columns, rates, evidence=True, as_of=today, deadline=p.c.deadline,
                                     first_month=p.c.first_month))
    for op_id, amount in db.session.execute(
        select(p.c.op_id, func.sum(StaffCostLine.amount))
        .join(p, p.c.op_id == StaffCostLine.operation_id)
        .join(Timesheet, Timesheet.id == StaffCostLine.timesheet_id)
        .where(StaffCostLine.month >= p.c.first_month, StaffCostLine.month <= p.c.last_month, staff_kept,
               not_(has_live_mark("staff_cost_line", StaffCostLine.id, "held")))
        .group_by(p.c.op_id)
    ):
        sums[op_id]["PERSONNEL"] = sums[op_id].get("PERSONNEL", ZERO) + (amount or ZERO)
    return sums


def _load_plans(operations) -> None:
    """The plans in force with their rows, for all the operations at once."""
    db.session.scalars(
        select(Operation).where(Operation.id.in_([op.id for op in operations]))
        .options(selectinload(Operation.plan_versions).options(
            selectinload(PlanVersion.costs), selectinload(PlanVersion.flat_rates),
            selectinload(PlanVersion.resources), selectinload(PlanVersion.unit_lines)))
    ).all()


def overviews(operations, today: date, margin: Decimal) -> dict:
    """Operation id -> ``Overview``, equal to ``operation_progress``'s figures."""
    operations = list(operations)
    if not operations:
        return {}
    _load_plans(operations)
    contexts = {op.id: plan_context(op) for op in operations}
    live: dict = {op.id: [] for op in operations}
    for claim in db.session.scalars(
        select(Claim).where(Claim.operation_id.in_(list(live)), Claim.state.in_(LIVE_STATES))
        .order_by(Claim.operation_id, Claim.number)
    ):
        live[claim.operation_id].append(claim)
    groups: dict = {}
    for op in operations:
        groups.setdefault(tuple(sorted(contexts[op.id]["rates"])), []).append(op)
    pending: dict = {}
    for group in groups.values():
        pending.update(_pending_sums(group, contexts[group[0].id]["rates"], today))
    return {op.id: _overview(op, today, margin, contexts[op.id], live[op.id], pending[op.id])
            for op in operations}


def _overview(operation, today, margin, context, claims, sums) -> Overview:
    categories: dict = {}
    flat: dict = {}
    for claim in claims:
        figures = counted(claim)
        for target, amounts in ((categories, figures.categories), (flat, figures.flat_rates)):
            for code, amount in amounts.items():
                target[code] = target.get(code, ZERO) + amount
    statement = figures_for(operation, sums, None, context, before=cumulated(claims))
    for target, amounts in ((categories, statement.categories), (flat, statement.flat_rates)):
        for code, amount in amounts.items():
            target[code] = target.get(code, ZERO) + amount
    planned = current_figures(operation)
    # The rows of ``operation_progress``: categories planned or realised, then every flat rate.
    realised_total = sum((categories.get(c, ZERO) for c in CLAIM_CATEGORIES), ZERO) + sum(flat.values(), ZERO)
    consumed = percent(realised_total, planned.total_cost)
    elapsed = elapsed_share(operation.start_date, operation.end_date, today)
    deadline = final_balance_deadline(operation.end_date)
    return Overview(
        planned_total=planned.total_cost, realised_total=realised_total, consumed_percent=consumed,
        elapsed_percent=elapsed, pace_gap=elapsed - consumed,
        pace_warning=today >= operation.start_date and elapsed - consumed > margin,
        final_deadline=deadline, deadline_passed=today > deadline,
    )

"""What a statement would count today among each operation's lines not yet declared, by
category (the second part of ``claims.balance.realised``), for many operations at once:
computed by grouped scans (``compute``), kept per operation (``kept_models``) and read
back while they hold (``pending_sums``), so the home page and the envelope pages read a
few hundred small rows instead of scanning every line (issue 27).

The computation: one grouped scan per kind of line (expenses, staff lines, unit records)
for all the operations sharing the same chosen flat rates, the selection rules of
``claims.selection`` and ``claims.unit_selection`` reading each operation's dates from a
small list of literal rows joined on the line's operation;
held lines are left out in the same scan. "Paid by today" is a group of its own, so the
same scan says from which day to which day the figures hold (the latest payment counted,
the next one not yet counted).

Worked example: lines of 100,00 paid on 10 March and 50,00 paid on 20 March, today
15 March: 100,00 pending, holding from 10 March until 19 March; on 20 March they are
computed again (150,00).
"""
from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace

from sqlalchemy import Date, Integer, bindparam, delete, func, insert, literal, not_, or_, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite

from ..claims.selection import expense_rules, kept_by, last_staff_month, staff_rules
from ..claims.unit_selection import unit_rules
from ..expenses.models import Expense
from ..kernel.dates import month_start
from ..kernel.extensions import db
from ..kernel.money import ZERO
from ..marks.services import has_live_mark
from ..operations.plans import payment_deadline
from ..staff.models import StaffCostLine, Timesheet
from ..units.models import UnitRecord
from .kept_models import PendingFigure, PendingFigureState

CHUNK = 500  # operations per ... IN (...)


@dataclass
class Pending:
    """One operation's figures and the days they hold for."""

    sums: dict = field(default_factory=dict)  # category -> amount
    valid_from: date | None = None
    valid_until: date | None = None

    def seen_paid(self, day: date | None) -> None:
        if day is not None and (self.valid_from is None or day > self.valid_from):
            self.valid_from = day

    def seen_unpaid(self, day: date | None) -> None:
        if day is not None and (self.valid_until is None or day < self.valid_until):
            self.valid_until = day


def _parameters(operations, today: date):
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
               day(op.staff_evidence_from or date.min).label("evidence_from"),
               # Today as a column, not a parameter: the scans group by "paid by today".
               day(today).label("today"))
        for op in operations
    ]
    return (union_all(*rows) if len(rows) > 1 else rows[0]).subquery("op_parameters")


def compute(operations, rates, today: date) -> dict:
    """Operation id -> ``Pending``: what a statement would count ``today`` (``compute_period``
    with ``evidence`` over the whole realisation period), for operations sharing ``rates``."""
    operations = list(operations)
    p = _parameters(operations, today)
    columns = SimpleNamespace(id=p.c.op_id, start_date=p.c.start_date, end_date=p.c.end_date,
                              staff_evidence_from=p.c.evidence_from)
    found = {op.id: Pending() for op in operations}
    # Every rule but "paid by today", which is the group's flag.
    rules = [rule for rule in expense_rules(columns, today, rates, incurred_checked=True, deadline=p.c.deadline)
             if rule.reason != "not_paid"]
    paid = (Expense.paid_on <= p.c.today).label("paid")
    for op_id, category, is_paid, amount, first, last in db.session.execute(
        select(p.c.op_id, Expense.category, paid, func.sum(Expense.eligible_amount),
               func.min(Expense.paid_on), func.max(Expense.paid_on))
        .join(p, p.c.op_id == Expense.operation_id)
        .where(Expense.deleted_at.is_(None), Expense.incurred_on >= p.c.start_date,
               Expense.incurred_on <= p.c.end_date, kept_by(rules),
               not_(has_live_mark("expense", Expense.id, "held")))
        .group_by(p.c.op_id, Expense.category, paid)
    ):
        if is_paid:
            found[op_id].sums[category] = amount or ZERO
            found[op_id].seen_paid(last)
        else:
            found[op_id].seen_unpaid(first)
    staff_kept = kept_by(staff_rules(columns, rates, evidence=True, as_of=None, deadline=p.c.deadline,
                                     first_month=p.c.first_month))
    # A staff month from before the payment date column (no date) always counts.
    staff_paid = or_(StaffCostLine.paid_on.is_(None), StaffCostLine.paid_on <= p.c.today).label("paid")
    for op_id, is_paid, amount, first, last in db.session.execute(
        select(p.c.op_id, staff_paid, func.sum(StaffCostLine.amount), func.min(StaffCostLine.paid_on),
               func.max(StaffCostLine.paid_on))
        .join(p, p.c.op_id == StaffCostLine.operation_id)
        .join(Timesheet, Timesheet.id == StaffCostLine.timesheet_id)
        .where(StaffCostLine.month >= p.c.first_month, StaffCostLine.month <= p.c.last_month, staff_kept,
               not_(has_live_mark("staff_cost_line", StaffCostLine.id, "held")))
        .group_by(p.c.op_id, staff_paid)
    ):
        if is_paid:
            sums = found[op_id].sums
            sums["PERSONNEL"] = sums.get("PERSONNEL", ZERO) + (amount or ZERO)
            found[op_id].seen_paid(last)
        else:
            found[op_id].seen_unpaid(first)
    # Unit costs and lump sums (``claims.unit_selection``): in their bilan category (their
    # plan category inside the flat-rate bases, else SIMPLIFIES). No payment date: they
    # never move the days the figures hold for.
    for op_id, category, amount in db.session.execute(
        select(p.c.op_id, UnitRecord.category, func.sum(UnitRecord.amount))
        .join(p, p.c.op_id == UnitRecord.operation_id)
        .where(UnitRecord.deleted_at.is_(None), UnitRecord.delivered_on >= p.c.start_date,
               UnitRecord.delivered_on <= p.c.end_date, kept_by(unit_rules(columns, evidence=True)),
               not_(has_live_mark("unit_record", UnitRecord.id, "held")))
        .group_by(p.c.op_id, UnitRecord.category)
    ):
        sums = found[op_id].sums
        sums[category] = sums.get(category, ZERO) + (amount or ZERO)
    return found


def _holds(state, today: date) -> bool:
    return (state.figures_generation is not None and state.figures_generation == state.generation
            and (state.valid_from is None or state.valid_from <= today)
            and (state.valid_until is None or today < state.valid_until))


def _chunks(ids):
    ids = list(ids)
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def _states(ids, lock: bool = False) -> dict:
    found = {}
    for chunk in _chunks(ids):
        query = select(PendingFigureState.operation_id, PendingFigureState.generation,
                       PendingFigureState.figures_generation, PendingFigureState.valid_from,
                       PendingFigureState.valid_until).where(PendingFigureState.operation_id.in_(chunk))
        if lock:
            # Rows another transaction is writing (a new line, another reader keeping the
            # same figures) are skipped: their figures are computed, not kept, this time.
            query = query.order_by(PendingFigureState.operation_id).with_for_update(skip_locked=True)
        found.update({row.operation_id: row for row in db.session.execute(query)})
    return found


def _kept_sums(ids) -> dict:
    sums: dict = {op_id: {} for op_id in ids}
    for chunk in _chunks(ids):
        for op_id, category, amount in db.session.execute(
            select(PendingFigure.operation_id, PendingFigure.category, PendingFigure.amount)
            .where(PendingFigure.operation_id.in_(chunk))
        ):
            sums[op_id][category] = amount
    return sums


def _keep(found: dict, generations: dict) -> None:
    """Store the figures of the operations in ``generations`` (locked by the caller)."""
    ids = list(generations)
    if not ids:
        return
    for chunk in _chunks(ids):
        db.session.execute(delete(PendingFigure).where(PendingFigure.operation_id.in_(chunk))
                           .execution_options(synchronize_session=False))
    rows = [{"operation_id": op_id, "category": category, "amount": amount}
            for op_id in ids for category, amount in found[op_id].sums.items()]
    if rows:
        db.session.execute(insert(PendingFigure), rows)
    table = PendingFigureState.__table__
    db.session.connection().execute(
        update(table).where(table.c.operation_id == bindparam("op_id")).values(
            figures_generation=bindparam("kept_generation"), valid_from=bindparam("since"),
            valid_until=bindparam("until")),
        [{"op_id": op_id, "kept_generation": generations[op_id], "since": found[op_id].valid_from,
          "until": found[op_id].valid_until} for op_id in ids])


def _add_missing_states(ids, states) -> None:
    missing = [op_id for op_id in ids if op_id not in states]
    if missing:
        # Made here for operations that have none yet; their figures are kept next time
        # (a write that commits meanwhile could not have counted itself on this row).
        dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
        db.session.execute(dialect.insert(PendingFigureState).on_conflict_do_nothing(),
                           [{"operation_id": op_id, "generation": 0} for op_id in missing])


def pending_sums(operations, rates_of, today: date) -> dict:
    """Operation id -> category -> what a statement would count ``today``: the kept figures
    where they hold, the others computed (grouped by ``rates_of(operation)``) and kept."""
    operations = list(operations)
    ids = [op.id for op in operations]
    states = _states(ids)
    fresh = [op_id for op_id in ids if op_id in states and _holds(states[op_id], today)]
    sums = _kept_sums(fresh)
    stale = [op for op in operations if op.id not in sums]
    if not stale:
        return sums
    _add_missing_states([op.id for op in stale], states)
    locked = _states([op.id for op in stale if op.id in states], lock=True)
    found = compute_all(stale, rates_of, today)
    _keep(found, {op_id: row.generation for op_id, row in locked.items()})
    sums.update({op_id: pending.sums for op_id, pending in found.items()})
    return sums


def compute_all(operations, rates_of, today: date) -> dict:
    """Operation id -> ``Pending``, one set of scans per combination of flat rates."""
    groups: dict = {}
    for op in operations:
        rates = rates_of(op)
        groups.setdefault(tuple(sorted(rates.items())), (rates, []))[1].append(op)
    found: dict = {}
    for rates, group in groups.values():
        for chunk in _chunks(range(len(group))):
            found.update(compute([group[index] for index in chunk], rates, today))
    return found


def rebuild(operations, rates_of, today: date) -> int:
    """Compute and keep every operation's figures (``flask reporting rebuild-figures``),
    waiting for the writes under way; returns how many operations."""
    operations = list(operations)
    ids = [op.id for op in operations]
    _add_missing_states(ids, _states(ids))
    locked = {}
    for chunk in _chunks(ids):
        locked.update({row.operation_id: row.generation for row in db.session.execute(
            select(PendingFigureState.operation_id, PendingFigureState.generation)
            .where(PendingFigureState.operation_id.in_(chunk))
            .order_by(PendingFigureState.operation_id).with_for_update())})
    _keep(compute_all(operations, rates_of, today), locked)
    return len(locked)


def differences(operations, rates_of, today: date) -> tuple[list, int]:
    """The kept figures that hold ``today`` against a full computation: ([(operation,
    category, kept, computed)], how many operations have figures that hold)."""
    operations = list(operations)
    states = _states([op.id for op in operations])
    holding = [op for op in operations if op.id in states and _holds(states[op.id], today)]
    kept = _kept_sums([op.id for op in holding])
    computed = compute_all(holding, rates_of, today)
    found = []
    for op in holding:
        sums = computed[op.id].sums
        for category in sorted(set(kept[op.id]) | set(sums)):
            if kept[op.id].get(category) != sums.get(category):
                found.append((op, category, kept[op.id].get(category), sums.get(category)))
    return found, len(holding)

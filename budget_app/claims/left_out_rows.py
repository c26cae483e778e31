"""The sums of a statement or a bilan and the lines it leaves out, for an operation that may
hold tens of thousands of lines (issue 27, national volumes): one grouped scan per kind, by
category and reason (the included lines' sums, the left-out lines' count and total per
reason); the left-out lines read as the few columns the list shows (no ORM object per line,
the person joined in the same query), the first ones only when a page shows a part of them.
Read by ``selection.compute_period``."""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from ..expenses.models import Expense
from ..kernel.extensions import db
from ..kernel.money import ZERO
from ..staff.models import Person, StaffCostLine, Timesheet


@dataclass
class LeftOutLine:
    kind: str  # "expense" | "staff" | "unit"
    id: int
    category: str
    description: str
    reference: str
    day: date
    amount: Decimal
    reason: str


EXPENSE_COLUMNS = (Expense.id, Expense.category, Expense.label, Expense.supplier_name, Expense.document_number,
                   Expense.incurred_on, Expense.eligible_amount)
STAFF_COLUMNS = (StaffCostLine.id, StaffCostLine.computation, StaffCostLine.month, StaffCostLine.amount,
                 Person.last_name, Person.first_name)


def expense_line(row, reason: str) -> LeftOutLine:
    """``row``: an ``Expense`` or a row of ``EXPENSE_COLUMNS``."""
    return LeftOutLine("expense", row.id, row.category, row.label, f"{row.supplier_name} n° {row.document_number}",
                       row.incurred_on, row.eligible_amount, reason)


def staff_line(row, reason: str) -> LeftOutLine:
    """``row``: a row of ``STAFF_COLUMNS``."""
    return LeftOutLine("staff", row.id, "PERSONNEL", row.computation, f"{row.last_name} {row.first_name}", row.month,
                       row.amount, reason)


def expense_rows(conditions, reason):
    """``EXPENSE_COLUMNS`` and ``reason`` (labelled ``reason_code``) of the expenses matching ``conditions``."""
    return select(*EXPENSE_COLUMNS, reason.label("reason_code")).where(*conditions)


def staff_rows(conditions, reason):
    return (select(*STAFF_COLUMNS, reason.label("reason_code"))
            .join(Timesheet, Timesheet.id == StaffCostLine.timesheet_id)
            .join(Person, Person.id == StaffCostLine.person_id)
            .where(*conditions))


def first_left_out(conditions, reason, limit: int | None) -> list[LeftOutLine]:
    """The expenses and staff months left out (``conditions``: (expense scope, staff scope);
    ``reason``: (expense reason, staff reason)), by day then id; the first ``limit`` of each
    kind when given (enough for the first ``limit`` of the whole list)."""
    (expense_scope, staff_scope), (reason, staff_reason) = conditions, reason
    lines: list[LeftOutLine] = []
    if limit == 0:
        return lines
    query = expense_rows([*expense_scope, reason.is_not(None)], reason).order_by(Expense.incurred_on, Expense.id)
    for row in db.session.execute(query if limit is None else query.limit(limit)):
        lines.append(expense_line(row, row.reason_code))
    query = staff_rows([*staff_scope, staff_reason.is_not(None)], staff_reason).order_by(StaffCostLine.month,
                                                                                          StaffCostLine.id)
    for row in db.session.execute(query if limit is None else query.limit(limit)):
        lines.append(staff_line(row, row.reason_code))
    return lines


def expense_totals(conditions, reason) -> list:
    """(category, reason or None when included, lines, total) of the expenses matching
    ``conditions``: one grouped scan (the reason is computed in a subquery, then grouped)."""
    lines = select(Expense.category, reason.label("reason_code"), Expense.eligible_amount.label("amount")).where(
        *conditions).subquery()
    return db.session.execute(
        select(lines.c.category, lines.c.reason_code, func.count(), func.sum(lines.c.amount))
        .group_by(lines.c.category, lines.c.reason_code)
    ).all()


def staff_totals(conditions, reason) -> list:
    """(reason or None when included, lines, total) of the staff months matching ``conditions``."""
    lines = (select(reason.label("reason_code"), StaffCostLine.amount.label("amount"))
             .join(Timesheet, Timesheet.id == StaffCostLine.timesheet_id).where(*conditions).subquery())
    return db.session.execute(
        select(lines.c.reason_code, func.count(), func.sum(lines.c.amount)).group_by(lines.c.reason_code)
    ).all()


def add_total(totals: dict, reason: str, count: int, amount: Decimal) -> None:
    lines, total = totals.get(reason, (0, ZERO))
    totals[reason] = (lines + count, total + amount)

"""What the staff pages and the other domains read: an operation's assignments,
timesheets, cost lines and their total, hours declared per person and year."""
from datetime import date
from decimal import Decimal

from sqlalchemy import extract, func, select
from sqlalchemy.orm import selectinload

from ..kernel.extensions import db
from ..kernel.money import cents, round_places
from ..marks.hooks import bilan_numbers
from ..marks.services import declared_in, held_ids
from .models import (
    CLAIMABLE_TIMESHEET_STATES,
    Person,
    StaffAssignment,
    StaffCostLine,
    Timesheet,
)


def assignments_of(operation):
    return db.session.scalars(
        select(StaffAssignment)
        .where(StaffAssignment.operation_id == operation.id)
        .join(Person)
        .options(selectinload(StaffAssignment.person), selectinload(StaffAssignment.annual_costs),
                 selectinload(StaffAssignment.monthly_costs))
        .order_by(Person.last_name, Person.first_name, Person.registration_number)
    ).all()


def timesheets_of(operation, month: date | None = None):
    query = (
        select(Timesheet)
        .join(StaffAssignment)
        .join(Person)
        .where(StaffAssignment.operation_id == operation.id)
        .options(
            selectinload(Timesheet.assignment).selectinload(StaffAssignment.person),
            selectinload(Timesheet.cost_line),
        )
        .order_by(Timesheet.month, Person.last_name, Person.first_name)
    )
    if month is not None:
        query = query.where(Timesheet.month == month)
    return db.session.scalars(query).all()


def pending_timesheets(operation, start: date, end: date):
    """Timesheets of months within ``start``..``end`` not approved yet (draft or submitted):
    their cost is not in a statement until someone approves them."""
    first = date(start.year, start.month, 1)
    return db.session.scalars(
        select(Timesheet)
        .join(StaffAssignment)
        .join(Person)
        .where(StaffAssignment.operation_id == operation.id, Timesheet.month >= first, Timesheet.month <= end,
               Timesheet.state.not_in(CLAIMABLE_TIMESHEET_STATES))
        .options(selectinload(Timesheet.assignment).selectinload(StaffAssignment.person))
        .order_by(Timesheet.month, Person.last_name, Person.first_name)
    ).all()


def cost_lines_of(operation, month: date | None = None):
    """The PERSONNEL cost lines of an operation: one per approved (or locked) person-month."""
    query = (
        select(StaffCostLine)
        .join(Timesheet, StaffCostLine.timesheet_id == Timesheet.id)
        .join(Person, StaffCostLine.person_id == Person.id)
        .where(StaffCostLine.operation_id == operation.id, Timesheet.state.in_(CLAIMABLE_TIMESHEET_STATES))
        .options(
            selectinload(StaffCostLine.person),
            selectinload(StaffCostLine.timesheet).selectinload(Timesheet.assignment),
        )
        .order_by(StaffCostLine.month, Person.last_name, Person.first_name)
    )
    if month is not None:
        query = query.where(StaffCostLine.month == month)
    return db.session.scalars(query).all()


def cost_lines_total(operation, month: date | None = None) -> Decimal:
    query = (
        select(func.coalesce(func.sum(StaffCostLine.amount), 0))
        .join(Timesheet, StaffCostLine.timesheet_id == Timesheet.id)
        .where(StaffCostLine.operation_id == operation.id, Timesheet.state.in_(CLAIMABLE_TIMESHEET_STATES))
    )
    if month is not None:
        query = query.where(StaffCostLine.month == month)
    return cents(db.session.scalar(query))


def hours_by_person_year(person_ids) -> dict:
    """(person id, year) -> hours declared on every operation, for the cap (CPR 55(3))."""
    if not person_ids:
        return {}
    year = extract("year", Timesheet.month)
    rows = db.session.execute(
        select(StaffAssignment.person_id, year, func.sum(Timesheet.hours_on_operation))
        .join(Timesheet, Timesheet.assignment_id == StaffAssignment.id)
        .where(StaffAssignment.person_id.in_(list(person_ids)))
        .group_by(StaffAssignment.person_id, year)
    ).all()
    return {(person_id, int(row_year)): round_places(hours or 0, 2) for person_id, row_year, hours in rows}


def months_of(operation) -> list[date]:
    return list(
        db.session.scalars(
            select(Timesheet.month)
            .join(StaffAssignment)
            .where(StaffAssignment.operation_id == operation.id)
            .distinct()
            .order_by(Timesheet.month)
        )
    )


def hours_declared(person_id, year, exclude_ids=()) -> Decimal:
    """Hours on operations declared for a person over a calendar year, every operation and state."""
    query = (
        select(func.coalesce(func.sum(Timesheet.hours_on_operation), 0))
        .join(StaffAssignment)
        .where(StaffAssignment.person_id == person_id, extract("year", Timesheet.month) == year)
    )
    if exclude_ids:
        query = query.where(Timesheet.id.not_in(list(exclude_ids)))
    return round_places(db.session.scalar(query), 2)


def hours_on_other_operations(operation, person_ids, months) -> dict:
    """(person id, month) -> hours declared on the person's other operations that month."""
    if not person_ids or not months:
        return {}
    rows = db.session.execute(
        select(StaffAssignment.person_id, Timesheet.month, func.sum(Timesheet.hours_on_operation))
        .join(Timesheet, Timesheet.assignment_id == StaffAssignment.id)
        .where(
            StaffAssignment.person_id.in_(list(person_ids)),
            StaffAssignment.operation_id != operation.id,
            Timesheet.month.in_(list(months)),
        )
        .group_by(StaffAssignment.person_id, Timesheet.month)
    ).all()
    return {(person_id, month): Decimal(hours or 0) for person_id, month, hours in rows}


def line_marks(line_ids) -> dict:
    """What the staff pages show of their cost lines' marks: ``declared`` (line id -> the
    number of the bilan it is declared in) and ``held`` (the ids of held lines, whoever
    asked: every hold reads « en attente »)."""
    ids = [line_id for line_id in line_ids if line_id is not None]
    declared = declared_in("staff_cost_line", ids)
    numbers = bilan_numbers(set(declared.values()))
    return {"declared": {line_id: numbers.get(bilan_id, ("?", ""))[0] for line_id, bilan_id in declared.items()},
            "held": held_ids("staff_cost_line", ids)}

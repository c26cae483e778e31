"""Test objects of the staff domain, built with the models: a person on an operation with
one month's timesheet and its cost line (its computation text written by the rule the
services store, ``staff.computations.hourly_amount``)."""
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from budget_app.kernel.extensions import db
from budget_app.staff import evidence
from budget_app.staff.computations import hourly_amount
from budget_app.staff.models import Person, StaffAssignment, StaffCostLine, StaffDocument, Timesheet

_counter = {"n": 0}


def make_staff_line(operation, amount, month=date(2023, 1, 1), state="approved", hours=None, rate=None,
                    name="Martin", evidence=True):
    """``evidence``: the month's signed timesheet and the year's contract are attached (a
    complete line, primer §1, §4); False leaves the line without them."""
    _counter["n"] += 1
    person = Person(registration_number=f"M{_counter['n']:05d}", last_name=name, first_name="Claire",
                    function="Conseillère en insertion")
    assignment = StaffAssignment(operation_id=operation.id, person=person, method="hourly")
    timesheet = Timesheet(assignment=assignment, month=month, hours_on_operation=hours, hours_worked=hours, state=state)
    amount, computation = Decimal(amount), ""
    if hours is not None and rate is not None:
        computed, computation = hourly_amount(hours, rate)
        assert computed == amount, f"{hours} h × {rate} €/h is {computed}, not {amount}"
    line = StaffCostLine(
        operation_id=operation.id, timesheet=timesheet, person=person, month=month, hours=hours,
        hourly_rate=rate, amount=amount,
        computation=computation,
    )
    db.session.add_all([person, assignment, timesheet, line])
    db.session.commit()
    if evidence:
        attach_evidence(operation, assignments=[assignment])
    return line


def _pdf(label: str) -> bytes:
    _counter["n"] += 1
    return f"%PDF-1.4\n% {label} {_counter['n']}\n%%EOF\n".encode()


def attach_evidence(operation, skip=(), assignments=None):
    """Attach what a bilan requires (primer §1, §4) to every timesheet month of the operation
    that lacks it: the signed timesheet (hourly) or payslip (fixed share) of the month, the
    contract (hourly) or mission letter (fixed share) of its year. ``skip``: (matricule,
    month) pairs left without their month's document; ``assignments``: only those people.
    Returns the documents attached."""
    attached = []
    if assignments is None:
        assignments = db.session.scalars(select(StaffAssignment).where(StaffAssignment.operation_id == operation.id))
    for assignment in assignments:
        number = assignment.person.registration_number
        months = sorted(sheet.month for sheet in assignment.timesheets)
        have = {(document.kind, document.first_month) for document in db.session.scalars(
            select(StaffDocument).where(StaffDocument.assignment_id == assignment.id))}
        year_kind = evidence.REQUIRED_PER_YEAR[assignment.method]
        month_kind = evidence.REQUIRED_PER_MONTH[assignment.method]
        for year in sorted({month.year for month in months}):
            first = max(date(year, 1, 1), date(operation.start_date.year, operation.start_date.month, 1))
            if (year_kind, first) not in have:
                attached.append(evidence.attach_document(
                    assignment, year_kind, f"{year_kind}-{number}-{year}.pdf", _pdf(year_kind),
                    evidence.Coverage(year=year))[0])
        for month in months:
            if (month_kind, month) not in have and (number, month) not in skip:
                attached.append(evidence.attach_document(
                    assignment, month_kind, f"{month_kind}-{number}-{month:%Y-%m}.pdf", _pdf(month_kind),
                    evidence.Coverage(month=month))[0])
    db.session.commit()
    return attached

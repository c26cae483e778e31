"""Test objects of the staff domain, built with the models: a person on an operation with
one month's timesheet and its cost line (its computation text written by the rule the
services store, ``staff.computations.hourly_amount``)."""
from datetime import date
from decimal import Decimal

from budget_app.kernel.extensions import db
from budget_app.staff.computations import hourly_amount
from budget_app.staff.models import Person, StaffAssignment, StaffCostLine, Timesheet

_counter = {"n": 0}


def make_staff_line(operation, amount, month=date(2023, 1, 1), state="approved", hours=None, rate=None,
                    name="Martin"):
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
    return line

"""Primer §9: one annual cost and one working share per person and year, across all
operations, whichever method computes the hourly rate. Method B's monthly cost and monthly
working time (CPR 55(2)(b)) are that person's cost for the year too: the same on every
operation, and a person costed by method A on one operation cannot be costed by method B
on another for the same year (nor the reverse): one cost per person and year."""
from sqlalchemy import select

from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.formatting import format_hours, format_money, format_percent
from ..kernel.i18n import N_
from ..operations.models import Operation
from .models import AnnualCost, MonthlyCost, StaffAssignment


def costs_elsewhere(operation, person_ids) -> dict:
    """(person id, year) -> (AnnualCost or MonthlyCost, operation code) recorded on the
    people's other operations (the first by operation code)."""
    found: dict = {}
    if not person_ids:
        return found
    for model in (AnnualCost, MonthlyCost):
        rows = db.session.execute(
            select(model, StaffAssignment.person_id, Operation.code)
            .join(StaffAssignment, StaffAssignment.id == model.assignment_id)
            .join(Operation, Operation.id == StaffAssignment.operation_id)
            .where(StaffAssignment.person_id.in_(list(person_ids)), StaffAssignment.operation_id != operation.id)
            .order_by(Operation.code)
        ).all()
        for cost, person_id, code in rows:
            found.setdefault((person_id, cost.year), (cost, code))
    return found


def one_cost_problem(row, person, elsewhere: dict) -> DomainError | None:
    """Why this staff row would give the person a second cost for the year, else None."""
    if row.method not in ("hourly", "hourly_monthly") or row.year is None or person is None:
        return None
    other = elsewhere.get((person.id, row.year))
    if other is None:
        return None
    cost, code = other
    if isinstance(cost, AnnualCost):
        if row.method == "hourly" and (cost.annual_cost, cost.working_share) == (row.annual_cost, row.working_share):
            return None
        return DomainError(
            N_("%(number)s a déjà pour %(year)s un coût annuel de %(cost)s et une quotité de %(share)s sur l'opération %(code)s : une personne a un seul coût annuel et une seule quotité par année"),
            number=row.registration_number, year=row.year, cost=format_money(cost.annual_cost),
            share=format_percent(cost.working_share, places=None), code=code)
    if row.method == "hourly_monthly" and (cost.monthly_cost, cost.monthly_hours) == (row.monthly_cost, row.monthly_hours):
        return None
    return DomainError(
        N_("%(number)s a déjà pour %(year)s un coût mensuel de %(cost)s pour %(hours)s par mois (méthode B) sur l'opération %(code)s : une personne a un seul coût par année"),
        number=row.registration_number, year=row.year, cost=format_money(cost.monthly_cost),
        hours=format_hours(cost.monthly_hours), code=code)

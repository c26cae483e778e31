"""Timesheet rows (file, or the timesheet form as a one-row import): one person, one
month, hours on the operation and hours worked (hourly staff) or the month's cost
(fixed share); checked against the caps of CPR 55(3), then applied."""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..kernel.dates import month_end
from ..kernel.errors import DomainError, Problem
from ..kernel.extensions import db
from ..kernel.formatting import format_day, format_hours, format_month
from ..kernel.i18n import N_, translate, translate_label
from ..kernel.locks import lock_rows
from ..kernel.tabular import Row, RowReader, cell_date, cell_decimal, cell_month, cell_text
from . import computations
from .changes import Change, row_problem
from .lifecycle import changeable_problem, enter_state, remove_cost_line
from .models import TIMESHEET_STATES, Person, StaffAssignment, Timesheet
from .queries import assignments_of, hours_by_person_year, hours_on_other_operations

# A month has at most 31 × 24 hours: anything above is a typing error.
MAX_MONTH_HOURS = Decimal(744)

TIMESHEET_COLUMNS = {
    "registration_number": "Matricule",
    "month": "Mois",
    "hours_on_operation": "Heures sur l'opération",
    "hours_worked": "Heures travaillées",
    "monthly_cost": "Coût mensuel chargé",
    "salary_paid_on": "Date de paiement du salaire",
}
TIMESHEET_REQUIRED = frozenset({"registration_number", "month"})
# Methods whose months are hours × rate, with a timesheet (CPR 55(2)(a) and (b)).
HOURLY_METHODS = ("hourly", "hourly_monthly")


@dataclass
class TimesheetRow:
    line: int
    registration_number: str
    month: date
    hours_on_operation: Decimal | None
    hours_worked: Decimal | None
    monthly_cost: Decimal | None
    salary_paid_on: date | None = None  # None: the operation's pay day (``lifecycle.salary_pay_day``)


def parse_timesheet_row(row: Row, problems: list[Problem]) -> TimesheetRow | None:
    read = RowReader(row, TIMESHEET_COLUMNS, problems)
    registration_number = read("registration_number", cell_text, max_length=32)
    month = read("month", cell_month)
    hours_on_operation = read("hours_on_operation", cell_decimal, places=2, required=False, noun="hours")
    hours_worked = read("hours_worked", cell_decimal, places=2, required=False, noun="hours")
    monthly_cost = read("monthly_cost", cell_decimal, places=2, required=False)
    salary_paid_on = read("salary_paid_on", cell_date, required=False)
    if salary_paid_on is not None and month is not None and salary_paid_on < month:
        read.fail("salary_paid_on", DomainError(N_("le salaire de %(month)s ne peut être payé avant le début du mois"),
                                                month=format_month(month)))
    for key, value in (("hours_on_operation", hours_on_operation), ("hours_worked", hours_worked)):
        if value is not None and value > MAX_MONTH_HOURS:
            read.fail(key, DomainError(N_("plus de %(max)s heures dans un mois"), max=MAX_MONTH_HOURS))
    if not read.ok:
        return None
    return TimesheetRow(row.line, registration_number, month, hours_on_operation, hours_worked, monthly_cost,
                        salary_paid_on)


def check_timesheet_rows(operation, rows: list[TimesheetRow], problems: list[Problem], progress=None,
                         editing: Timesheet | None = None) -> list[Change]:
    """What each row would change, or a Problem for each broken rule (caps: CPR 55(3))."""
    assignments = {a.person.registration_number: a for a in assignments_of(operation)}
    # The cap (CPR 55(3)) is a total per person and year over every operation, and a month
    # has one sheet: the people of these rows are locked before their sheets are read,
    # until the request commits (issue 21: ten parallel sheets went past 1 720 h).
    lock_rows(Person, [assignments[row.registration_number].person_id for row in rows
                       if row.registration_number in assignments])
    existing = {
        (sheet.assignment_id, sheet.month): sheet
        for sheet in db.session.scalars(
            select(Timesheet)
            .join(StaffAssignment)
            .where(StaffAssignment.operation_id == operation.id, Timesheet.month.in_({row.month for row in rows}))
            .options(selectinload(Timesheet.cost_line))
        )
    }
    first_month = date(operation.start_date.year, operation.start_date.month, 1)
    seen = {}
    # CPR 55(3) cap: hours already declared per (person id, year) on every operation, loaded
    # once; the running total adds the file's rows and takes out the sheets they replace.
    running = hours_by_person_year({a.person_id for a in assignments.values()})
    elsewhere = hours_on_other_operations(operation, {a.person_id for a in assignments.values()}, {row.month for row in rows})
    changes = []
    for row in rows:
        if progress:
            progress(1)
        count_before = len(problems)

        def fail(key, error):
            problems.append(row_problem(row.line, TIMESHEET_COLUMNS[key] if key else None, error))

        assignment = assignments.get(row.registration_number)
        if assignment is None:
            fail("registration_number", DomainError(N_("aucun agent de matricule %(number)s n'est affecté à l'opération %(code)s"),
                                          number=row.registration_number, code=operation.code))
            continue
        if not first_month <= row.month <= operation.end_date:
            fail("month", DomainError(N_("%(month)s est hors de la période de l'opération (%(start)s - %(end)s)"),
                            month=format_month(row.month), start=format_month(first_month),
                            end=format_month(operation.end_date)))
        key = (row.registration_number, row.month)
        if key in seen:
            fail("month", DomainError(N_("même agent et même mois que la ligne %(line)s"), line=seen[key]))
        seen[key] = row.line
        cost = None
        if assignment.method in HOURLY_METHODS:
            if row.hours_on_operation is None:
                fail("hours_on_operation", DomainError(N_("obligatoire pour un agent au taux horaire")))
            if row.hours_worked is None:
                fail("hours_worked", DomainError(N_("obligatoire pour un agent au taux horaire")))
            if row.monthly_cost is not None:
                fail("monthly_cost", DomainError(N_("à laisser vide pour un agent au taux horaire (le coût vient du taux)")))
            # CPR 55(3): hours on the operation never exceed hours worked.
            if row.hours_on_operation is not None and row.hours_worked is not None and row.hours_on_operation > row.hours_worked:
                fail("hours_on_operation", DomainError(N_("%(hours)s sur l'opération dépassent les %(worked)s travaillées (RPDC 55(3))"),
                                             hours=format_hours(row.hours_on_operation, plain=True),
                                             worked=format_hours(row.hours_worked, plain=True)))
            other = elsewhere.get((assignment.person_id, row.month), Decimal(0))
            if (row.hours_on_operation is not None and row.hours_worked is not None and other
                    and row.hours_on_operation + other > row.hours_worked):
                fail("hours_on_operation", DomainError(
                    N_("%(hours)s ici et %(other)s sur d'autres opérations dépassent les %(worked)s travaillées (RPDC 55(3))"),
                    hours=format_hours(row.hours_on_operation, plain=True), other=format_hours(other, plain=True),
                    worked=format_hours(row.hours_worked, plain=True)))
            if assignment.method == "hourly":
                cost = next((cost for cost in assignment.annual_costs if cost.year == row.month.year), None)
                if cost is None:
                    fail("month", DomainError(N_("aucun coût annuel %(year)s n'est enregistré pour %(number)s : importez d'abord le fichier du personnel"),
                                    year=row.month.year, number=row.registration_number))
            else:
                cost = next((cost for cost in assignment.monthly_costs if cost.year == row.month.year), None)
                if cost is None:
                    fail("month", DomainError(N_("aucun coût mensuel %(year)s (méthode B) n'est enregistré pour %(number)s : importez d'abord le fichier du personnel"),
                                    year=row.month.year, number=row.registration_number))
                elif row.hours_on_operation is not None and row.hours_on_operation + other > cost.monthly_hours:
                    # CPR 55(3): the hours of a month on every operation never exceed the
                    # monthly hours that divided the monthly cost (method B, primer §4).
                    fail("hours_on_operation", DomainError(
                        N_("%(hours)s déclarées en %(month)s pour %(number)s, au-delà des %(cap)s mensuelles du contrat (RPDC 55(3))"),
                        hours=format_hours(row.hours_on_operation + other, plain=True), month=format_month(row.month),
                        number=row.registration_number, cap=format_hours(cost.monthly_hours, plain=True)))
        else:
            if row.monthly_cost is None:
                fail("monthly_cost", DomainError(N_("obligatoire pour un agent à temps fixe")))
            for column in ("hours_on_operation", "hours_worked"):
                if getattr(row, column) is not None:
                    fail(column, DomainError(N_("à laisser vide pour un agent à temps fixe (RPDC 55(5) : pas de fiche de temps)")))
        if len(problems) > count_before:
            continue
        sheet = editing if editing is not None else existing.get((assignment.id, row.month))
        other = existing.get((assignment.id, row.month))
        if editing is not None and other is not None and other is not editing:
            fail("month", DomainError(N_("une autre fiche existe déjà pour cet agent et ce mois")))
            continue
        if sheet is not None and sheet.assignment_id != assignment.id:
            fail("registration_number", DomainError(N_("la fiche modifiée est celle d'un autre agent")))
            continue
        if sheet is not None and _same_values(sheet, row):
            changes.append(Change(row, "unchanged", _state_label(sheet.state), sheet))
            continue
        if sheet is not None:
            blocked = changeable_problem(sheet)
            if blocked is None and sheet.state == "approved":
                blocked = DomainError(N_("fiche de %(month)s déjà approuvée : remettez-la en brouillon avant de la modifier"),
                            month=format_month(row.month))
            if blocked:
                fail(None, blocked)
                continue
        if assignment.method == "hourly":
            cap_key = (assignment.person_id, row.month.year)
            total = running.get(cap_key, Decimal(0)) + row.hours_on_operation
            if sheet is not None and sheet.hours_on_operation is not None:
                # The replaced sheet's hours leave the year they were counted in.
                old_key = (assignment.person_id, sheet.month.year)
                if old_key == cap_key:
                    total -= sheet.hours_on_operation
                else:
                    running[old_key] = running.get(old_key, Decimal(0)) - sheet.hours_on_operation
            cap = computations.reference_hours(cost.hours_divisor, cost.working_share)
            # CPR 55(3): hours declared for a year never exceed the hours used for the rate.
            if total > cap:
                fail("hours_on_operation", DomainError(
                    N_("%(total)s déclarées en %(year)s pour %(number)s, au-delà du plafond de %(cap)s (RPDC 55(3))"),
                    total=format_hours(total, plain=True), year=row.month.year, number=row.registration_number,
                    cap=format_hours(cap, plain=True)))
                continue
            running[cap_key] = total
            amount, text = computations.hourly_amount(row.hours_on_operation, cost.hourly_rate)
        if assignment.method == "hourly_monthly":
            amount, _rate, text = computations.monthly_hourly_amount(row.hours_on_operation, cost.monthly_cost,
                                                                     cost.monthly_hours)
        if assignment.method in HOURLY_METHODS:
            if computations.days_in_operation(row.month, operation.start_date, operation.end_date) is not None:
                # Primer §9: a month partly outside the operation declares its in-period hours only.
                text += translate(N_(" — mois en partie hors de l'opération : heures faites du %(start)s au %(end)s seulement"),
                                  start=format_day(max(row.month, operation.start_date)),
                                  end=format_day(min(month_end(row.month), operation.end_date)))
        else:
            days = computations.days_in_operation(row.month, operation.start_date, operation.end_date)
            amount, text = computations.fixed_share_amount(
                row.monthly_cost, assignment.fixed_percent, days, computations.days_in_month(row.month))
        changes.append(Change(row, "new" if sheet is None else "updated", text, sheet or assignment))
    return changes


def _same_values(sheet: Timesheet, row: TimesheetRow) -> bool:
    return (sheet.month, sheet.hours_on_operation, sheet.hours_worked, sheet.monthly_cost, sheet.salary_paid_on) == (
        row.month, row.hours_on_operation, row.hours_worked, row.monthly_cost, row.salary_paid_on
    )


def _state_label(state):
    return translate_label(TIMESHEET_STATES, state)


def apply_timesheet_changes(operation, changes: list[Change], user=None, approved: bool = False,
                            state: str = "submitted") -> list[Timesheet]:
    """Write the checked rows, then bring each written sheet to ``state`` through the
    timesheets' table (``lifecycle.enter_state``, one audited move at a time): imported
    sheets wait for a second finance officer's approval (``submitted``), the form's are
    drafts; ``approved`` (CLI ``--approved``): the import is the approval."""
    written = []
    for change in changes:
        if change.outcome == "unchanged":
            continue
        row = change.row
        if change.outcome == "new":
            sheet = Timesheet(assignment=change.target, month=row.month, cost_line=None)
            db.session.add(sheet)
        else:
            sheet = change.target
            remove_cost_line(sheet)
        sheet.month = row.month
        sheet.hours_on_operation = row.hours_on_operation
        sheet.hours_worked = row.hours_worked
        sheet.monthly_cost = row.monthly_cost
        sheet.salary_paid_on = row.salary_paid_on
        sheet.entered_by_id = user.id if user is not None else None
        sheet.approved_by_id = None
        sheet.approved_at = None
        written.append(sheet)
    db.session.flush()
    note = translate(N_("import du fichier avec --approved : vaut approbation")) if approved else None
    for sheet in written:
        enter_state(sheet, "approved" if approved else state, user, note=note)
    db.session.flush()
    return written

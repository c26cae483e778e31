"""Staff, assignments, annual costs, timesheets and staff cost lines: every rule lives here.

The web forms, the file imports (web and CLI) and any later API go through the same
functions: a form is validated as a one-row import (``check_staff_rows`` /
``check_timesheet_rows``), so a rule cannot hold on one path and not on another.
Services only flush; views and commands commit.
"""
import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import extract, func, select
from sqlalchemy.orm import selectinload

from ..audit import services as audit
from ..extensions import db
from ..money import N_, translate
from ..tabular import (
    CellError,
    ImportRefused,
    Problem,
    Row,
    RowReader,
    cell_decimal,
    cell_month,
    cell_text,
    normalise_header,
    read_table,
)
from . import computations
from .models import AnnualCost, Person, StaffAssignment, StaffCostLine, Timesheet

HUNDRED = Decimal(100)
# A month has at most 31 × 24 hours: anything above is a typing error.
MAX_MONTH_HOURS = Decimal(744)

STAFF_COLUMNS = {
    "registration_number": "Matricule",
    "last_name": "Nom",
    "first_name": "Prénom",
    "function": "Fonction",
    "method": "Méthode",
    "year": "Année",
    "annual_cost": "Coût annuel chargé",
    "working_share": "Quotité (%)",
    "fixed_percent": "Temps fixe (%)",
}
STAFF_REQUIRED = frozenset({"registration_number", "last_name", "first_name", "method"})

TIMESHEET_COLUMNS = {
    "registration_number": "Matricule",
    "month": "Mois",
    "hours_on_operation": "Heures sur l'opération",
    "hours_worked": "Heures travaillées",
    "monthly_cost": "Coût mensuel chargé",
}
TIMESHEET_REQUIRED = frozenset({"registration_number", "month"})

# How the Méthode column names the methods (matched without case or accents).
METHOD_WORDS = {"horaire": "hourly", "temps fixe": "fixed_share"}
METHOD_FILE_NAMES = {"hourly": "horaire", "fixed_share": "temps fixe"}

# State changes a user may ask for: action -> (states it applies to, resulting state).
# "locked" is set only by a claim's submission (lock_claimed_timesheets).
TRANSITIONS = {
    "submit": (("draft",), "submitted"),
    "approve": (("submitted",), "approved"),
    "reopen": (("submitted", "approved"), "draft"),
}
ACTION_LABELS = {
    "submit": N_("Soumettre"),
    "approve": N_("Approuver"),
    "reopen": N_("Remettre en brouillon"),
}


class StaffError(Exception):
    """A refused change; ``str(error)`` is the translated user-facing message."""


def _(message, **values):
    return translate(message, **values)


# ---------------------------------------------------------------- queries


def assignments_of(operation):
    return db.session.scalars(
        select(StaffAssignment)
        .where(StaffAssignment.operation_id == operation.id)
        .join(Person)
        .options(selectinload(StaffAssignment.person), selectinload(StaffAssignment.annual_costs))
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
            selectinload(Timesheet.cost_line).selectinload(StaffCostLine.claim),
        )
        .order_by(Timesheet.month, Person.last_name, Person.first_name)
    )
    if month is not None:
        query = query.where(Timesheet.month == month)
    return db.session.scalars(query).all()


def cost_lines_of(operation, month: date | None = None):
    """The PERSONNEL cost lines of an operation: one per approved (or locked) person-month."""
    query = (
        select(StaffCostLine)
        .join(Timesheet, StaffCostLine.timesheet_id == Timesheet.id)
        .join(Person, StaffCostLine.person_id == Person.id)
        .where(StaffCostLine.operation_id == operation.id, Timesheet.state.in_(("approved", "locked")))
        .options(
            selectinload(StaffCostLine.person),
            selectinload(StaffCostLine.claim),
            selectinload(StaffCostLine.timesheet).selectinload(Timesheet.assignment),
        )
        .order_by(StaffCostLine.month, Person.last_name, Person.first_name)
    )
    if month is not None:
        query = query.where(StaffCostLine.month == month)
    return db.session.scalars(query).all()


def claimable_cost_lines(operation, period_start: date, period_end: date):
    """For the claims domain: the PERSONNEL lines of approved (or locked) months whose month
    starts inside [period_start, period_end] and that no claim holds yet."""
    return db.session.scalars(
        select(StaffCostLine)
        .join(Timesheet, StaffCostLine.timesheet_id == Timesheet.id)
        .where(
            StaffCostLine.operation_id == operation.id,
            Timesheet.state.in_(("approved", "locked")),
            StaffCostLine.claim_id.is_(None),
            StaffCostLine.month >= date(period_start.year, period_start.month, 1),
            StaffCostLine.month <= period_end,
        )
        .order_by(StaffCostLine.month, StaffCostLine.id)
    ).all()


def cost_lines_total(operation, month: date | None = None) -> Decimal:
    query = (
        select(func.coalesce(func.sum(StaffCostLine.amount), 0))
        .join(Timesheet, StaffCostLine.timesheet_id == Timesheet.id)
        .where(StaffCostLine.operation_id == operation.id, Timesheet.state.in_(("approved", "locked")))
    )
    if month is not None:
        query = query.where(StaffCostLine.month == month)
    return Decimal(db.session.scalar(query)).quantize(Decimal("0.01"))


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
    return {(person_id, int(row_year)): Decimal(hours or 0).quantize(Decimal("0.01")) for person_id, row_year, hours in rows}


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


# ---------------------------------------------------------------- staff rows


@dataclass
class StaffRow:
    line: int
    registration_number: str
    last_name: str
    first_name: str
    function: str | None
    method: str
    year: int | None
    annual_cost: Decimal | None
    working_share: Decimal | None
    fixed_percent: Decimal | None


@dataclass
class Change:
    """What one row does: ``outcome`` is new, updated or unchanged; ``detail`` is shown in previews."""

    row: object
    outcome: str
    detail: str = ""
    target: object = None


OUTCOME_LABELS = {
    "new": N_("nouveau"),
    "updated": N_("modifié"),
    "unchanged": N_("déjà enregistré, ignoré"),
}


@dataclass
class ImportReport:
    kind: str
    changes: list = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for change in self.changes if change.outcome == outcome)

    @property
    def summary(self) -> str:
        return _(
            N_("%(new)s nouvelle(s) ligne(s), %(updated)s modifiée(s), %(unchanged)s déjà enregistrée(s) (ignorée(s))."),
            new=self.count("new"),
            updated=self.count("updated"),
            unchanged=self.count("unchanged"),
        )


def _year(value):
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = cell_text(value, required=False, max_length=10)
        if text is None:
            return None
        if not text.isdigit():
            raise CellError(_(N_("année invalide « %(value)s » (attendu aaaa)"), value=text))
        number = int(text)
    if not 2000 <= number <= 2100:
        raise CellError(_(N_("année invalide « %(value)s » (attendu aaaa)"), value=number))
    return number


def _method(value):
    text = cell_text(value)
    method = METHOD_WORDS.get(normalise_header(text))
    if method is None:
        raise CellError(_(N_("méthode « %(value)s » inconnue (attendu « horaire » ou « temps fixe »)"), value=text))
    return method


def parse_staff_row(row: Row, problems: list[Problem]) -> StaffRow | None:
    read = RowReader(row, STAFF_COLUMNS, problems)
    registration_number = read("registration_number", cell_text, max_length=32)
    last_name = read("last_name", cell_text, max_length=100)
    first_name = read("first_name", cell_text, max_length=100)
    function = read("function", cell_text, required=False, max_length=255)
    method = read("method", _method)
    year = read("year", _year)
    annual_cost = read("annual_cost", cell_decimal, places=2, required=False)
    working_share = read("working_share", cell_decimal, places=4, required=False)
    fixed_percent = read("fixed_percent", cell_decimal, places=4, required=False)
    if not read.ok:
        return None
    if method == "hourly":
        # CPR 55(2)(a): the rate needs the year's documented annual cost.
        if year is None:
            read.fail("year", _(N_("obligatoire pour la méthode horaire")))
        if annual_cost is None:
            read.fail("annual_cost", _(N_("obligatoire pour la méthode horaire")))
        elif annual_cost <= 0:
            read.fail("annual_cost", _(N_("doit être positif")))
        if working_share is None:
            working_share = HUNDRED
        elif not 0 < working_share <= HUNDRED:
            read.fail("working_share", _(N_("doit être compris entre 0 (exclu) et 100")))
        if fixed_percent is not None:
            read.fail("fixed_percent", _(N_("à laisser vide pour la méthode horaire")))
    else:
        # CPR 55(5): a fixed % of the month's cost; no rate, no annual cost.
        if fixed_percent is None:
            read.fail("fixed_percent", _(N_("obligatoire pour la méthode temps fixe")))
        elif not 0 < fixed_percent <= HUNDRED:
            read.fail("fixed_percent", _(N_("doit être compris entre 0 (exclu) et 100")))
        for key in ("year", "annual_cost", "working_share"):
            if read.row.values.get(key) not in (None, "") and str(read.row.values.get(key)).strip():
                read.fail(key, _(N_("à laisser vide pour la méthode temps fixe")))
    if not read.ok:
        return None
    return StaffRow(
        row.line, registration_number, last_name, first_name, function, method, year, annual_cost, working_share,
        fixed_percent,
    )


def check_staff_rows(operation, rows: list[StaffRow], problems: list[Problem], progress=None) -> list[Change]:
    # ``progress``: called with 1 for each row checked (a progress bar's update).
    """What each row would change, or a Problem for each row that breaks a rule."""
    people = {
        person.registration_number: person
        for person in db.session.scalars(
            select(Person).where(Person.registration_number.in_({row.registration_number for row in rows}))
        )
    }
    assignments = {a.person.registration_number: a for a in assignments_of(operation)}
    seen_person: dict[str, StaffRow] = {}
    seen_year: set = set()
    changes = []
    for row in rows:
        if progress:
            progress(1)
        count_before = len(problems)

        def fail(key, message):
            problems.append(Problem(row.line, STAFF_COLUMNS[key] if key else None, message))

        earlier = seen_person.get(row.registration_number)
        if earlier is not None:
            if (earlier.last_name, earlier.first_name) != (row.last_name, row.first_name):
                fail("last_name", _(N_("le matricule %(number)s porte un autre nom ligne %(line)s"),
                                    number=row.registration_number, line=earlier.line))
            if (earlier.method, earlier.fixed_percent) != (row.method, row.fixed_percent):
                fail("method", _(N_("méthode différente de celle de la ligne %(line)s pour ce matricule"),
                                 line=earlier.line))
            if row.method == "fixed_share":
                fail("registration_number", _(N_("personne à temps fixe déjà présente ligne %(line)s"), line=earlier.line))
        else:
            seen_person[row.registration_number] = row
        if row.method == "hourly":
            if (row.registration_number, row.year) in seen_year:
                fail("year", _(N_("année %(year)s déjà présente pour ce matricule"), year=row.year))
            seen_year.add((row.registration_number, row.year))

        person = people.get(row.registration_number)
        if person is not None and (normalise_header(person.last_name), normalise_header(person.first_name)) != (
            normalise_header(row.last_name), normalise_header(row.first_name)
        ):
            fail("last_name", _(N_("le matricule %(number)s est enregistré pour %(first)s %(last)s"),
                                number=row.registration_number, first=person.first_name, last=person.last_name))
        assignment = assignments.get(row.registration_number)
        if assignment is not None and (assignment.method, assignment.fixed_percent) != (row.method, row.fixed_percent):
            if assignment.timesheets:
                fail("method", _(N_("méthode ou temps fixe différents de l'affectation enregistrée, qui a déjà des fiches de temps")))
        if row.method == "hourly" and row.year is not None:
            first, last = operation.start_date.year, operation.end_date.year
            if not first <= row.year <= last:
                fail("year", _(N_("hors de la période de l'opération (%(first)s-%(last)s)"), first=first, last=last))
        if len(problems) > count_before:
            continue
        changes.append(_staff_change(operation, row, person, assignment, problems))
    return [change for change in changes if change is not None]


def _staff_change(operation, row: StaffRow, person, assignment, problems) -> Change | None:
    if row.method == "fixed_share":
        detail = _(N_("temps fixe %(percent)s"), percent=computations.percent_text(row.fixed_percent))
        if assignment is not None and assignment.fixed_percent == row.fixed_percent and person is not None and (
            person.function or None
        ) == row.function:
            return Change(row, "unchanged", detail)
        return Change(row, "new" if assignment is None else "updated", detail)
    rate, text = computations.hourly_rate(row.annual_cost, operation.hours_divisor, row.working_share)
    existing = None
    if assignment is not None:
        existing = next((cost for cost in assignment.annual_costs if cost.year == row.year), None)
    if existing is not None:
        same_cost = (existing.annual_cost, existing.working_share, existing.hours_divisor) == (
            row.annual_cost, row.working_share, operation.hours_divisor
        )
        if same_cost:
            if (person.function or None) == row.function:
                return Change(row, "unchanged", existing.computation)
            return Change(row, "updated", existing.computation)
        # The cost lines of approved months were computed with the recorded rate.
        approved = [
            sheet for sheet in assignment.timesheets if sheet.month.year == row.year and sheet.state in ("approved", "locked")
        ]
        if approved:
            problems.append(Problem(row.line, STAFF_COLUMNS["annual_cost"], _(
                N_("le coût annuel %(year)s a déjà servi à des fiches approuvées : remettez-les en brouillon avant de le changer"),
                year=row.year)))
            return None
        cap_problem = _annual_cap_problem(person, row.year, computations.reference_hours(operation.hours_divisor, row.working_share))
        if cap_problem:
            problems.append(Problem(row.line, STAFF_COLUMNS["working_share"], cap_problem))
            return None
        return Change(row, "updated", text)
    return Change(row, "new", text)


def _annual_cap_problem(person, year, cap) -> str | None:
    declared = _hours_declared(person.id, year)
    if declared > cap:
        return _(N_("%(declared)s déjà déclarées en %(year)s, au-delà du plafond de %(cap)s (RPDC 55(3))"),
                 declared=computations.hours_text(declared), year=year, cap=computations.hours_text(cap))
    return None


def _hours_declared(person_id, year, exclude_ids=()) -> Decimal:
    """Hours on operations declared for a person over a calendar year, every operation and state."""
    query = (
        select(func.coalesce(func.sum(Timesheet.hours_on_operation), 0))
        .join(StaffAssignment)
        .where(StaffAssignment.person_id == person_id, extract("year", Timesheet.month) == year)
    )
    if exclude_ids:
        query = query.where(Timesheet.id.not_in(list(exclude_ids)))
    return Decimal(db.session.scalar(query)).quantize(Decimal("0.01"))


def _hours_on_other_operations(operation, person_ids, months) -> dict:
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


def apply_staff_changes(operation, changes: list[Change]) -> None:
    changes = [change for change in changes if change.outcome != "unchanged"]
    if not changes:
        return
    numbers = {change.row.registration_number for change in changes}
    people = {
        person.registration_number: person
        for person in db.session.scalars(select(Person).where(Person.registration_number.in_(numbers)))
    }
    assignments = {a.person.registration_number: a for a in assignments_of(operation)}
    employer = operation.organisation.name if operation.organisation else None
    with db.session.no_autoflush:
        for change in changes:
            row = change.row
            person = people.get(row.registration_number)
            if person is None:
                person = Person(registration_number=row.registration_number, last_name=row.last_name,
                                first_name=row.first_name, function=row.function, employer=employer)
                db.session.add(person)
                people[row.registration_number] = person
            elif row.function and person.function != row.function:
                person.function = row.function
            assignment = assignments.get(row.registration_number)
            if assignment is None:
                assignment = StaffAssignment(operation=operation, person=person, method=row.method,
                                             fixed_percent=row.fixed_percent, annual_costs=[], timesheets=[])
                db.session.add(assignment)
                assignments[row.registration_number] = assignment
            else:
                assignment.method = row.method
                assignment.fixed_percent = row.fixed_percent
            if row.method == "hourly":
                rate, text = computations.hourly_rate(row.annual_cost, operation.hours_divisor, row.working_share)
                cost = next((cost for cost in assignment.annual_costs if cost.year == row.year), None)
                if cost is None:
                    cost = AnnualCost(assignment=assignment, year=row.year)
                    db.session.add(cost)
                cost.annual_cost = row.annual_cost
                cost.working_share = row.working_share
                cost.hours_divisor = operation.hours_divisor
                cost.hourly_rate = rate
                cost.computation = text
    db.session.flush()


# ---------------------------------------------------------------- timesheet rows


@dataclass
class TimesheetRow:
    line: int
    registration_number: str
    month: date
    hours_on_operation: Decimal | None
    hours_worked: Decimal | None
    monthly_cost: Decimal | None


def parse_timesheet_row(row: Row, problems: list[Problem]) -> TimesheetRow | None:
    read = RowReader(row, TIMESHEET_COLUMNS, problems)
    registration_number = read("registration_number", cell_text, max_length=32)
    month = read("month", cell_month)
    hours_on_operation = read("hours_on_operation", cell_decimal, places=2, required=False)
    hours_worked = read("hours_worked", cell_decimal, places=2, required=False)
    monthly_cost = read("monthly_cost", cell_decimal, places=2, required=False)
    for key, value in (("hours_on_operation", hours_on_operation), ("hours_worked", hours_worked)):
        if value is not None and value > MAX_MONTH_HOURS:
            read.fail(key, _(N_("plus de %(max)s heures dans un mois"), max=MAX_MONTH_HOURS))
    if not read.ok:
        return None
    return TimesheetRow(row.line, registration_number, month, hours_on_operation, hours_worked, monthly_cost)


def _month_text(month: date) -> str:
    return f"{month.month:02d}/{month.year}"


def check_timesheet_rows(operation, rows: list[TimesheetRow], problems: list[Problem], progress=None,
                         editing: Timesheet | None = None) -> list[Change]:
    """What each row would change, or a Problem for each broken rule (caps: CPR 55(3))."""
    assignments = {a.person.registration_number: a for a in assignments_of(operation)}
    existing = {
        (sheet.assignment_id, sheet.month): sheet
        for sheet in db.session.scalars(
            select(Timesheet)
            .join(StaffAssignment)
            .where(StaffAssignment.operation_id == operation.id, Timesheet.month.in_({row.month for row in rows}))
            .options(selectinload(Timesheet.cost_line).selectinload(StaffCostLine.claim))
        )
    }
    first_month = date(operation.start_date.year, operation.start_date.month, 1)
    seen = {}
    # CPR 55(3) cap: hours already declared per (person id, year) on every operation, loaded
    # once; the running total adds the file's rows and takes out the sheets they replace.
    running = hours_by_person_year({a.person_id for a in assignments.values()})
    elsewhere = _hours_on_other_operations(operation, {a.person_id for a in assignments.values()}, {row.month for row in rows})
    changes = []
    for row in rows:
        if progress:
            progress(1)
        count_before = len(problems)

        def fail(key, message):
            problems.append(Problem(row.line, TIMESHEET_COLUMNS[key] if key else None, message))

        assignment = assignments.get(row.registration_number)
        if assignment is None:
            fail("registration_number", _(N_("aucun agent de matricule %(number)s n'est affecté à l'opération %(code)s"),
                                          number=row.registration_number, code=operation.code))
            continue
        if not first_month <= row.month <= operation.end_date:
            fail("month", _(N_("%(month)s est hors de la période de l'opération (%(start)s - %(end)s)"),
                            month=_month_text(row.month), start=_month_text(first_month),
                            end=_month_text(operation.end_date)))
        key = (row.registration_number, row.month)
        if key in seen:
            fail("month", _(N_("même agent et même mois que la ligne %(line)s"), line=seen[key]))
        seen[key] = row.line
        cost = None
        if assignment.method == "hourly":
            if row.hours_on_operation is None:
                fail("hours_on_operation", _(N_("obligatoire pour un agent au taux horaire")))
            if row.hours_worked is None:
                fail("hours_worked", _(N_("obligatoire pour un agent au taux horaire")))
            if row.monthly_cost is not None:
                fail("monthly_cost", _(N_("à laisser vide pour un agent au taux horaire (le coût vient du taux)")))
            # CPR 55(3): hours on the operation never exceed hours worked.
            if row.hours_on_operation is not None and row.hours_worked is not None and row.hours_on_operation > row.hours_worked:
                fail("hours_on_operation", _(N_("%(hours)s sur l'opération dépassent les %(worked)s travaillées (RPDC 55(3))"),
                                             hours=computations.hours_text(row.hours_on_operation),
                                             worked=computations.hours_text(row.hours_worked)))
            other = elsewhere.get((assignment.person_id, row.month), Decimal(0))
            if (row.hours_on_operation is not None and row.hours_worked is not None and other
                    and row.hours_on_operation + other > row.hours_worked):
                fail("hours_on_operation", _(
                    N_("%(hours)s ici et %(other)s sur d'autres opérations dépassent les %(worked)s travaillées (RPDC 55(3))"),
                    hours=computations.hours_text(row.hours_on_operation), other=computations.hours_text(other),
                    worked=computations.hours_text(row.hours_worked)))
            cost = next((cost for cost in assignment.annual_costs if cost.year == row.month.year), None)
            if cost is None:
                fail("month", _(N_("aucun coût annuel %(year)s n'est enregistré pour %(number)s : importez d'abord le fichier du personnel"),
                                year=row.month.year, number=row.registration_number))
        else:
            if row.monthly_cost is None:
                fail("monthly_cost", _(N_("obligatoire pour un agent à temps fixe")))
            for column in ("hours_on_operation", "hours_worked"):
                if getattr(row, column) is not None:
                    fail(column, _(N_("à laisser vide pour un agent à temps fixe (RPDC 55(5) : pas de fiche de temps)")))
        if len(problems) > count_before:
            continue
        sheet = editing if editing is not None else existing.get((assignment.id, row.month))
        other = existing.get((assignment.id, row.month))
        if editing is not None and other is not None and other is not editing:
            fail("month", _(N_("une autre fiche existe déjà pour cet agent et ce mois")))
            continue
        if sheet is not None and sheet.assignment_id != assignment.id:
            fail("registration_number", _(N_("la fiche modifiée est celle d'un autre agent")))
            continue
        if sheet is not None and _same_values(sheet, row):
            changes.append(Change(row, "unchanged", _state_label(sheet.state), sheet))
            continue
        if sheet is not None:
            blocked = changeable_problem(sheet)
            if blocked is None and sheet.state == "approved":
                blocked = _(N_("fiche de %(month)s déjà approuvée : remettez-la en brouillon avant de la modifier"),
                            month=_month_text(row.month))
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
                fail("hours_on_operation", _(
                    N_("%(total)s déclarées en %(year)s pour %(number)s, au-delà du plafond de %(cap)s (RPDC 55(3))"),
                    total=computations.hours_text(total), year=row.month.year, number=row.registration_number,
                    cap=computations.hours_text(cap)))
                continue
            running[cap_key] = total
            amount, text = computations.hourly_amount(row.hours_on_operation, cost.hourly_rate)
        else:
            amount, text = computations.fixed_share_amount(row.monthly_cost, assignment.fixed_percent)
        changes.append(Change(row, "new" if sheet is None else "updated", text, sheet or assignment))
    return changes


def _same_values(sheet: Timesheet, row: TimesheetRow) -> bool:
    return (sheet.month, sheet.hours_on_operation, sheet.hours_worked, sheet.monthly_cost) == (
        row.month, row.hours_on_operation, row.hours_worked, row.monthly_cost
    )


def _state_label(state):
    from .models import TIMESHEET_STATES

    return _(TIMESHEET_STATES[state])


def apply_timesheet_changes(operation, changes: list[Change], user=None, approved: bool = False) -> list[Timesheet]:
    """Write the checked rows. ``approved`` (CLI ``--approved``): the import is the approval."""
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
            _remove_cost_line(sheet)
        sheet.month = row.month
        sheet.hours_on_operation = row.hours_on_operation
        sheet.hours_worked = row.hours_worked
        sheet.monthly_cost = row.monthly_cost
        sheet.entered_by_id = user.id if user is not None else None
        sheet.approved_by_id = None
        sheet.approved_at = None
        # Imported sheets wait for a second finance officer's approval (unless --approved).
        sheet.state = "submitted"
        if approved:
            sheet.state = "approved"
            sheet.approved_at = datetime.now(timezone.utc)
            refresh_cost_line(sheet)
        written.append(sheet)
    db.session.flush()
    if approved:
        note = _(N_("import du fichier avec --approved : vaut approbation"))
        for sheet in written:
            line = sheet.cost_line
            audit.record("approve", "timesheets", sheet.id, before={"state": "submitted"},
                         after={"state": "approved", "amount": line.amount, "computation": line.computation}, note=note)
        db.session.flush()
    return written


# ---------------------------------------------------------------- imports


def _read(content: bytes, columns, required):
    table = read_table(content, columns, required)
    if table.problems:
        raise ImportRefused(table.problems)
    return table


def import_staff(operation, content: bytes, filename: str = "", apply: bool = True, progress=None) -> ImportReport:
    """All or nothing: ImportRefused lists every problem, nothing is written."""
    table = _read(content, STAFF_COLUMNS, STAFF_REQUIRED)
    problems: list[Problem] = []
    rows = [parsed for row in table.rows if (parsed := parse_staff_row(row, problems)) is not None]
    changes = check_staff_rows(operation, rows, problems, progress(len(rows)) if progress else None)
    if not table.rows and not problems:
        problems.append(Problem(None, None, _(N_("Le fichier ne contient aucune ligne."))))
    if problems:
        raise ImportRefused(sorted(problems, key=lambda problem: problem.line or 0))
    report = ImportReport("staff", changes)
    if apply:
        apply_staff_changes(operation, changes)
        _record_import("staff_import", operation, content, filename, report)
    return report


def import_timesheets(operation, content: bytes, filename: str = "", approved: bool = False, user=None,
                      apply: bool = True, progress=None) -> ImportReport:
    table = _read(content, TIMESHEET_COLUMNS, TIMESHEET_REQUIRED)
    problems: list[Problem] = []
    rows = [parsed for row in table.rows if (parsed := parse_timesheet_row(row, problems)) is not None]
    changes = check_timesheet_rows(operation, rows, problems, progress(len(rows)) if progress else None)
    if not table.rows and not problems:
        problems.append(Problem(None, None, _(N_("Le fichier ne contient aucune ligne."))))
    if problems:
        raise ImportRefused(sorted(problems, key=lambda problem: problem.line or 0))
    report = ImportReport("timesheets", changes)
    if apply:
        apply_timesheet_changes(operation, changes, user=user, approved=approved)
        _record_import("timesheet_import", operation, content, filename, report, approved=approved)
    return report


def _record_import(action, operation, content, filename, report, approved=None):
    after = {
        "operation": operation.code,
        "file": filename,
        "sha256": hashlib.sha256(content).hexdigest(),
        "new": report.count("new"),
        "updated": report.count("updated"),
        "unchanged": report.count("unchanged"),
    }
    if approved is not None:
        after["approved"] = approved
    audit.record(action, "operations", operation.id, after=after,
                 note=_(N_("import approuvé (--approved)")) if approved else None)


# ---------------------------------------------------------------- form paths (one-row imports)


def save_staff_row(operation, values: dict) -> Change:
    """The staff form: ``values`` holds the raw texts keyed as STAFF_COLUMNS; raises
    ImportRefused with the problems (their ``column`` names the field)."""
    problems: list[Problem] = []
    parsed = parse_staff_row(Row(0, values), problems)
    changes = check_staff_rows(operation, [parsed], problems) if parsed else []
    if problems:
        raise ImportRefused(problems)
    apply_staff_changes(operation, changes)
    return changes[0]


def save_timesheet(operation, values: dict, user, sheet: Timesheet | None = None, version: int | None = None) -> Change:
    """The timesheet form (new or edit). ``version`` is the one the user saw: optimistic locking."""
    if sheet is not None:
        if version is not None and version != sheet.version:
            raise StaffError(_(N_("Cette fiche a été modifiée par quelqu'un d'autre pendant votre saisie. Vos valeurs sont conservées ci-dessous ; vérifiez la fiche actuelle puis enregistrez à nouveau.")))
        blocked = changeable_problem(sheet)
        if blocked:
            raise StaffError(blocked)
    problems: list[Problem] = []
    parsed = parse_timesheet_row(Row(0, values), problems)
    changes = check_timesheet_rows(operation, [parsed], problems, editing=sheet) if parsed else []
    if parsed and sheet is None and changes and changes[0].outcome != "new":
        problems.append(Problem(0, TIMESHEET_COLUMNS["month"], _(N_("une fiche existe déjà pour cet agent et ce mois : modifiez-la"))))
    if problems:
        raise ImportRefused(problems)
    change = changes[0]
    if change.outcome != "unchanged":
        written = apply_timesheet_changes(operation, changes, user=user)
        for sheet_written in written:
            sheet_written.state = "draft"
        db.session.flush()
    return change


# ---------------------------------------------------------------- states and cost lines


def changeable_problem(sheet: Timesheet) -> str | None:
    """Why a timesheet can no longer change (claimed), or None."""
    line = sheet.cost_line
    if line is not None and line.claim_id is not None:
        claim = line.claim
        return _(N_("La fiche de %(month)s fait partie de la demande de paiement n° %(number)s : elle ne peut plus être modifiée."),
                 month=_month_text(sheet.month), number=claim.number if claim else line.claim_id)
    if sheet.state == "locked":
        return _(N_("La fiche de %(month)s est verrouillée (demandée) : elle ne peut plus être modifiée."),
                 month=_month_text(sheet.month))
    return None


def change_state(sheet: Timesheet, action: str, user) -> None:
    if action not in TRANSITIONS:
        raise StaffError(_(N_("Action inconnue.")))
    blocked = changeable_problem(sheet)
    if blocked:
        raise StaffError(blocked)
    sources, target = TRANSITIONS[action]
    if sheet.state not in sources:
        raise StaffError(_(N_("Action « %(action)s » impossible sur une fiche à l'état « %(state)s »."),
                           action=_(ACTION_LABELS[action]), state=_state_label(sheet.state)))
    if action == "approve":
        # Four eyes: the approver is not the one who entered the figures.
        if sheet.entered_by_id is not None and user is not None and sheet.entered_by_id == user.id:
            raise StaffError(_(N_("Une fiche ne peut pas être approuvée par la personne qui l'a saisie : un autre gestionnaire doit l'approuver.")))
        _approve(sheet, user)
        db.session.flush()
        return
    before = sheet.state
    if action == "reopen":
        _remove_cost_line(sheet)
        sheet.approved_by_id = None
        sheet.approved_at = None
    sheet.state = target
    audit.record(action, "timesheets", sheet.id, before={"state": before}, after={"state": target})
    db.session.flush()


def _approve(sheet: Timesheet, user, note=None) -> None:
    before = sheet.state
    sheet.state = "approved"
    sheet.approved_by_id = user.id if user is not None else None
    sheet.approved_at = datetime.now(timezone.utc)
    line = refresh_cost_line(sheet)
    audit.record("approve", "timesheets", sheet.id, before={"state": before},
                 after={"state": "approved", "amount": line.amount, "computation": line.computation}, note=note)


def refresh_cost_line(sheet: Timesheet) -> StaffCostLine:
    """The PERSONNEL cost of an approved person-month, with its computation kept."""
    assignment = sheet.assignment
    with db.session.no_autoflush:
        if assignment.method == "hourly":
            cost = next((cost for cost in assignment.annual_costs if cost.year == sheet.month.year), None)
            if cost is None:
                raise StaffError(_(N_("Aucun coût annuel %(year)s pour %(number)s : le taux horaire ne peut être calculé."),
                                   year=sheet.month.year, number=assignment.person.registration_number))
            amount, text = computations.hourly_amount(sheet.hours_on_operation, cost.hourly_rate)
            values = {"hours": sheet.hours_on_operation, "hourly_rate": cost.hourly_rate,
                      "monthly_cost": None, "fixed_percent": None}
        else:
            amount, text = computations.fixed_share_amount(sheet.monthly_cost, assignment.fixed_percent)
            values = {"hours": None, "hourly_rate": None,
                      "monthly_cost": sheet.monthly_cost, "fixed_percent": assignment.fixed_percent}
        values.update(operation_id=assignment.operation_id, person_id=assignment.person_id, month=sheet.month,
                      amount=amount, computation=text)
        line = sheet.cost_line
        if line is None:
            line = StaffCostLine(timesheet=sheet, **values)
            db.session.add(line)
        else:
            for key, value in values.items():
                setattr(line, key, value)
    return line


def _remove_cost_line(sheet: Timesheet) -> None:
    if sheet.cost_line is not None:
        db.session.delete(sheet.cost_line)
        sheet.cost_line = None
        db.session.flush()


def lock_claimed_timesheets(claim) -> int:
    """For the claims domain, at submission: the timesheets of the claim's staff cost lines
    become 'locked' (no change after that). Returns how many were locked."""
    sheets = db.session.scalars(
        select(Timesheet).join(StaffCostLine, StaffCostLine.timesheet_id == Timesheet.id).where(StaffCostLine.claim_id == claim.id)
    ).all()
    count = 0
    for sheet in sheets:
        if sheet.state != "locked":
            sheet.state = "locked"
            count += 1
    if count:
        audit.record("lock", "claims", claim.id, after={"timesheets_locked": count})
    db.session.flush()
    return count


def content_digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()

"""Staff rows (file, or the staff form as a one-row import): a person, their method on
the operation and, for hourly staff, the annual employment cost of a year (method A,
CPR 55(2)(a)) or the monthly cost and monthly hours of the employment document (method B,
CPR 55(2)(b), primer §4);
parsed, checked against the rules, then applied. Nothing is written unless every row is
valid (``imports``)."""
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from ..kernel.integers import parse_int
from ..kernel.errors import DomainError, Problem
from ..kernel.extensions import db
from ..kernel.locks import lock_keys, lock_rows
from ..kernel.formatting import format_hours, format_percent
from ..kernel.i18n import N_, translate
from ..kernel.money import HUNDRED
from ..kernel.tabular import Row, RowReader, cell_decimal, cell_text, normalise_header
from . import computations
from .changes import Change, row_problem
from .one_cost import costs_elsewhere, one_cost_problem
from ..operations.models import Operation
from .models import CLAIMABLE_TIMESHEET_STATES, AnnualCost, MonthlyCost, Person, StaffAssignment
from .queries import assignments_of, hours_declared

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
    "monthly_cost": "Coût mensuel chargé (méthode B)",
    "monthly_hours": "Heures mensuelles du contrat (méthode B)",
}
STAFF_REQUIRED = frozenset({"registration_number", "last_name", "first_name", "method"})

# How the Méthode column names the methods (matched without case or accents).
METHOD_WORDS = {"horaire": "hourly", "methode a": "hourly", "horaire a": "hourly",
                "methode b": "hourly_monthly", "horaire b": "hourly_monthly", "horaire mensuel": "hourly_monthly",
                "temps fixe": "fixed_share"}
METHOD_FILE_NAMES = {"hourly": "horaire", "hourly_monthly": "méthode B", "fixed_share": "temps fixe"}
# Columns each method fills; the others stay empty (CPR 55(2)(a), 55(2)(b), 55(5)).
METHOD_ONLY_COLUMNS = {"annual_cost": "hourly", "working_share": "hourly", "fixed_percent": "fixed_share",
                       "monthly_cost": "hourly_monthly", "monthly_hours": "hourly_monthly"}


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
    monthly_cost: Decimal | None = None  # method B
    monthly_hours: Decimal | None = None


def _year(value):
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = cell_text(value, required=False, max_length=10)
        if text is None:
            return None
        number = parse_int(text)
        if number is None:
            raise DomainError(N_("année invalide « %(value)s » (attendu aaaa)"), value=text)
    if not 2000 <= number <= 2100:
        raise DomainError(N_("année invalide « %(value)s » (attendu aaaa)"), value=number)
    return number


def _method(value):
    text = cell_text(value)
    method = METHOD_WORDS.get(normalise_header(text))
    if method is None:
        raise DomainError(N_("méthode « %(value)s » inconnue (attendu « horaire », « méthode B » ou « temps fixe »)"),
                          value=text)
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
    working_share = read("working_share", cell_decimal, places=4, required=False, noun="percent")
    fixed_percent = read("fixed_percent", cell_decimal, places=4, required=False, noun="percent")
    monthly_cost = read("monthly_cost", cell_decimal, places=2, required=False)
    monthly_hours = read("monthly_hours", cell_decimal, places=2, required=False)
    if not read.ok:
        return None
    for key, owner in METHOD_ONLY_COLUMNS.items():
        # A column of another method is left empty (a fixed-share row's year is accepted below).
        if owner != method and key in ("monthly_cost", "monthly_hours") and read.row.values.get(key) not in (None, "") \
                and str(read.row.values.get(key)).strip():
            read.fail(key, DomainError(N_("à laisser vide sauf pour la méthode B")))
    if method == "hourly_monthly":
        # CPR 55(2)(b): the year's monthly gross cost / monthly hours of the employment document.
        if year is None:
            read.fail("year", DomainError(N_("obligatoire pour la méthode B")))
        for key, value in (("monthly_cost", monthly_cost), ("monthly_hours", monthly_hours)):
            if value is None:
                read.fail(key, DomainError(N_("obligatoire pour la méthode B")))
            elif value <= 0:
                read.fail(key, DomainError(N_("doit être positif")))
        if monthly_hours is not None and monthly_hours > MAX_MONTH_HOURS:
            read.fail("monthly_hours", DomainError(N_("plus de %(max)s heures dans un mois"), max=MAX_MONTH_HOURS))
        for key in ("annual_cost", "working_share", "fixed_percent"):
            if read.row.values.get(key) not in (None, "") and str(read.row.values.get(key)).strip():
                read.fail(key, DomainError(N_("à laisser vide pour la méthode B")))
    elif method == "hourly":
        # CPR 55(2)(a): the rate needs the year's documented annual cost.
        if year is None:
            read.fail("year", DomainError(N_("obligatoire pour la méthode horaire")))
        if annual_cost is None:
            read.fail("annual_cost", DomainError(N_("obligatoire pour la méthode horaire")))
        elif annual_cost <= 0:
            read.fail("annual_cost", DomainError(N_("doit être positif")))
        if working_share is None:
            working_share = HUNDRED
        elif not 0 < working_share <= HUNDRED:
            read.fail("working_share", DomainError(N_("doit être compris entre 0 (exclu) et 100")))
        if fixed_percent is not None:
            read.fail("fixed_percent", DomainError(N_("à laisser vide pour la méthode horaire")))
    else:
        # CPR 55(5): a fixed % of the month's cost; no rate, no annual cost.
        if fixed_percent is None:
            read.fail("fixed_percent", DomainError(N_("obligatoire pour la méthode temps fixe")))
        elif not 0 < fixed_percent <= HUNDRED:
            read.fail("fixed_percent", DomainError(N_("doit être compris entre 0 (exclu) et 100")))
        # People fill every column: a year is accepted (the year the share applies from,
        # checked against the operation's period); an annual cost or working share is not.
        for key in ("annual_cost", "working_share"):
            if read.row.values.get(key) not in (None, "") and str(read.row.values.get(key)).strip():
                read.fail(key, DomainError(N_("à laisser vide pour la méthode temps fixe")))
    if not read.ok:
        return None
    return StaffRow(
        row.line, registration_number, last_name, first_name, function, method, year, annual_cost, working_share,
        fixed_percent, monthly_cost, monthly_hours,
    )


def check_staff_rows(operation, rows: list[StaffRow], problems: list[Problem], progress=None) -> list[Change]:
    # ``progress``: called with 1 for each row checked (a progress bar's update).
    """What each row would change, or a Problem for each row that breaks a rule."""
    # A person is one registration number in every operation, with one assignment and one
    # annual cost a year in each: the numbers and the operation are locked before they are
    # read, until the request commits (issue 21: parallel entries ended in HTTP 500).
    lock_keys("staff-person", {row.registration_number for row in rows})
    lock_rows(Operation, [operation.id])
    people = {
        person.registration_number: person
        for person in db.session.scalars(
            select(Person).where(Person.registration_number.in_({row.registration_number for row in rows}))
        )
    }
    assignments = {a.person.registration_number: a for a in assignments_of(operation)}
    elsewhere = costs_elsewhere(operation, [person.id for person in people.values()])
    seen_person: dict[str, StaffRow] = {}
    seen_year: set = set()
    changes = []
    for row in rows:
        if progress:
            progress(1)
        count_before = len(problems)

        def fail(key, error):
            problems.append(row_problem(row.line, STAFF_COLUMNS[key] if key else None, error))

        earlier = seen_person.get(row.registration_number)
        if earlier is not None:
            if (earlier.last_name, earlier.first_name) != (row.last_name, row.first_name):
                fail("last_name", DomainError(N_("le matricule %(number)s porte un autre nom ligne %(line)s"),
                                    number=row.registration_number, line=earlier.line))
            if (earlier.method, earlier.fixed_percent) != (row.method, row.fixed_percent):
                fail("method", DomainError(N_("méthode différente de celle de la ligne %(line)s pour ce matricule"),
                                 line=earlier.line))
            if row.method == "fixed_share":
                fail("registration_number", DomainError(N_("personne à temps fixe déjà présente ligne %(line)s"), line=earlier.line))
        else:
            seen_person[row.registration_number] = row
        if row.method in ("hourly", "hourly_monthly"):
            if (row.registration_number, row.year) in seen_year:
                fail("year", DomainError(N_("année %(year)s déjà présente pour ce matricule"), year=row.year))
            seen_year.add((row.registration_number, row.year))

        person = people.get(row.registration_number)
        if person is not None and (normalise_header(person.last_name), normalise_header(person.first_name)) != (
            normalise_header(row.last_name), normalise_header(row.first_name)
        ):
            fail("last_name", DomainError(N_("le matricule %(number)s est enregistré pour %(first)s %(last)s"),
                                number=row.registration_number, first=person.first_name, last=person.last_name))
        assignment = assignments.get(row.registration_number)
        if assignment is not None and (assignment.method, assignment.fixed_percent) != (row.method, row.fixed_percent):
            if assignment.timesheets:
                fail("method", DomainError(N_("méthode ou temps fixe différents de l'affectation enregistrée, qui a déjà des fiches de temps")))
        # Primer §9: one annual cost and one working share per person and year, on every operation.
        second_cost = one_cost_problem(row, person, elsewhere)
        if second_cost is not None:
            fail("monthly_cost" if row.method == "hourly_monthly" else "annual_cost", second_cost)
        if row.method in ("hourly", "hourly_monthly") and row.year is not None:
            first, last = operation.start_date.year, operation.end_date.year
            if not first <= row.year <= last:
                fail("year", DomainError(N_("hors de la période de l'opération (%(first)s-%(last)s)"), first=first, last=last))
        if len(problems) > count_before:
            continue
        changes.append(_staff_change(operation, row, person, assignment, problems))
    return [change for change in changes if change is not None]


def _staff_change(operation, row: StaffRow, person, assignment, problems) -> Change | None:
    if row.method == "fixed_share":
        if row.year is not None and not operation.start_date.year <= row.year <= operation.end_date.year:
            problems.append(row_problem(row.line, STAFF_COLUMNS["year"], DomainError(
                N_("année %(year)s hors de la période de l'opération (%(start)s-%(end)s)"),
                year=row.year, start=operation.start_date.year, end=operation.end_date.year)))
            return None
        detail = translate(N_("temps fixe %(percent)s"), percent=format_percent(row.fixed_percent, places=None, plain=True))
        if assignment is not None and assignment.fixed_percent == row.fixed_percent and person is not None and (
            person.function or None
        ) == row.function:
            return Change(row, "unchanged", detail)
        return Change(row, "new" if assignment is None else "updated", detail)
    if row.method == "hourly_monthly":
        return _monthly_change(row, person, assignment, problems)
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
            sheet for sheet in assignment.timesheets if sheet.month.year == row.year and sheet.state in CLAIMABLE_TIMESHEET_STATES
        ]
        if approved:
            problems.append(row_problem(row.line, STAFF_COLUMNS["annual_cost"], DomainError(
                N_("le coût annuel %(year)s a déjà servi à des fiches approuvées : remettez-les en brouillon avant de le changer"),
                year=row.year)))
            return None
        cap_problem = _annual_cap_problem(person, row.year, computations.reference_hours(operation.hours_divisor, row.working_share))
        if cap_problem:
            problems.append(row_problem(row.line, STAFF_COLUMNS["working_share"], cap_problem))
            return None
        return Change(row, "updated", text)
    return Change(row, "new", text)


def _monthly_change(row: StaffRow, person, assignment, problems) -> Change | None:
    """Method B (CPR 55(2)(b)): the year's monthly cost and monthly hours, and the rate they give."""
    rate, text = computations.monthly_rate(row.monthly_cost, row.monthly_hours)
    existing = None
    if assignment is not None:
        existing = next((cost for cost in assignment.monthly_costs if cost.year == row.year), None)
    if existing is None:
        return Change(row, "new", text)
    if (existing.monthly_cost, existing.monthly_hours) == (row.monthly_cost, row.monthly_hours):
        same_person = (person.function or None) == row.function
        return Change(row, "unchanged" if same_person else "updated", existing.computation)
    # The cost lines of approved months were computed with the recorded rate.
    if any(sheet.month.year == row.year and sheet.state in CLAIMABLE_TIMESHEET_STATES for sheet in assignment.timesheets):
        problems.append(row_problem(row.line, STAFF_COLUMNS["monthly_cost"], DomainError(
            N_("le coût mensuel %(year)s a déjà servi à des fiches approuvées : remettez-les en brouillon avant de le changer"),
            year=row.year)))
        return None
    return Change(row, "updated", text)


def _annual_cap_problem(person, year, cap) -> DomainError | None:
    declared = hours_declared(person.id, year)
    if declared > cap:
        return DomainError(N_("%(declared)s déjà déclarées en %(year)s, au-delà du plafond de %(cap)s (RPDC 55(3))"),
                 declared=format_hours(declared, plain=True), year=year, cap=format_hours(cap, plain=True))
    return None


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
                                             fixed_percent=row.fixed_percent, annual_costs=[], monthly_costs=[],
                                             timesheets=[])
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
            elif row.method == "hourly_monthly":
                rate, text = computations.monthly_rate(row.monthly_cost, row.monthly_hours)
                cost = next((cost for cost in assignment.monthly_costs if cost.year == row.year), None)
                if cost is None:
                    cost = MonthlyCost(assignment=assignment, year=row.year)
                    db.session.add(cost)
                cost.monthly_cost = row.monthly_cost
                cost.monthly_hours = row.monthly_hours
                cost.hourly_rate = rate
                cost.computation = text
    db.session.flush()

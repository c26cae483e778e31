"""Staff and timesheet imports (XLSX or CSV, web and CLI) and the two forms, which are
one-row imports: the same parsing and rules, all or nothing. Services flush; the request
or the command commits."""
import hashlib

from ..kernel.audit import services as audit
from ..kernel.errors import Conflict, DomainError, Problem
from ..kernel.i18n import N_, current_locale, translate
from ..kernel.tabular import Row, read_table
from ..kernel.transactions import atomic
from ..operations.closure import ensure_open
from .changes import Change, ImportReport, row_problem
from .lifecycle import changeable_problem
from .models import Timesheet
from .people import (
    STAFF_COLUMNS,
    STAFF_REQUIRED,
    apply_staff_changes,
    check_staff_rows,
    parse_staff_row,
)
from .timesheets import (
    TIMESHEET_COLUMNS,
    TIMESHEET_REQUIRED,
    apply_timesheet_changes,
    check_timesheet_rows,
    parse_timesheet_row,
)


def _read(content: bytes, columns, required):
    table = read_table(content, columns, required)
    if table.problems:
        raise DomainError(problems=table.problems)
    return table


def _checked_changes(operation, content: bytes, columns, required, parse, check, progress=None,
                     notes=None) -> list[Change]:
    """Read, parse and check every row of a file; raise DomainError listing every problem."""
    ensure_open(operation)
    table = _read(content, columns, required)
    if notes is not None:
        notes.extend(table.notes)
    problems: list[Problem] = []
    rows = [parsed for row in table.rows if (parsed := parse(row, problems)) is not None]
    changes = check(operation, rows, problems, progress(len(rows)) if progress else None)
    if not table.rows and not problems:
        problems.append(Problem(DomainError(N_("Le fichier ne contient aucune ligne."))))
    if problems:
        raise DomainError(problems=sorted(problems, key=lambda problem: problem.line or 0))
    return changes


@atomic
def import_staff(operation, content: bytes, filename: str = "", apply: bool = True, progress=None) -> ImportReport:
    """All or nothing: a DomainError lists every problem, nothing is written."""
    notes: list = []
    changes = _checked_changes(operation, content, STAFF_COLUMNS, STAFF_REQUIRED, parse_staff_row, check_staff_rows,
                               progress, notes)
    report = ImportReport("staff", changes, notes)
    if apply:
        apply_staff_changes(operation, changes)
        _record_import("staff_import", operation, content, filename, report)
    return report


@atomic
def import_timesheets(operation, content: bytes, filename: str = "", approved: bool = False, user=None,
                      apply: bool = True, progress=None) -> ImportReport:
    notes: list = []
    changes = _checked_changes(operation, content, TIMESHEET_COLUMNS, TIMESHEET_REQUIRED, parse_timesheet_row,
                               check_timesheet_rows, progress, notes)
    report = ImportReport("timesheets", changes, notes)
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
                 note=translate(N_("import approuvé (--approved)")) if approved else None)


# ---------------------------------------------------------------- form paths (one-row imports)


@atomic
def save_staff_row(operation, values: dict) -> Change:
    """The staff form: ``values`` holds the raw texts keyed as STAFF_COLUMNS; raises
    a DomainError with the problems (their ``column`` names the field)."""
    ensure_open(operation)
    problems: list[Problem] = []
    parsed = parse_staff_row(Row(0, values, locale=current_locale()), problems)
    changes = check_staff_rows(operation, [parsed], problems) if parsed else []
    if problems:
        raise DomainError(problems=problems)
    apply_staff_changes(operation, changes)
    return changes[0]


@atomic
def save_timesheet(operation, values: dict, user, sheet: Timesheet | None = None, version: int | None = None) -> Change:
    """The timesheet form (new or edit). ``version`` is the one the user saw: optimistic locking."""
    ensure_open(operation)
    if sheet is not None:
        if version is not None and version != sheet.version:
            raise Conflict(N_("Cette fiche a été modifiée par quelqu'un d'autre pendant votre saisie. Vos valeurs sont conservées ci-dessous ; vérifiez la fiche actuelle puis enregistrez à nouveau."))
        blocked = changeable_problem(sheet)
        if blocked:
            raise blocked
    problems: list[Problem] = []
    parsed = parse_timesheet_row(Row(0, values, locale=current_locale()), problems)
    changes = check_timesheet_rows(operation, [parsed], problems, editing=sheet) if parsed else []
    if parsed and sheet is None and changes and changes[0].outcome != "new":
        problems.append(row_problem(0, TIMESHEET_COLUMNS["month"], DomainError(N_("une fiche existe déjà pour cet agent et ce mois : modifiez-la"))))
    if problems:
        raise DomainError(problems=problems)
    change = changes[0]
    if change.outcome != "unchanged":
        apply_timesheet_changes(operation, changes, user=user, state="draft")
    return change

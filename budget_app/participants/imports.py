"""Participant imports (XLSX or CSV, web and CLI) and the entry and exit forms, which are
one-row imports: the same parsing and rules, all or nothing (participants §4, §6)."""
import hashlib

from ..kernel.audit import services as audit
from ..kernel.bulk import gc_paused
from ..kernel.errors import DomainError, Problem
from ..kernel.i18n import N_
from ..kernel.tabular import Row, read_table
from ..kernel.transactions import atomic
from .answers import COLUMNS, REQUIRED_COLUMNS, AnswersReader, read_answers
from .records import Change, apply_changes, check_rows

OUTCOMES = ("new", "updated", "reentry", "unchanged")


class ImportReport:
    def __init__(self, changes: list[Change], notes: list):
        self.changes = changes
        self.notes = notes

    def count(self, outcome: str) -> int:
        return sum(1 for change in self.changes if change.outcome == outcome)

    @property
    def summary(self) -> str:
        return (f"{self.count('new')} nouveau(x) participant(s), {self.count('updated')} modifié(s), "
                f"{self.count('reentry')} réentrée(s), {self.count('unchanged')} déjà enregistré(s) (ignoré(s)).")


def checked_changes(operation, content: bytes) -> tuple[list[Change], list]:
    """Read, parse and check every row; raise DomainError listing every problem."""
    table = read_table(content, COLUMNS, REQUIRED_COLUMNS)
    if table.problems:
        raise DomainError(problems=table.problems)
    problems: list[Problem] = []
    read = AnswersReader()
    rows = [answers for row in table.rows if (answers := read(row, problems)) is not None]
    changes = check_rows(operation, rows, problems)
    if not table.rows and not problems:
        problems.append(Problem(DomainError(N_("Le fichier ne contient aucune ligne."))))
    if problems:
        raise DomainError(problems=sorted(problems, key=lambda problem: problem.line or 0))
    return changes, table.notes


@gc_paused()
@atomic
def import_participants(operation, content: bytes, filename: str = "", user=None, apply: bool = True) -> ImportReport:
    """All or nothing: a DomainError lists every problem, nothing is written."""
    changes, notes = checked_changes(operation, content)
    report = ImportReport(changes, notes)
    if apply:
        apply_changes(operation, changes, user=user, load_new=False)
        audit.record("participant_import", "operations", operation.id, after={
            "operation": operation.code, "file": filename, "sha256": hashlib.sha256(content).hexdigest(),
            **{outcome: report.count(outcome) for outcome in OUTCOMES},
        })
    return report


@atomic
def save_participant(operation, values: dict, user=None):
    """The entry or exit form: ``values`` holds the raw texts keyed as COLUMNS (plus
    ``contact``), ``code`` for an existing participant; raises a DomainError whose
    problems name the fields' headers."""
    problems: list[Problem] = []
    answers = read_answers(Row(0, values), problems)
    changes = check_rows(operation, [answers], problems) if answers else []
    if problems:
        raise DomainError(problems=problems)
    return apply_changes(operation, changes, user=user)[0]

"""What a row of a staff or timesheet file (or a form, a one-row import) would change,
and the report of a whole import."""
from dataclasses import dataclass, field

from ..kernel.errors import Problem
from ..kernel.i18n import N_, translate


def row_problem(line, column, error) -> Problem:
    """A problem of a file row (``column`` is the header the user sees)."""
    return Problem(error, line=line, column=column)


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
    notes: list = field(default_factory=list)  # lines left out on purpose (title, totals)

    def count(self, outcome: str) -> int:
        return sum(1 for change in self.changes if change.outcome == outcome)

    @property
    def summary(self) -> str:
        return translate(
            N_("%(new)s nouvelle(s) ligne(s), %(updated)s modifiée(s), %(unchanged)s déjà enregistrée(s) (ignorée(s))."),
            new=self.count("new"),
            updated=self.count("updated"),
            unchanged=self.count("unchanged"),
        )

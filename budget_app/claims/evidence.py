"""One rule for both kinds of cost line (primer §9, statement vs bilan): a statement
(état récapitulatif) counts every line and shows beside its total the lines still missing
their documents and their total (« dont pièces manquantes »), so the month's figures are
known before the papers are gathered; a bilan counts complete lines only and lists the
others with their reason (``selection``: the rules ``incomplete``, ``staff_month_evidence``,
``staff_year_evidence``)."""
from dataclasses import dataclass, field
from decimal import Decimal

from ..kernel.money import ZERO
from ..kernel.extensions import db
from .left_out_rows import EXPENSE_COLUMNS, STAFF_COLUMNS, expense_line, staff_line
from .selection import (
    Computation,
    expense_evidence_rules,
    included_expenses_query,
    included_staff_query,
    reason_of,
    staff_evidence_rules,
)




@dataclass
class MissingEvidence:
    lines: list = field(default_factory=list)  # selection.LeftOutLine, reason = the evidence rule failed

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def count(self) -> int:
        return len(self.lines)


def missing_evidence(operation, start, end, computation: Computation) -> MissingEvidence:
    """The lines a statement counts that still miss their documents, each with the first
    evidence rule it fails: shown beside the total (« dont pièces manquantes »)."""
    if computation.evidence_required:
        return MissingEvidence()
    lines = []
    missing = reason_of(expense_evidence_rules())
    for row in db.session.execute(
        included_expenses_query(operation, start, end, computation)
        .with_only_columns(*EXPENSE_COLUMNS, missing.label("reason_code")).where(missing.is_not(None))
    ):
        lines.append(expense_line(row, row.reason_code))
    staff_missing = reason_of(staff_evidence_rules(operation))
    for row in db.session.execute(
        included_staff_query(operation, start, end, computation)
        .with_only_columns(*STAFF_COLUMNS, staff_missing.label("reason_code")).where(staff_missing.is_not(None))
    ):
        lines.append(staff_line(row, row.reason_code))
    return MissingEvidence(lines)

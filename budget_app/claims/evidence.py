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
from .selection import (
    Computation,
    _left_out_expense,
    _left_out_staff,
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
    for expense, code in db.session.execute(
        included_expenses_query(operation, start, end, computation).add_columns(missing)
        .where(missing.is_not(None))
    ).all():
        lines.append(_left_out_expense(expense, code))
    staff_missing = reason_of(staff_evidence_rules(operation))
    for line, code in db.session.execute(
        included_staff_query(operation, start, end, computation).add_columns(staff_missing)
        .where(staff_missing.is_not(None))
    ).all():
        lines.append(_left_out_staff(line, code))
    return MissingEvidence(lines)

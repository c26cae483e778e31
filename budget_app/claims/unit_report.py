"""The unit costs and lump sums of a claim or a period in its documents (the XLSX sheet
« Coûts unitaires et forfaits », the PDF table, the CSV rows): what was counted (units ×
amount per unit, or a deliverable achieved), its evidence, and why a record was left out.
Participants are named by their codes only (participants §5)."""
from sqlalchemy import select

from ..kernel.extensions import db
from ..kernel.formatting import format_money, format_number
from ..operations.unit_lines import CLAIM_CATEGORIES
from ..units.models import UnitRecord
from .models import ClaimLine
from .reasons import left_out_reasons
from .selection import chunks, included_units

# The « Type » of a line in the CSV and the control sheet.
KIND_WORDS = {"expense": "Dépense", "staff": "Personnel", "unit": "Coût unitaire ou forfait"}

UNIT_COLUMNS = [
    ("Poste", "text", 30), ("Unité ou livrable", "text", 40), ("Date de réalisation", "date", 12),
    ("Unités réalisées", "number", 10), ("Montant par unité ou forfait", "money", 13), ("Montant éligible", "money", 13),
    ("Montant présenté", "money", 13), ("Preuve de réalisation", "text", 26), ("Participants (codes)", "text", 30),
    ("Motif d'exclusion", "text", 30),
]
UNIT_TOTALS = ("Montant présenté",)


def has_units(report) -> bool:
    """Only an operation whose plan has unit costs or lump sums (or records of them) gets the
    sheet and the table: the others' documents stay as they were."""
    plan = report.operation.current_plan
    if plan is not None and plan.unit_lines:
        return True
    return db.session.scalar(select(UnitRecord.id).where(UnitRecord.operation_id == report.operation.id).limit(1)) \
        is not None


def _row(record: UnitRecord, presented, reason):
    achieved = "" if record.achieved is None else (" (réalisé)" if record.achieved else " (non réalisé)")
    return (CLAIM_CATEGORIES.get(record.category, record.category), record.description + achieved,
            record.delivered_on, record.quantity, record.rate, record.amount, presented,
            record.original_name or "manquante", record.participant_codes, reason)


def unit_rows(report):
    """One row per record (``UNIT_COLUMNS``): the bilan's, or a draft's included records then
    those left out with their reason."""
    if report.frozen:
        query = (select(UnitRecord, ClaimLine.declared_amount)
                 .join(ClaimLine, ClaimLine.unit_record_id == UnitRecord.id)
                 .where(ClaimLine.claim_id == report.claim.id).order_by(ClaimLine.position))
        for record, declared in db.session.execute(query):
            yield _row(record, declared, None)
        return
    for record in db.session.scalars(included_units(report.operation, report.start, report.end,
                                                    report.computation)):
        yield _row(record, record.amount, None)
    by_id = {line.id: line.reason for line in report.left_out if line.kind == "unit"}
    labels = left_out_reasons()
    for chunk in chunks(sorted(by_id)):
        for record in db.session.scalars(select(UnitRecord).where(UnitRecord.id.in_(chunk))):
            yield _row(record, None, labels[by_id[record.id]])


def unit_line_rows(report):
    """A draft's unit records as ``report.LINE_FIELDS`` rows (a bilan's come from its lines)."""
    for (category, label, day, quantity, rate, eligible, presented, _evidence, _codes, reason) in unit_rows(report):
        reference = (f"{format_number(quantity, 'fr', places=None)} × {format_money(rate, 'fr')}"
                     if quantity is not None else None)
        yield (None, KIND_WORDS["unit"], category, label, None, reference, day, None, eligible, presented, reason,
               None, None, None, None, None)

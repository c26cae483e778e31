"""Which unit costs and lump sums (``units.UnitRecord``) a statement or a bilan includes:
the same shape as the expenses' rules in ``selection`` (a reason and its positive form),
over the same scope (the period, with the records of earlier periods no bilan took).

A record is included when it is in no other bilan, delivered inside the realisation period
(Décret art. 4), achieved (a lump sum is all or nothing), its evidence attached (a bilan; a
statement counts it still missing) and not held. Its amount counts in its bilan category:
its plan category when the plan line is in the flat-rate bases, else ``SIMPLIFIES``, outside
every base (``operations.unit_lines``).
"""
from decimal import Decimal

from sqlalchemy import and_, case, func, not_, or_, select

from ..kernel.extensions import db
from ..kernel.formatting import format_money, format_number
from ..kernel.money import ZERO
from ..marks.services import has_live_mark
from ..units.models import UnitRecord
from .left_out_rows import LeftOutLine
from .reasons import Rule, kept_by, reason_of


def unit_rules(operation, evidence: bool = True) -> list[Rule]:
    declared = has_live_mark("unit_record", UnitRecord.id, "declared")
    start, end = operation.start_date, operation.end_date
    rules = [
        Rule("already_claimed", declared, not_(declared)),
        Rule("outside_eligibility", or_(UnitRecord.delivered_on < start, UnitRecord.delivered_on > end),
             and_(UnitRecord.delivered_on >= start, UnitRecord.delivered_on <= end)),
        Rule("deliverable_not_achieved", UnitRecord.achieved.is_(False),
             or_(UnitRecord.achieved.is_(None), UnitRecord.achieved.is_(True))),
    ]
    if evidence:
        rules.append(Rule("unit_evidence", UnitRecord.is_complete.is_(False), UnitRecord.is_complete.is_(True)))
    return rules


def unit_scope(scope) -> list:
    """The records a statement (``scope.catch_up`` False) or a bilan looks at."""
    operation, start, end = scope.operation, scope.start, scope.end
    conditions = [UnitRecord.operation_id == operation.id, UnitRecord.deleted_at.is_(None),
                  UnitRecord.delivered_on <= end]
    conditions.append(scope.from_start(UnitRecord.delivered_on, start, operation.start_date,
                                       "unit_record", UnitRecord.id))
    return conditions



def quantity_text(record: UnitRecord) -> str:
    """« 12 × 150,00 € » or « réalisé » / « non réalisé »: what the line counted."""
    if record.quantity is not None:  # French: the bilan's snapshot is the document that is sent
        return f"{format_number(record.quantity, 'fr', places=None)} × {format_money(record.rate, 'fr')}"
    return "réalisé" if record.achieved else "non réalisé"


def left_out_unit(record: UnitRecord, reason: str) -> LeftOutLine:
    return LeftOutLine("unit", record.id, record.category, record.description, quantity_text(record),
                       record.delivered_on, record.amount, reason)


def unit_sums(scope, evidence: bool, held: set) -> tuple[dict, int, int, set, list]:
    """(category -> amount, records counted, records left out by the rules, held ids taken
    out, the held records as left-out lines) in one grouped scan."""
    included = kept_by(unit_rules(scope.operation, evidence))
    sums: dict = {}
    count = left_out = 0
    for category, amount, kept, lines in db.session.execute(
        select(UnitRecord.category, func.sum(case((included, UnitRecord.amount))), func.count(case((included, 1))),
               func.count())
        .where(*unit_scope(scope)).group_by(UnitRecord.category)
    ).all():
        if kept:
            sums[category] = amount or ZERO
            count += kept
        left_out += lines - kept
    excluded: set = set()
    held_lines = []
    held_ids = sorted(line_id for kind, line_id in held if kind == "unit_record")
    if held_ids:
        for record in db.session.scalars(select(UnitRecord).where(*unit_scope(scope), included,
                                                                  UnitRecord.id.in_(held_ids))):
            sums[record.category] -= record.amount
            count -= 1
            excluded.add(record.id)
            held_lines.append(left_out_unit(record, "held"))
    return sums, count, left_out, excluded, held_lines


def left_out_units(scope, evidence: bool, limit: int | None = None) -> list:
    """The records left out, by day then id (the first ``limit`` when given)."""
    if limit == 0:
        return []
    reason = reason_of(unit_rules(scope.operation, evidence))
    query = (select(UnitRecord, reason).where(*unit_scope(scope), reason.is_not(None))
             .order_by(UnitRecord.delivered_on, UnitRecord.id))
    return [left_out_unit(record, code)
            for record, code in db.session.execute(query if limit is None else query.limit(limit)).all()]


def unit_reason_totals(scope, evidence: bool) -> dict[str, tuple[int, Decimal]]:
    """reason -> (records, total) of the records left out by the rules."""
    reason = reason_of(unit_rules(scope.operation, evidence))
    left_out = (select(reason.label("reason_code"), UnitRecord.amount.label("amount"))
                .where(*unit_scope(scope), reason.is_not(None)).subquery())
    return {code: (count, total or ZERO) for code, count, total in db.session.execute(
        select(left_out.c.reason_code, func.count(), func.sum(left_out.c.amount)).group_by(left_out.c.reason_code))}


def included_units_query(scope, evidence: bool, excluded_ids=()):
    query = select(UnitRecord).where(*unit_scope(scope), kept_by(unit_rules(scope.operation, evidence)))
    if excluded_ids:
        query = query.where(UnitRecord.id.not_in(sorted(excluded_ids)))
    return query.order_by(UnitRecord.delivered_on, UnitRecord.id)

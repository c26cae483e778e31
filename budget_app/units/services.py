"""Recording units delivered and deliverables achieved (``models.UnitRecord``), attaching
their evidence, withdrawing a record. Every record is audited (``Audited``); one that carries
a mark (declared in a bilan, held) can no longer change. Services flush; the request or the
command commits.

Amounts (CPR 53(1)(b)-(c)), rounded once through ``kernel.money``:
- unit cost: quantity × amount per unit, half-up to the cent;
- lump sum: all or nothing, the amount when the deliverable is achieved, 0.00 otherwise
  (a lump sum not achieved is left out of bilans with that reason).
"""
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import select

from ..kernel.errors import DomainError, Problem
from ..kernel.extensions import db
from ..kernel.i18n import N_
from ..kernel.money import MAX_AMOUNT, ZERO, cents
from ..kernel.transactions import atomic
from ..kernel.uploads import receive
from ..marks.services import frozen_problem
from ..operations.closure import ensure_open
from ..operations.unit_lines import PlanUnitLine, unit_line_of
from .completion import completed_codes
from .models import UnitEvidence, UnitRecord

THIS_RECORD = N_("Ce relevé d'unités")
MAX_QUANTITY = Decimal("9999999.99")  # Hours(): Numeric(9, 2)


def unit_amount(quantity: Decimal, rate: Decimal) -> Decimal:
    """Units delivered × amount per unit, half-up to the cent once."""
    return cents(quantity * rate)


def lump_sum_amount(achieved: bool, amount: Decimal) -> Decimal:
    """All or nothing: the lump sum when the deliverable is achieved, else nothing."""
    return cents(amount) if achieved else ZERO


def _problems(operation, line: PlanUnitLine | None, delivered_on, quantity, achieved, period_start) -> list:
    problems = []

    def fail(field, message, **values):
        problems.append(Problem(DomainError(message, **values), field=field))

    if line is None:
        fail("plan_line", N_("ligne du plan inconnue pour cette opération (coût unitaire ou montant forfaitaire)"))
    if delivered_on is None:
        fail("delivered_on", N_("date obligatoire"))
    elif not (operation.start_date <= delivered_on <= operation.end_date):
        fail("delivered_on", N_("la date doit être dans la période de réalisation de l'opération"))
    if period_start is not None and delivered_on is not None and period_start > delivered_on:
        fail("period_start", N_("le début de la période doit précéder sa fin"))
    if line is not None and line.kind == "unit" and not line.counted_from_participants:
        if quantity is None or quantity <= 0:
            fail("quantity", N_("indiquez le nombre d'unités réalisées (positif)"))
        elif quantity > MAX_QUANTITY:
            fail("quantity", N_("nombre d'unités trop grand pour un relevé"))
        elif quantity * line.rate > MAX_AMOUNT:
            fail("quantity", N_("le montant (unités × montant par unité) dépasse le maximum accepté"))
    if line is not None and line.kind == "lump_sum" and achieved is None:
        fail("achieved", N_("indiquez si le livrable est réalisé (oui ou non)"))
    return problems


@dataclass
class Prepared:
    """A record checked and computed, not yet written (``record_units``, the imports)."""

    line: PlanUnitLine
    delivered_on: date
    period_start: date | None
    quantity: Decimal | None
    achieved: bool | None
    amount: Decimal
    description: str
    codes: list | None  # the participants' codes counted (a unit counted from them)


def prepare_record(operation, line: PlanUnitLine | None, delivered_on: date | None, quantity: Decimal | None = None,
                   achieved: bool | None = None, description: str = "", period_start: date | None = None,
                   counted: set | None = None) -> Prepared:
    """Every check of a record and its amount, nothing written; raises DomainError listing
    every problem, each naming its field. ``counted``: the participants' codes counted
    already (default: by the live records, ``already_counted``; an import adds its rows')."""
    problems = _problems(operation, line, delivered_on, quantity, achieved, period_start)
    codes = None
    if not problems and line.counted_from_participants:
        if period_start is None:
            problems.append(Problem(DomainError(N_("indiquez le début de la période des sorties comptées")),
                                    field="period_start"))
        else:
            codes = completed_codes(operation.id, period_start, delivered_on,
                                    already_counted(line) if counted is None else counted)
            quantity = Decimal(len(codes))
            if not codes:
                problems.append(Problem(DomainError(
                    N_("aucun participant n'a achevé son parcours sur cette période (hors ceux déjà comptés)")),
                    field="period_start"))
    if problems:
        raise DomainError(problems=problems)
    if line.kind == "unit":
        amount, achieved = unit_amount(quantity, line.rate), None
    else:
        amount, quantity = lump_sum_amount(achieved, line.rate), None
    return Prepared(line, delivered_on, period_start, quantity, achieved, amount,
                    ((description or "").strip() or line.label)[:500], codes)


def add_records(operation, prepared, user=None) -> list[UnitRecord]:
    """Write records checked by ``prepare_record`` (one flush for all: an import's rows)."""
    records = [UnitRecord(
        operation_id=operation.id, plan_line_id=item.line.id, delivered_on=item.delivered_on,
        period_start=item.period_start, quantity=item.quantity, achieved=item.achieved, rate=item.line.rate,
        amount=item.amount, category=item.line.claim_category, description=item.description,
        participant_codes=" ".join(item.codes) if item.codes is not None else None,
        is_complete=False, created_by_id=getattr(user, "id", None),
    ) for item in prepared]
    db.session.add_all(records)
    db.session.flush()
    return records


@atomic
def record_units(operation, plan_line_id, delivered_on: date | None, quantity: Decimal | None = None,
                 achieved: bool | None = None, description: str = "", period_start: date | None = None,
                 user=None) -> UnitRecord:
    """Units delivered (unit cost), a deliverable achieved or not (lump sum), or the
    participants who completed their path in the period (a unit counted from their records,
    ``completion``: the quantity is their count, never typed)."""
    ensure_open(operation)
    prepared = prepare_record(operation, unit_line_of(operation, plan_line_id), delivered_on, quantity, achieved,
                              description, period_start)
    return add_records(operation, [prepared], user)[0]


def already_counted(line: PlanUnitLine) -> set[str]:
    """The participants' codes counted by the live records of the line's unit (any plan
    version: an amendment carries the line): a participant completes a path once."""
    codes: set[str] = set()
    rows = db.session.scalars(
        select(UnitRecord.participant_codes)
        .join(PlanUnitLine, PlanUnitLine.id == UnitRecord.plan_line_id)
        .where(UnitRecord.operation_id == line.version.operation_id, UnitRecord.deleted_at.is_(None),
               UnitRecord.participant_codes.is_not(None), PlanUnitLine.counted_from_participants.is_(True)))
    for text in rows:
        codes.update(text.split())
    return codes


def ensure_changeable(record: UnitRecord, kinds=("declared", "held")) -> None:
    ensure_open(record.operation)
    if record.deleted_at is not None:
        raise DomainError(N_("Ce relevé a été retiré : il ne peut plus être modifié."))
    marked = frozen_problem("unit_record", record.id, DomainError(THIS_RECORD), kinds)
    if marked is not None:
        raise marked


@atomic
def attach_evidence(record: UnitRecord, filename: str, data: bytes, user=None) -> UnitRecord:
    """The house's upload checks (``kernel.uploads.receive``); the record is then complete.
    A held record takes its evidence (a hold often waits for it), a declared one does not."""
    ensure_changeable(record, kinds=("declared",))
    received = receive(filename, data)
    record.documents.append(UnitEvidence(
        original_name=received.original_name, stored_name=received.stored_name, content_type=received.content_type,
        size=received.size, sha256=received.sha256, uploaded_by_id=getattr(user, "id", None)))
    record.is_complete = True
    db.session.flush()
    return record


@atomic
def withdraw_record(record: UnitRecord, reason: str, user=None) -> None:
    """A record typed in error is withdrawn with a reason (never deleted: the trail keeps it)."""
    ensure_changeable(record)
    if not (reason or "").strip():
        raise DomainError(N_("Indiquez le motif du retrait."), field="reason")
    record.deleted_at = datetime.now(timezone.utc)
    record.delete_reason = reason.strip()
    db.session.flush()


def records_of(operation, include_withdrawn: bool = False) -> list[UnitRecord]:
    query = select(UnitRecord).where(UnitRecord.operation_id == operation.id)
    if not include_withdrawn:
        query = query.where(UnitRecord.deleted_at.is_(None))
    return list(db.session.scalars(query.order_by(UnitRecord.delivered_on, UnitRecord.id)))


def record_of(operation, record_id) -> UnitRecord | None:
    record = db.session.get(UnitRecord, record_id) if record_id is not None else None
    return record if record is not None and record.operation_id == operation.id else None

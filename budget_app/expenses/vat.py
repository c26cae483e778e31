"""Partial VAT recovery (CPR 64(1)(c): recoverable VAT is not eligible). A beneficiary with
some taxable activity recovers a share of its VAT, its pro-rata, fixed per calendar year.
The operation records the pro-rata of each year (``operations.models.VatProrata``); an
expense marked partially recoverable counts VAT × (100 % − the pro-rata of its invoice's
year), rounded once with the rest of its eligible amount (``rules.eligible_amount``).

Setting or changing a year's pro-rata recomputes the lines it applies to that carry no mark
(not declared in a bilan, not held): a declared line keeps the amount its bilan declared,
and is corrected, if need be, by a credit note or the service-done check (primer §9).
A credit note follows the line it reduces (its pro-rata is the original's).

Golden example: 1 000,00 € HT, TVA 200,00 €, pro-rata 2023 of 35 %, key 100 %:
1 000,00 + 200,00 × 65 % = 1 130,00 €; the pro-rata set to 40 % afterwards makes it
1 120,00 € if the line is not yet declared, and leaves it at 1 130,00 € if it is.
"""
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import extract, or_, select

from ..kernel.audit import services as audit
from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.i18n import N_
from ..kernel.money import HUNDRED, ZERO, has_places
from ..kernel.transactions import atomic
from ..marks.services import has_live_mark
from ..operations.closure import ensure_open
from ..operations.models import VatProrata
from .models import Expense
from .amounts import eligible_amount


@dataclass
class ProrataOutcome:
    year: int
    percent: Decimal
    before: Decimal | None
    recomputed: int  # lines whose eligible amount was computed again
    kept: int  # lines left as they are: declared in a bilan or held


def check_prorata(operation, year: int | None, percent: Decimal | None) -> None:
    if year is None or not operation.start_date.year <= year <= operation.end_date.year:
        raise DomainError(N_("Indiquez une année de l'opération (%(first)s à %(last)s)."),
                          first=operation.start_date.year, last=operation.end_date.year, field="year")
    if percent is None or not ZERO <= percent <= HUNDRED or not has_places(percent, 4):
        raise DomainError(N_("Le prorata de TVA est un pourcentage entre 0 et 100 (4 décimales au plus)."),
                          field="percent")


@atomic
def set_vat_prorata(operation, year: int, percent: Decimal) -> ProrataOutcome:
    """Record the pro-rata of ``year`` and recompute the unmarked lines it applies to."""
    ensure_open(operation)
    check_prorata(operation, year, percent)
    row = db.session.scalar(select(VatProrata).where(VatProrata.operation_id == operation.id,
                                                     VatProrata.year == year))
    before = row.percent if row is not None else None
    if row is None:
        row = VatProrata(operation_id=operation.id, year=year, percent=percent)
        db.session.add(row)
    else:
        row.percent = percent
    recomputed, kept = _recompute(operation, year, percent)
    db.session.flush()
    audit.record("vat_prorata", "operations", operation.id,
                 before={"year": year, "percent": before},
                 after={"year": year, "percent": percent, "recomputed": recomputed, "kept": kept})
    return ProrataOutcome(year, percent, before, recomputed, kept)


def _recompute(operation, year: int, percent: Decimal) -> tuple[int, int]:
    """The partly recoverable lines of ``year`` (by their invoice's date) and the credit notes
    on them: unmarked ones get the new pro-rata (each change audited with the line); marked
    ones are counted and left alone."""
    originals = select(Expense.id).where(Expense.operation_id == operation.id, Expense.vat_partly_recoverable.is_(True),
                                         Expense.credit_note_of_id.is_(None), Expense.deleted_at.is_(None),
                                         extract("year", Expense.incurred_on) == year)
    lines = db.session.scalars(
        select(Expense).where(Expense.deleted_at.is_(None), Expense.vat_partly_recoverable.is_(True),
                              or_(Expense.id.in_(originals), Expense.credit_note_of_id.in_(originals)))
        .order_by(Expense.id)
    ).all()
    marked = set(db.session.scalars(
        select(Expense.id).where(Expense.id.in_([line.id for line in lines]), has_live_mark("expense", Expense.id))
    )) if lines else set()
    recomputed = 0
    for line in lines:
        # A credit note keeps its original line's terms: it moves only with an unmarked original.
        if line.id in marked or line.credit_note_of_id in marked:
            continue
        amount = eligible_amount(line.amount_excl_vat, line.vat, line.vat_recoverable, line.allocation_percent, percent)
        if (line.vat_prorata, line.eligible_amount) != (percent, amount):
            line.vat_prorata = percent
            line.eligible_amount = amount
            recomputed += 1
    return recomputed, sum(1 for line in lines if line.id in marked or line.credit_note_of_id in marked)


def prorata_rows(operation) -> list[VatProrata]:
    return db.session.scalars(select(VatProrata).where(VatProrata.operation_id == operation.id)
                              .order_by(VatProrata.year)).all()

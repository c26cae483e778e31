"""The service-done check by sampling (primer §8: exhaustive in principle; a sample when the
documents are many; its error rate extrapolated to the whole only when the agreement
provides for it, otherwise the check becomes exhaustive). Settings of the operation:
``csf_sample_percent`` and ``csf_extrapolation``.

- The controller draws the sample on the bilan's page (``control.draw_sample``): a seed is drawn once and kept
  (``Claim.sample_seed``, listed on the page and in the audit trail); the sample is the
  ``ceil(lines × percent / 100)`` positions that ``random.Random(seed)`` picks among the
  bilan's line positions in order, so anyone can draw it again from the seed.
- Error rate = amount rejected / amount checked in the sample (declared − retained over
  declared, undecided sample lines counting as kept).
- With extrapolation, each category's correction = error rate × declared amount of its
  unchecked lines (outside the sample and not decided one by one), rounded half-up to
  the cent once per category (``kernel.money.cents``); the retained bases lose it, and the
  flat rates are recomputed on them (``control``).
- Without extrapolation, an error in the sample makes the check exhaustive: the check
  cannot be finished while a line outside the sample is undecided.

Golden example (tests/claims/test_sampling.py): sample of 2 lines declaring 1 000,00 €,
one reduced by 125,00 €: error rate 125,00 / 1 000,00 = 12,5 %; unchecked running costs
4 000,00 € -> correction 4 000,00 × 125,00 / 1 000,00 = 500,00 €.
"""
import random
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from ..kernel.extensions import db
from ..kernel.formatting import format_money, format_percent
from ..kernel.money import HUNDRED, ZERO, cents, round_places
from .models import ClaimLine


def sample_size(count: int, percent: Decimal) -> int:
    """ceil(count × percent / 100), at least one line, at most all."""
    if count == 0:
        return 0
    exact = Decimal(count) * Decimal(percent) / HUNDRED
    size = int(exact) + (0 if exact == int(exact) else 1)
    return max(1, min(count, size))


def sample_positions(claim) -> set[int]:
    """The positions of the drawn sample (empty when none was drawn)."""
    if claim.sample_seed is None:
        return set()
    positions = sorted(db.session.scalars(select(ClaimLine.position).where(ClaimLine.claim_id == claim.id)))
    return set(random.Random(claim.sample_seed).sample(positions, sample_size(len(positions), claim.sample_percent)))


@dataclass
class Extrapolation:
    seed: int
    percent: Decimal
    extrapolated: bool  # the agreement extrapolates the error rate
    checked: Decimal  # declared amount of the sample
    rejected: Decimal  # declared − retained over the sample
    positions: list = field(default_factory=list)
    # category -> (declared amount of its unchecked lines, correction rounded once)
    corrections: dict = field(default_factory=dict)
    unchecked_count: int = 0
    unchecked_positions: list = field(default_factory=list)

    @property
    def rate(self) -> Decimal:
        """The error rate as a fraction (exact; shown rounded, never used rounded)."""
        return self.rejected / self.checked if self.checked > 0 else ZERO

    @property
    def exhaustive_needed(self) -> bool:
        """An error in the sample and no extrapolation: every line must be checked."""
        return not self.extrapolated and self.rejected != 0 and self.unchecked_count > 0

    @property
    def total_correction(self) -> Decimal:
        return sum((amount for _base, amount in self.corrections.values()), ZERO)

    def rate_text(self, locale: str | None = None) -> str:
        """« 125,00 € / 1 000,00 € = 12,5 % » (the shown percent rounded to 4 decimals)."""
        shown = round_places(self.rate * HUNDRED, 4).normalize()
        return (f"{format_money(self.rejected, locale)} / {format_money(self.checked, locale)}"
                f" = {format_percent(shown, locale, places=None)}")

    def correction_text(self, category: str, locale: str | None = None) -> str:
        """« 4 000,00 € × 125,00 € / 1 000,00 € = 500,00 € »: exact rate, rounded once."""
        base, amount = self.corrections[category]
        return (f"{format_money(base, locale)} × {format_money(self.rejected, locale)} / "
                f"{format_money(self.checked, locale)} = {format_money(amount, locale)}")


def extrapolation(claim) -> Extrapolation | None:
    """The sample's figures now (None when no sample was drawn). Corrections only with
    extrapolation; lines decided one by one outside the sample are checked, not extrapolated.
    A check reopened after it was finished keeps as unchecked the lines it left unchecked
    (kept then without a decision of their own), unless the controller decided them since."""
    if claim.sample_seed is None:
        return None
    positions = sample_positions(claim)
    earlier = claim.figures.get("extrapolation") if claim.figures else None
    left_unchecked = set(earlier["unchecked_positions"]) if earlier else None
    checked = rejected = ZERO
    bases: dict = {}
    unchecked = []
    for position, category, declared, decision, retained, reason in db.session.execute(
        select(ClaimLine.position, ClaimLine.category, ClaimLine.declared_amount, ClaimLine.decision,
               ClaimLine.retained_amount, ClaimLine.reason).where(ClaimLine.claim_id == claim.id)
    ):
        if position in positions:
            checked += declared
            rejected += declared - (retained if decision else declared)
        elif decision is None or (left_unchecked is not None and position in left_unchecked
                                  and decision == "kept" and reason is None):
            unchecked.append(position)
            bases[category] = bases.get(category, ZERO) + declared
    result = Extrapolation(claim.sample_seed, claim.sample_percent, claim.operation.csf_extrapolation, checked,
                           rejected, sorted(positions), unchecked_count=len(unchecked),
                           unchecked_positions=sorted(unchecked))
    if result.extrapolated and checked > 0 and rejected != 0:
        result.corrections = {category: (base, cents(base * rejected / checked))
                              for category, base in sorted(bases.items())}
    return result


def to_json(result: Extrapolation) -> dict:
    return {"seed": result.seed, "percent": str(result.percent), "extrapolated": result.extrapolated,
            "checked": str(result.checked), "rejected": str(result.rejected), "positions": result.positions,
            "unchecked_count": result.unchecked_count, "unchecked_positions": result.unchecked_positions,
            "corrections": {category: [str(base), str(amount)] for category, (base, amount) in result.corrections.items()}}


def from_json(data: dict) -> Extrapolation:
    return Extrapolation(int(data["seed"]), Decimal(data["percent"]), bool(data["extrapolated"]),
                         Decimal(data["checked"]), Decimal(data["rejected"]), list(data["positions"]),
                         {category: (Decimal(base), Decimal(amount))
                          for category, (base, amount) in data["corrections"].items()},
                         int(data["unchecked_count"]), list(data["unchecked_positions"]))


def claim_extrapolation(claim) -> Extrapolation | None:
    """As frozen when the check was finished, else as it stands."""
    if claim.state in ("controlled", "paid") and claim.figures and "extrapolation" in claim.figures:
        return from_json(claim.figures["extrapolation"])
    return extrapolation(claim)

"""The FSE+ rate an operation's claims apply, one rule for every figure (primer §1, §9).

The cofinancing rate is FSE+ / total eligible cost of the plan. Normally the agreement's
amount is exactly rate × total (to the cent) and the stated rate is used. When the
agreement fixes an amount that is not (``Operation.fse_amount_fixed``), the amount wins
and the rate used is amount / total: kept as that fraction, so that FSE+ on the whole plan
is exactly the agreed amount and an underspend lowers FSE+ in proportion. It is shown
with four decimals (59,9700 %).
"""
from dataclasses import dataclass
from decimal import Decimal

from ..kernel.money import HUNDRED, cents, rate



@dataclass(frozen=True)
class FseRate:
    numerator: Decimal
    denominator: Decimal

    def of(self, base: Decimal) -> Decimal:
        """FSE+ on ``base``: base × numerator / denominator, rounded half-up to the cent once
        (the multiplication first, so that the whole plan gives the agreed amount exactly)."""
        return cents(Decimal(base) * self.numerator / self.denominator)

    @property
    def percent(self) -> Decimal:
        """The rate in percent, four decimals (what pages and exports show)."""
        return rate(self.numerator * HUNDRED / self.denominator)

    @property
    def fixed_by_agreement(self) -> bool:
        return self.denominator != HUNDRED

    def as_json(self) -> dict:
        return {"numerator": format(self.numerator, "f"), "denominator": format(self.denominator, "f")}

    @classmethod
    def from_json(cls, data: dict | None, percent: Decimal) -> "FseRate":
        if not data:
            return stated(percent)
        return cls(Decimal(data["numerator"]), Decimal(data["denominator"]))


def stated(percent: Decimal) -> "FseRate":
    """The rate of the agreement, in percent (60 = 60 %)."""
    return FseRate(Decimal(percent), HUNDRED)


def effective(fse_amount: Decimal, total: Decimal) -> "FseRate":
    """The rate when the agreement fixes the amount: FSE+ / total eligible cost."""
    return FseRate(Decimal(fse_amount), Decimal(total))


def rate_of(operation, plan_total: Decimal | None) -> FseRate:
    """The rate the operation's claims apply (``plan_total``: total eligible cost of the plan in force)."""
    if getattr(operation, "fse_amount_fixed", False) and plan_total:
        return effective(operation.fse_amount, plan_total)
    return stated(operation.fse_rate)

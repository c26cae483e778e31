"""Staff cost arithmetic: pure functions over Decimal, called by the services and the tests.

- Hourly rate, method A (CPR 55(2)(a)): annual gross employment cost / (hours divisor ×
  working share), rounded half-up to the cent ONCE; the rounded rate is the one used.
- A month of hourly staff: hours on the operation × rounded rate, rounded half-up once.
- A month of fixed-share staff (CPR 55(5)): monthly gross employment cost × fixed %,
  rounded half-up once.
- Cap (CPR 55(3)): hours declared per person for a year never exceed the hours used to
  compute the rate, divisor × working share.

Each computation is returned with its text, in French, with the exact figures used
("137,5 h × 32,00 €/h = 4 400,00 €"): it is stored with the amount, so an auditor reads
years later how each amount was obtained (CPR annex XIII). The text uses plain spaces as
thousands separators so that it copies unchanged into any spreadsheet or report.
"""
from decimal import Decimal

from ..money import cents

HUNDRED = Decimal(100)


def _group(digits: str) -> str:
    groups = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return " ".join(groups)


def french_number(value: Decimal, places: int | None = None) -> str:
    """1234.5 -> "1 234,5"; with ``places`` the number is printed with exactly that many
    decimals (already rounded by the caller), else trailing zeros are dropped."""
    value = Decimal(value)
    if places is not None:
        text = format(value.quantize(Decimal(1).scaleb(-places)), "f")
    else:
        text = format(value.normalize(), "f") if value != value.to_integral() else format(value.to_integral(), "f")
    sign = ""
    if text.startswith("-"):
        sign, text = "-", text[1:]
    whole, _, fraction = text.partition(".")
    if fraction and places is None:
        fraction = fraction.rstrip("0")
    return sign + _group(whole) + ("," + fraction if fraction else "")


def euros(value: Decimal) -> str:
    return f"{french_number(value, 2)} €"


def hours_text(value: Decimal) -> str:
    return f"{french_number(value)} h"


def percent_text(value: Decimal) -> str:
    return f"{french_number(value)} %"


def reference_hours(divisor: int, working_share: Decimal) -> Decimal:
    """The hours used to compute the rate: divisor × working share (exact, not rounded)."""
    return Decimal(divisor) * Decimal(working_share) / HUNDRED


def hourly_rate(annual_cost: Decimal, divisor: int, working_share: Decimal = HUNDRED) -> tuple[Decimal, str]:
    """CPR 55(2)(a). 41 280,00 € / 1 720 h = 24,00 €/h; part time
    20 640,00 € / (1 720 h × 50 % = 860 h) = 24,00 €/h."""
    hours = reference_hours(divisor, working_share)
    rate = cents(Decimal(annual_cost) / hours)
    if Decimal(working_share) == HUNDRED:
        text = f"{euros(annual_cost)} / {hours_text(Decimal(divisor))} = {euros(rate)}/h"
    else:
        text = (
            f"{euros(annual_cost)} / ({hours_text(Decimal(divisor))} × {percent_text(working_share)}"
            f" = {hours_text(hours)}) = {euros(rate)}/h"
        )
    return rate, text


def hourly_amount(hours: Decimal, rate: Decimal) -> tuple[Decimal, str]:
    """A month of hourly staff: 137,5 h × 32,00 €/h = 4 400,00 €."""
    amount = cents(Decimal(hours) * Decimal(rate))
    return amount, f"{hours_text(hours)} × {euros(rate)}/h = {euros(amount)}"


def fixed_share_amount(monthly_cost: Decimal, fixed_percent: Decimal) -> tuple[Decimal, str]:
    """CPR 55(5): 2 800,00 € × 50 % = 1 400,00 €."""
    amount = cents(Decimal(monthly_cost) * Decimal(fixed_percent) / HUNDRED)
    return amount, f"{euros(monthly_cost)} × {percent_text(fixed_percent)} = {euros(amount)}"

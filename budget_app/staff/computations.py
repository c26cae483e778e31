"""Staff cost arithmetic: pure functions over Decimal, called by the services and the tests.

- Hourly rate, method A (CPR 55(2)(a)): annual gross employment cost / (hours divisor ×
  working share), rounded half-up to the cent ONCE; the rounded rate is the one used.
- Hourly rate, method B (CPR 55(2)(b), primer §4): latest documented monthly gross
  employment cost / monthly working time of the employment document, rounded half-up to
  the cent once; the month's cap (CPR 55(3)) is those monthly hours.
- A month of hourly staff: hours on the operation × rounded rate, rounded half-up once.
- A month of fixed-share staff (CPR 55(5)): monthly gross employment cost × fixed %,
  rounded half-up once; a month partly outside the operation's dates is prorated by
  calendar days (primer §9): × days inside / days of the month, in the same rounding.
- Cap (CPR 55(3)): hours declared per person for a year never exceed the hours used to
  compute the rate, divisor × working share.

Each computation is returned with its text, in French, with the exact figures used
("137,5 h × 32,00 €/h = 4 400,00 €"): it is stored with the amount, so an auditor reads
years later how each amount was obtained (CPR annex XIII). The text uses plain spaces as
thousands separators so that it copies unchanged into any spreadsheet or report. Pages
show the same computation in the reader's language (``line_text``, ``rate_text``).
"""
from datetime import date
from decimal import Decimal

from ..kernel.dates import days_in_month
from ..kernel.formatting import format_hours, format_money, format_percent
from ..kernel.i18n import current_locale
from ..kernel.money import HUNDRED, cents


def euros(value: Decimal, locale: str = "fr") -> str:
    return format_money(value, locale, plain=True)


def hours_text(value: Decimal, locale: str = "fr") -> str:
    return format_hours(value, locale, plain=True)


def percent_text(value: Decimal, locale: str = "fr") -> str:
    return format_percent(value, locale, places=None, plain=True)


def reference_hours(divisor: int, working_share: Decimal) -> Decimal:
    """The hours used to compute the rate: divisor × working share (exact, not rounded)."""
    return Decimal(divisor) * Decimal(working_share) / HUNDRED


def hourly_rate(annual_cost: Decimal, divisor: int, working_share: Decimal = HUNDRED) -> tuple[Decimal, str]:
    """CPR 55(2)(a). 41 280,00 € / 1 720 h = 24,00 €/h; part time
    20 640,00 € / (1 720 h × 50 % = 860 h) = 24,00 €/h."""
    rate = cents(Decimal(annual_cost) / reference_hours(divisor, working_share))
    return rate, rate_text(annual_cost, divisor, working_share, rate, "fr")


def rate_text(annual_cost, divisor, working_share, rate, locale: str | None = None) -> str:
    locale = locale or current_locale()
    if Decimal(working_share) == HUNDRED:
        return f"{euros(annual_cost, locale)} / {hours_text(Decimal(divisor), locale)} = {euros(rate, locale)}/h"
    hours = reference_hours(divisor, working_share)
    return (
        f"{euros(annual_cost, locale)} / ({hours_text(Decimal(divisor), locale)} × {percent_text(working_share, locale)}"
        f" = {hours_text(hours, locale)}) = {euros(rate, locale)}/h"
    )


def hourly_amount(hours: Decimal, rate: Decimal) -> tuple[Decimal, str]:
    """A month of hourly staff: 137,5 h × 32,00 €/h = 4 400,00 €."""
    amount = cents(Decimal(hours) * Decimal(rate))
    return amount, hourly_text(hours, rate, amount, "fr")


def hourly_text(hours, rate, amount, locale: str | None = None) -> str:
    locale = locale or current_locale()
    return f"{hours_text(hours, locale)} × {euros(rate, locale)}/h = {euros(amount, locale)}"


def monthly_rate(monthly_cost: Decimal, monthly_hours: Decimal) -> tuple[Decimal, str]:
    """CPR 55(2)(b), method B: 2 400,00 € / 151,67 h = 15,82 €/h (15,8238… rounded once)."""
    rate = cents(Decimal(monthly_cost) / Decimal(monthly_hours))
    return rate, monthly_rate_text(monthly_cost, monthly_hours, rate, "fr")


def monthly_rate_text(monthly_cost, monthly_hours, rate, locale: str | None = None) -> str:
    locale = locale or current_locale()
    return f"{euros(monthly_cost, locale)} / {hours_text(monthly_hours, locale)} = {euros(rate, locale)}/h"


def monthly_hourly_amount(hours: Decimal, monthly_cost: Decimal, monthly_hours: Decimal) -> tuple[Decimal, Decimal, str]:
    """A month under method B, with the rate's computation in the text (CPR annex XIII):
    100 h × (2 400,00 € / 151,67 h = 15,82 €/h) = 1 582,00 €. Returns (amount, rate, text)."""
    rate, _text = monthly_rate(monthly_cost, monthly_hours)
    amount = cents(Decimal(hours) * rate)
    return amount, rate, monthly_hourly_text(hours, monthly_cost, monthly_hours, rate, amount, "fr")


def monthly_hourly_text(hours, monthly_cost, monthly_hours, rate, amount, locale: str | None = None) -> str:
    locale = locale or current_locale()
    return (f"{hours_text(hours, locale)} × ({monthly_rate_text(monthly_cost, monthly_hours, rate, locale)})"
            f" = {euros(amount, locale)}")


def days_in_operation(month: date, start: date, end: date) -> int | None:
    """Calendar days of ``month`` between the operation's ``start`` and ``end`` (primer §9),
    or None when the whole month is inside."""
    first = month.replace(day=1)
    last = first.replace(day=days_in_month(first))
    inside_first, inside_last = max(first, start), min(last, end)
    if inside_first == first and inside_last == last:
        return None
    return max(0, (inside_last - inside_first).days + 1)


def partial_months(start: date, end: date) -> list[date]:
    """The operation's first and last months when they are only partly inside its dates:
    timesheets of those months declare the hours worked between the dates only (primer §9)."""
    months = []
    for month in (start.replace(day=1), end.replace(day=1)):
        if days_in_operation(month, start, end) is not None and month not in months:
            months.append(month)
    return months


def fixed_share_amount(monthly_cost: Decimal, fixed_percent: Decimal, days: int | None = None,
                       month_days: int | None = None) -> tuple[Decimal, str]:
    """CPR 55(5): 2 800,00 € × 50 % = 1 400,00 €. A month partly outside the operation
    (``days`` of its ``month_days`` inside) is prorated by calendar days, rounded once:
    2 800,00 € × 50 % × 17/31 = 767,74 €."""
    amount = Decimal(monthly_cost) * Decimal(fixed_percent) / HUNDRED
    if days is not None:
        amount = amount * days / month_days
    amount = cents(amount)
    return amount, fixed_share_text(monthly_cost, fixed_percent, amount, "fr", days, month_days)


def fixed_share_text(monthly_cost, fixed_percent, amount, locale: str | None = None, days: int | None = None,
                     month_days: int | None = None) -> str:
    locale = locale or current_locale()
    prorata = f" × {days}/{month_days}" if days is not None else ""
    return f"{euros(monthly_cost, locale)} × {percent_text(fixed_percent, locale)}{prorata} = {euros(amount, locale)}"


def line_text(line, locale: str | None = None) -> str:
    """A staff cost line's computation in the reader's language, from its stored figures."""
    if getattr(line, "monthly_hours", None) is not None and line.hours is not None and line.monthly_cost is not None:
        return monthly_hourly_text(line.hours, line.monthly_cost, line.monthly_hours, line.hourly_rate, line.amount,
                                   locale)
    if line.hours is not None and line.hourly_rate is not None:
        return hourly_text(line.hours, line.hourly_rate, line.amount, locale)
    if line.monthly_cost is not None and line.fixed_percent is not None:
        days = getattr(line, "days_in_period", None)
        month_days = days_in_month(line.month) if days is not None else None
        return fixed_share_text(line.monthly_cost, line.fixed_percent, line.amount, locale, days, month_days)
    return line.computation


def annual_cost_text(cost, locale: str | None = None) -> str:
    """An annual cost's (or, method B, a monthly cost's) hourly-rate computation in the reader's language."""
    if hasattr(cost, "monthly_hours"):
        return monthly_rate_text(cost.monthly_cost, cost.monthly_hours, cost.hourly_rate, locale)
    return rate_text(cost.annual_cost, cost.hours_divisor, cost.working_share, cost.hourly_rate, locale)

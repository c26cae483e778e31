"""Calendar arithmetic on dates (the one month arithmetic of the application), and how a
day reads in the reader's language (``format_day``, also re-exported by ``formatting``).

It sits below ``errors`` so that a refusal can carry a day and print it when shown, in the
language of whoever reads it (``DomainError``).
"""
import calendar
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from .i18n import current_locale

PARIS = ZoneInfo("Europe/Paris")


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, the last day of the month when it has no such day."""
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_start(day: date) -> date:
    return day.replace(day=1)


def days_in_month(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def month_end(day: date) -> date:
    return day.replace(day=days_in_month(day))


def local_time(moment: datetime) -> datetime:
    """A stored (UTC) moment in Paris time; SQLite gives naive datetimes, stored in UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(PARIS)


def format_day(value, locale: str | None = None) -> str:
    """dd/mm/yyyy in French, ISO in English (what pages show and forms accept)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local_time(value).date() if value.tzinfo else value.date()
    if (locale or current_locale()).startswith("fr"):
        # Babel's "dd/MM/yyyy" in French: digits only, no name of day or month to look up
        # (a page prints a hundred days; tests compare it with Babel's own output).
        return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"
    return value.isoformat()

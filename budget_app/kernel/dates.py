"""Calendar arithmetic on dates (no time zones here: see ``formatting.today_in_paris``)."""
import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, the last day of the month when it has no such day."""
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])

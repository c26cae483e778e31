"""Deadlines of an alert, in French working days (directive 2019/1937 art. 9(1)(b) and (f),
décret 2022-1284 art. 4): written acknowledgment within 7 working days of receipt;
feedback within 3 months of the acknowledgment (or, without one, of the end of the
7 working days). Public holidays: the eleven of metropolitan France (Code du travail
L3133-1), Whit Monday left out in 2005-2007 (the journée de solidarité), computed here: the
``holidays`` package gave the same days (tests/alerts/test_deadlines.py compares them, 1982
to 2100) for 11.5 MB once loaded in a worker (issue 27).
"""
from datetime import date, datetime, timedelta
from functools import lru_cache

from ..kernel.dates import add_months, local_time

ACKNOWLEDGMENT_WORKING_DAYS = 7
FEEDBACK_MONTHS = 3


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 (the algorithm's name)
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=64)
def _french_holidays(year: int) -> frozenset:
    easter = easter_sunday(year)
    days = {date(year, 1, 1), easter + timedelta(days=1), date(year, 5, 1), date(year, 5, 8),
            easter + timedelta(days=39), date(year, 7, 14), date(year, 8, 15), date(year, 11, 1),
            date(year, 11, 11), date(year, 12, 25)}
    if not 2005 <= year <= 2007:  # Whit Monday, a working day those years (loi du 30 juin 2004)
        days.add(easter + timedelta(days=50))
    return frozenset(days)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _french_holidays(day.year)


def add_working_days(start: date, count: int) -> date:
    """The ``count``-th working day after ``start`` (the day of receipt itself is not counted)."""
    day = start
    remaining = count
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def next_working_day(day: date) -> date:
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def local_day(moment: datetime) -> date:
    """The calendar day in France of a UTC moment (an alert received at 23:30 UTC on
    31 December is received on 1 January in Paris)."""
    return local_time(moment).date()


def acknowledgment_due(received_on: date) -> date:
    return add_working_days(received_on, ACKNOWLEDGMENT_WORKING_DAYS)


def feedback_due(received_on: date, acknowledged_on: date | None) -> date:
    """3 months from the acknowledgment, or from the end of the acknowledgment period
    when none was sent; a deadline falling on a week-end or holiday moves to the next
    working day."""
    start = acknowledged_on or acknowledgment_due(received_on)
    return next_working_day(add_months(start, FEEDBACK_MONTHS))

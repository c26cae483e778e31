"""Deadlines of an alert, in French working days (directive 2019/1937 art. 9(1)(b) and (f),
décret 2022-1284 art. 4): written acknowledgment within 7 working days of receipt;
feedback within 3 months of the acknowledgment (or, without one, of the end of the
7 working days). Public holidays come from the maintained ``holidays`` package.
"""
from datetime import date, datetime, timedelta
from functools import lru_cache

from ..kernel.dates import add_months, local_time

ACKNOWLEDGMENT_WORKING_DAYS = 7
FEEDBACK_MONTHS = 3


@lru_cache(maxsize=64)
def _french_holidays(year: int):
    import holidays  # 10 MB and 0.1 s: only in the processes that count working days

    return holidays.France(years=year)


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

"""French public holidays computed by ``alerts.deadlines`` (issue 27: the ``holidays``
package cost a worker 11.5 MB): the same days as the package, every year it knows."""
from datetime import date

import holidays

from budget_app.alerts import deadlines


def test_the_same_public_holidays_as_the_holidays_package_1982_to_2100():
    for year in range(1982, 2101):
        assert deadlines._french_holidays(year) == frozenset(holidays.France(years=year)), year


def test_easter_and_its_holidays_worked_by_hand():
    """Easter 2024 is Sunday 31 March: Easter Monday 1 April, Ascension Thursday 9 May
    (+39 days), Whit Monday 20 May (+50); in 2006 Whit Monday (5 June) was worked."""
    assert deadlines.easter_sunday(2024) == date(2024, 3, 31)
    assert {date(2024, 4, 1), date(2024, 5, 9), date(2024, 5, 20)} <= deadlines._french_holidays(2024)
    assert deadlines.easter_sunday(2006) == date(2006, 4, 16)
    assert date(2006, 6, 5) not in deadlines._french_holidays(2006)
    assert deadlines.is_working_day(date(2006, 6, 5)) and not deadlines.is_working_day(date(2024, 5, 20))


def test_a_working_day_count_across_a_holiday_week_end():
    """Received Thursday 30 April 2026: 1 May (Friday, holiday), week-end, 4-7 May, 8 May
    (Friday, holiday), week-end, 11-13 May: the 7th working day is Wednesday 13 May."""
    assert deadlines.acknowledgment_due(date(2026, 4, 30)) == date(2026, 5, 13)

"""One month arithmetic (kernel/dates), and every date in a message in the reader's
language (issue 20, point 5): 31/01/2023 in French, 2023-01-31 in English, as pages show
them (``formatting.format_day``)."""
from datetime import date

import pytest
from flask_babel import force_locale

from budget_app.alerts import deadlines
from budget_app.claims import bilans, periods
from budget_app.kernel.dates import add_months, days_in_month, month_end, month_start
from budget_app.kernel.errors import DomainError


@pytest.mark.parametrize("day, months, expected", [
    (date(2023, 1, 31), 1, date(2023, 2, 28)),   # no 31 February: the month's last day
    (date(2027, 11, 30), 3, date(2028, 2, 29)),  # leap year
    (date(2023, 5, 31), 3, date(2023, 8, 31)),
    (date(2023, 12, 15), 1, date(2024, 1, 15)),  # over the year's end
    (date(2024, 1, 15), -1, date(2023, 12, 15)),
    (date(2023, 6, 30), 6, date(2023, 12, 30)),  # 30 June + 6 months (payment deadline, primer §9)
])
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


def test_month_bounds():
    assert (month_start(date(2024, 2, 10)), month_end(date(2024, 2, 10))) == (date(2024, 2, 1), date(2024, 2, 29))
    assert (days_in_month(date(2023, 2, 1)), days_in_month(date(2023, 4, 30))) == (28, 30)


def test_alert_feedback_uses_the_one_month_arithmetic():
    """Acknowledged 30/11/2027 + 3 months = 29/02/2028 (a Tuesday, a working day)."""
    assert deadlines.add_months is add_months
    assert deadlines.feedback_due(date(2027, 11, 20), date(2027, 11, 30)) == date(2028, 2, 29)


def _message(app, locale, raise_it):
    with app.test_request_context(), force_locale(locale):
        with pytest.raises(DomainError) as caught:
            raise_it()
        return str(caught.value)


def test_a_period_message_reads_dates_in_the_reader_language(app, make_operation):
    operation = make_operation("OP-DATES", start_date=date(2023, 1, 1), end_date=date(2024, 12, 31))

    def outside():
        periods.check_period(operation, date(2025, 1, 1), date(2025, 1, 31))

    assert _message(app, "fr", outside) == (
        "La période est en dehors de la période d'éligibilité de l'opération (du 01/01/2023 au 31/12/2024).")
    assert _message(app, "en", outside) == (
        "The period is outside the operation's eligibility period (2023-01-01 to 2024-12-31).")


def test_a_bilan_warning_reads_dates_in_the_reader_language(app, make_operation):
    """Operation ending 31/12/2024: the final bilan is due 30/06/2025 (end + 6 months)."""
    operation = make_operation("OP-LATE", start_date=date(2023, 1, 1), end_date=date(2024, 12, 31))
    with app.test_request_context():
        found = bilans.warnings(operation, date(2025, 7, 1))
        with force_locale("fr"):
            french = [str(warning) for warning in found]
        with force_locale("en"):
            english = [str(warning) for warning in found]
    assert any("il était dû le 30/06/2025" in text for text in french), french
    assert any("2025-06-30" in text and "30/06/2025" not in text for text in english), english

"""Numbers and days typed in a form as the reader's pages print them (``money.parse_typed``,
``money.typed_day``); imports keep their own rules (``parse_decimal``)."""
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from budget_app.kernel.cells import cell_decimal
from budget_app.kernel.errors import DomainError
from budget_app.kernel.formatting import format_money, format_number
from budget_app.kernel.money import parse_decimal, parse_typed, typed_day
from budget_app.kernel.tabular import Row, RowReader


@pytest.mark.parametrize("text, expected", [
    ("1,250.50", Decimal("1250.50")),  # what an English page prints
    ("1,250", Decimal("1250.00")),  # a thousands comma, not a decimal one
    ("€1,250.50", Decimal("1250.50")),
    ("1250.5", Decimal("1250.50")),
    ("1 250.50", Decimal("1250.50")),
    ("1,234,567.89", Decimal("1234567.89")),
])
def test_english_page(text, expected):
    assert parse_typed(text, "en") == expected


@pytest.mark.parametrize("text, expected", [
    ("1 250,50", Decimal("1250.50")),
    ("1\u202f250,50 €", Decimal("1250.50")),
    ("1\u00a0250,5", Decimal("1250.50")),
    ("1250,50", Decimal("1250.50")),
    ("12.5", Decimal("12.50")),  # a lone point that cannot be a thousands separator
])
def test_french_page(text, expected):
    assert parse_typed(text, "fr") == expected


@pytest.mark.parametrize("locale, text, example", [
    ("en", "1,25", "1,234.56"),
    ("en", "1.250,50", "1,234.56"),
    ("fr", "1.250", "1 234,56"),
    ("fr", "1,250.50", "1 234,56"),
])
def test_ambiguous_forms_are_refused_with_an_example_in_the_page_language(locale, text, example):
    with pytest.raises(DomainError) as refused:
        parse_typed(text, locale)
    assert "ambigu" in str(refused.value) and example in str(refused.value)


def test_hours_and_percentages_are_named_as_such():
    with pytest.raises(DomainError, match="n'est pas un nombre d'heures valide .exemple : 151,67"):
        parse_typed("douze", "fr", "hours")
    with pytest.raises(DomainError, match="n'est pas un pourcentage valide"):
        parse_typed("abc", "fr", "percent", places=4, maximum=Decimal(100))
    with pytest.raises(DomainError, match="pourcentage maximal accepté .100"):
        parse_typed("120", "fr", "percent", places=4, maximum=Decimal(100))
    assert parse_typed("59,97 %", "fr", "percent", places=4, maximum=Decimal(100)) == Decimal("59.9700")
    assert parse_typed("59.97%", "en", "percent", places=4, maximum=Decimal(100)) == Decimal("59.9700")
    assert parse_typed("151.5 h", "en", "hours") == Decimal("151.50")
    # A file's hours column names hours too (imports keep their rules, not their noun).
    with pytest.raises(DomainError, match="nombre d'heures"):
        parse_decimal("douze", noun="hours")


def test_imports_keep_their_locale_independent_rules():
    assert parse_decimal("1,25") == Decimal("1.25")  # a decimal comma in a file, whoever imports it
    assert cell_decimal("1,25") == Decimal("1.25")
    assert cell_decimal("1,250", locale="en") == Decimal("1250.00")  # a form's field on an English page
    problems = []
    read = RowReader(Row(0, {"hours": "1,250"}, locale="en"), {"hours": "Heures"}, problems)
    assert read("hours", cell_decimal, noun="hours") == Decimal("1250.00")
    read = RowReader(Row(3, {"hours": "1,25"}), {"hours": "Heures"}, problems)
    assert read("hours", cell_decimal, noun="hours") == Decimal("1.25")  # a file: a decimal comma
    assert problems == []


def test_days_as_the_page_shows_them_and_iso_always():
    assert typed_day("30/06/2025", "fr") == date(2025, 6, 30)
    assert typed_day("2025-06-30", "fr") == date(2025, 6, 30)
    assert typed_day("2025-06-30", "en") == date(2025, 6, 30)
    with pytest.raises(DomainError, match="exemple : 2025-06-30"):
        typed_day("06/07/2025", "en")  # June or July? An English page prints ISO.


amounts = st.decimals(min_value=Decimal("-999999999.99"), max_value=Decimal("999999999.99"), places=2)


@given(amounts, st.sampled_from(["fr", "en"]))
def test_what_a_page_prints_reads_back(value, locale):
    """Whatever a page prints (a number, an amount with its currency) is read back to the
    same value on a page in that language."""
    assert parse_typed(format_number(value, locale, 2, plain=True), locale, allow_negative=True) == value
    assert parse_typed(format_money(value, locale, plain=True), locale, allow_negative=True) == value

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from hypothesis import given
from hypothesis import strategies as st

from budget_app.kernel.errors import DomainError
from budget_app.kernel.formatting import format_day, format_money, format_number
from budget_app.kernel.money import (
    CENT,
    HUNDRED,
    ZERO,
    cents,
    has_places,
    parse_amount,
    parse_day,
    parse_decimal,
    percent,
    rate,
    round_places,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1 234,56", "1234.56"),
        ("1234,56", "1234.56"),
        ("1 234,56 €", "1234.56"),
        ("1\u00a0234,56\u00a0€", "1234.56"),
        ("1\u202f234,56\u00a0€", "1234.56"),
        ("1234.56", "1234.56"),
        ("833 750", "833750.00"),
        ("0,5", "0.50"),
        ("12", "12.00"),
        ("1 000 000,00", "1000000.00"),
    ],
)
def test_parse_amount_accepts_french_input(text, expected):
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "manquant"),
        ("abc", "n'est pas un montant valide"),
        ("1e9", "n'est pas un montant valide"),
        ("12,345.678", "ambigu"),
        ("1.234,56", "ambigu"),
        ("1.234", "ambigu"),
        ("12,345", "plus de 2 décimales"),
        ("1 23,00", "n'est pas un montant valide"),
        ("-0", "n'est pas un montant valide"),
        ("-12,00", "négatif"),
        ("1,2,3", "n'est pas un montant valide"),
        ("12,", "n'est pas un montant valide"),
        ("1 000 000 000 000,00", "dépasse"),
    ],
)
def test_parse_amount_refuses_with_a_message(text, fragment):
    with pytest.raises(DomainError) as error:
        parse_amount(text)
    assert fragment in str(error.value)


def test_negative_amount_only_where_allowed():
    assert parse_amount("-12,50", allow_negative=True) == Decimal("-12.50")


def test_parse_never_takes_floats():
    with pytest.raises(TypeError):
        parse_amount(1.5)


def test_half_up_rounding_to_the_cent():
    assert cents(Decimal("0.005")) == Decimal("0.01")
    assert cents(Decimal("2.675")) == Decimal("2.68")  # a float would give 2.67
    assert cents(Decimal("-0.005")) == Decimal("-0.01")


def test_format_money_french_and_english():
    assert format_money(Decimal("1234.56"), "fr") == "1\u202f234,56\u00a0€"
    assert format_money(Decimal("1234.56"), "en") == "€1,234.56"
    assert format_money(Decimal("833750"), "fr") == "833\u202f750,00\u00a0€"


@given(st.decimals(min_value=Decimal("-99999999999.999"), max_value=Decimal("99999999999.999"), places=3),
       st.sampled_from(["fr", "en", "fr_FR", "en_GB", "de"]))
def test_format_money_is_babels_euro_format(value, locale):
    """The euro pattern is prepared once per language (sign and decimals in place): the text
    is Babel's own ``format_currency`` of the amount rounded half-up to the cent, e.g.
    -1 234,565 -> "-1 234,57 €" in French, "-€1,234.57" in English; never "-0,00 €"."""
    rounded = cents(value)
    expected = format_currency(abs(rounded) if rounded == 0 else rounded, "EUR", locale=locale)
    assert format_money(value, locale) == expected
    assert format_money(Decimal("-1234.565"), "fr") == "-1\u202f234,57\u00a0€"
    assert format_money(Decimal("-1234.565"), "en") == "-€1,234.57"
    assert format_money(Decimal("-0.004"), "fr") == "0,00\u00a0€"


@given(st.decimals(min_value=Decimal("-99999999999.9999"), max_value=Decimal("99999999999.9999"), places=4),
       st.sampled_from([None, 0, 1, 2, 3]), st.sampled_from(["fr", "en", "fr_FR", "en_GB", "de"]))
def test_format_number_is_babels_decimal_format(value, places, locale):
    """Numbers (and amounts) are written by Python's own formatting with the language's
    symbols put in: the text is Babel's ``format_decimal`` of the number rounded half-up to
    ``places`` (``None``: as few decimals as the value needs)."""
    if places is None:
        exponent = value.normalize().as_tuple().exponent
        decimals, number = max(0, -exponent), value
    else:
        decimals, number = places, value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    expected = format_decimal(number, format="#,##0" + ("." + "0" * decimals if decimals else ""), locale=locale)
    assert format_number(value, locale, places) == expected
    assert format_number(Decimal("-1234567.5"), "fr", 2) == "-1\u202f234\u202f567,50"
    assert format_number(Decimal("137.50"), "en", None) == "137.5"


@given(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
def test_french_days_are_babels_pattern(day):
    """A French day is Babel's "dd/MM/yyyy" (4 July 987 -> "04/07/0987"), written without
    Babel; English days are ISO."""
    assert format_day(day, "fr") == format_date(day, "dd/MM/yyyy", locale="fr")
    assert format_day(date(987, 7, 4), "fr") == "04/07/0987"
    assert format_day(day, "en") == day.isoformat()


def test_dates_french_format():
    assert parse_day("31/12/2024").isoformat() == "2024-12-31"
    assert parse_day("2024-12-31").isoformat() == "2024-12-31"
    assert format_day(parse_day("2023-01-01"), "fr") == "01/01/2023"
    with pytest.raises(DomainError, match="date valide"):
        parse_day("31/02/2024")


def test_three_decimal_places_when_asked():
    assert parse_decimal("33,333", places=3) == Decimal("33.333")


amounts = st.decimals(min_value=Decimal("-999999999999.99"), max_value=Decimal("999999999999.99"), places=2)


@given(amounts, st.sampled_from(["fr", "en"]))
def test_format_then_parse_round_trip(value, locale):
    text = format_money(value, locale)
    if locale == "en":
        # English uses the comma for thousands: the French parser refuses it as ambiguous
        # unless the comma is stripped, which is what an English user pastes back.
        text = text.replace(",", "")
    assert parse_amount(text, allow_negative=True) == value


@given(amounts)
def test_french_format_round_trip_exact(value):
    assert parse_amount(format_money(value, "fr"), allow_negative=True) == value


def test_percent_rounds_half_up():
    """1 / 32 = 3,125 % exactly: half-up gives 3,13 (Python's default half-even gave 3,12);
    2 / 3 = 66,666… -> 66,67; a whole of 0 gives 0,00."""
    assert percent(1, 32) == Decimal("3.13")
    assert percent(2, 3) == Decimal("66.67")
    assert percent(5, 0) == Decimal("0.00")
    assert str(percent(1, 2)) == "50.00"


def test_rate_and_places_round_half_up():
    """59,97005 % -> 59,9701 (four decimals); 0,25 to one place -> 0,3; 2,675 to the cent -> 2,68."""
    assert rate(Decimal("59.97005")) == Decimal("59.9701")
    assert round_places(Decimal("0.25"), 1) == Decimal("0.3")
    assert cents(Decimal("2.675")) == Decimal("2.68")
    assert has_places(Decimal("1234.50"), 2) and not has_places(Decimal("1234.505"), 2)


def test_money_constants():
    assert (str(ZERO), HUNDRED, CENT) == ("0.00", Decimal(100), Decimal("0.01"))

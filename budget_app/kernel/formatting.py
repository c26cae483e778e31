"""Amounts, numbers, hours, percents and dates as the reader expects them: French by
default (1 234,56 €, 60,00 %, 31/01/2023), English when the user chose it (€1,234.56).

Every page, export and computation text goes through these functions; ``locale``
defaults to the current user's language. ``plain=True`` writes ordinary spaces instead of
the typographic no-break spaces, for texts that are stored or copied into spreadsheets
("137,5 h × 32,00 €/h = 4 400,00 €").
"""
from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_datetime as babel_format_datetime
from babel import Locale
from babel.numbers import (
    NumberPattern,
    format_currency,
    format_decimal,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
    parse_pattern,
)

# Days are formatted in kernel/dates (errors show them too, and sit below this module).
from .dates import PARIS, format_day, local_time  # noqa: F401  (re-exported)
from .i18n import babel_locale, current_locale
from .money import cents, quantize

_SPACES = {"\u00a0": " ", "\u202f": " "}


def _plain(text: str) -> str:
    for special, space in _SPACES.items():
        text = text.replace(special, space)
    return text


def _french(locale: str) -> bool:
    return locale.startswith("fr")


# A page prints a few hundred amounts: the number patterns are parsed once, not per amount.
_PATTERNS: dict[int, NumberPattern] = {}


def _pattern(decimals: int) -> NumberPattern:
    pattern = _PATTERNS.get(decimals)
    if pattern is None:
        pattern = _PATTERNS.setdefault(decimals, parse_pattern("#,##0" + ("." + "0" * decimals if decimals else "")))
    return pattern


# Babel's euro pattern of each language with the euro sign and the euro's decimals already
# in place: ``format_currency`` looks up the currency's decimals, its plural name and its sign
# again for every amount (a third of its time). Same text (tests compare the two).
_EURO: dict[Locale, NumberPattern | None] = {}


def _euro_pattern(locale: Locale) -> NumberPattern | None:
    if locale in _EURO:
        return _EURO[locale]
    standard = locale.currency_formats["standard"]
    pattern = None
    if "¤¤" not in standard.pattern:  # a name or an ISO code: left to format_currency
        sign = get_currency_symbol("EUR", locale)
        decimals = (get_currency_precision("EUR"),) * 2
        pattern = NumberPattern(
            standard.pattern, tuple(part.replace("¤", sign) for part in standard.prefix),
            tuple(part.replace("¤", sign) for part in standard.suffix), standard.grouping, standard.int_prec,
            decimals, standard.exp_prec, standard.exp_plus, standard.number_pattern)
    return _EURO.setdefault(locale, pattern)


# Python's own formatting of a Decimal (``1,234.56``) with the language's symbols put in:
# what Babel writes for these patterns (checked against Babel once per language and pattern
# on probe values; Babel itself where any differs), for a fifth of the time (a bilan's
# exports format thousands of amounts).
_FAST: dict[tuple, tuple | None] = {}
_PROBES = ("0", "0.5", "7", "999.99", "1000", "-1000", "12345.6", "-1234567.89", "1000000000000.01", "-0.01")


def _fast_form(pattern: NumberPattern, locale: Locale, decimals: int) -> tuple | None:
    key = (pattern.pattern, pattern.prefix, pattern.suffix, locale, decimals)
    if key in _FAST:
        return _FAST[key]
    form = None
    if (decimals <= 6 and pattern.grouping == (3, 3) and pattern.int_prec[0] == 1 and not pattern.exp_prec
            and not pattern.scale and "@" not in pattern.pattern and pattern.frac_prec == (decimals, decimals)):
        table = str.maketrans({",": get_group_symbol(locale), ".": get_decimal_symbol(locale)})
        form = (pattern.prefix, pattern.suffix, table, f",.{decimals}f")
        quantum = Decimal(1).scaleb(-decimals)
        for probe in _PROBES:
            value = quantize(Decimal(probe), quantum)
            if _fast_apply(form, value) != pattern.apply(value, locale):
                form = None
                break
    return _FAST.setdefault(key, form)


def _fast_apply(form: tuple, value: Decimal) -> str:
    prefixes, suffixes, table, spec = form
    negative = value.is_signed()
    return prefixes[negative] + format(abs(value), spec).translate(table) + suffixes[negative]


def format_money(value, locale: str | None = None, plain: bool = False) -> str:
    """1 234,56 € in French, €1,234.56 in English; never "-0,00 €"."""
    if value is None:
        return ""
    value = cents(value)
    if value == 0:
        value = abs(value)
    found = babel_locale(locale)
    pattern = _euro_pattern(found)
    if pattern is None:
        text = format_currency(value, "EUR", locale=found)
    else:  # (cents: never more than two decimals, so nothing for either to round)
        form = _fast_form(pattern, found, 2)
        text = pattern.apply(value, found) if form is None or not value.is_finite() else _fast_apply(form, value)
    return _plain(text) if plain else text


def format_number(value, locale: str | None = None, places: int | None = 2, plain: bool = False) -> str:
    """A number with thousands groups; ``places=None`` prints as few decimals as the value
    needs (137,5 ; 1 720)."""
    if value is None:
        return ""
    value = Decimal(value)
    if places is None:
        exponent = value.normalize().as_tuple().exponent
        decimals = max(0, -exponent) if isinstance(exponent, int) else 0
    else:
        decimals = places
        value = quantize(value, Decimal(1).scaleb(-places))
    found, pattern = babel_locale(locale), _pattern(decimals)
    form = _fast_form(pattern, found, decimals)  # (no more decimals than shown: nothing to round)
    text = (format_decimal(value, format=pattern, locale=found) if form is None or not value.is_finite()
            else _fast_apply(form, value))
    return _plain(text) if plain else text


def format_size(size, locale: str | None = None) -> str:
    """A file size with its unit: 633 o, 1,2 Ko, 3,4 Mo in French; 633 B, 1.2 KB, 3.4 MB in English."""
    if size is None:
        return ""
    locale = locale or current_locale()
    units = ("o", "Ko", "Mo", "Go") if _french(locale) else ("B", "KB", "MB", "GB")
    value, unit = Decimal(int(size)), 0
    while value >= 1024 and unit < len(units) - 1:
        value, unit = value / 1024, unit + 1
    places = 0 if unit == 0 else 1
    return f"{format_number(value, locale, places)}\u00a0{units[unit]}"


def decimal_text(value, places: int | None = None) -> str:
    """A number as French users type it in a form and read it in a CSV cell: no thousands
    separator, a decimal comma ("1234,56"; ``places=None``: as few decimals as needed)."""
    if value is None:
        return ""
    value = Decimal(value)
    value = value.normalize() if places is None else quantize(value, Decimal(1).scaleb(-places))
    return format(value, "f").replace(".", ",")


def format_percent(value, locale: str | None = None, places: int | None = 2, plain: bool = False) -> str:
    """A rate held as a number of percent: 60.00 -> "60,00 %" (French), "60.00%" (English)."""
    if value is None:
        return ""
    locale = babel_locale(locale)
    number = format_number(value, locale, places, plain)
    if locale.language == "fr":
        return f"{number}{' ' if plain else chr(0xa0)}%"
    return f"{number}%"


def format_hours(value, locale: str | None = None, plain: bool = False) -> str:
    """137,5 h ; 1 720 h (as few decimals as needed)."""
    if value is None:
        return ""
    return f"{format_number(value, locale, None, plain)} h"


def format_month(value, locale: str | None = None) -> str:
    """mm/yyyy in French, yyyy-mm in English."""
    if value is None:
        return ""
    if _french(locale or current_locale()):
        return f"{value.month:02d}/{value.year}"
    return f"{value.year}-{value.month:02d}"


def format_moment(value, locale: str | None = None) -> str:
    """A date and time in Paris time: 31/01/2023 14:05:00 (French), 2023-01-31 14:05:00."""
    if value is None:
        return ""
    pattern = "dd/MM/yyyy HH:mm:ss" if _french(locale or current_locale()) else "yyyy-MM-dd HH:mm:ss"
    return babel_format_datetime(local_time(value), pattern, locale=locale or current_locale())


def today_in_paris() -> date:
    """Today's date where the users are (the server may run in UTC)."""
    return datetime.now(PARIS).date()

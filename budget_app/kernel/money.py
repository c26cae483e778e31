"""Decimal helpers: parse what French users type, round half-up once (printing is
``formatting``).

Money is ``Decimal`` everywhere; nothing here accepts or returns a float.
No regulation fixes a rounding rule (FSE+ primer §5): every computed amount is
rounded half-up to the cent once, and printed parts are made to add up to totals.
"""
import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .errors import DomainError
from .i18n import N_

# The money constants of every module (a test refuses local copies): ZERO has two places,
# like every stored amount, so that sums start as "0.00" and print as such.
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
RATE_UNIT = Decimal("0.0001")  # rates in percent are shown with four decimals (59,9700 %)
MAX_AMOUNT = Decimal("999999999999.99")  # Numeric(14, 2)

# Space characters users and spreadsheets put between thousands groups.
_GROUP_SPACES = "\u0020\u00a0\u202f\u2009\u2007"
_CURRENCY = re.compile(r"\s*(€|EUR|eur)\s*$|^\s*(€|EUR)\s*")


def quantize(value: Decimal, unit: Decimal = CENT) -> Decimal:
    if isinstance(value, float):
        raise TypeError("use Decimal, never float")
    return Decimal(value).quantize(unit, rounding=ROUND_HALF_UP)


def cents(value) -> Decimal:
    """Round half-up to the cent: the one rounding rule for computed amounts."""
    return quantize(Decimal(value), CENT)


def round_places(value, count: int) -> Decimal:
    """Round half-up to ``count`` decimals (hours, percents, chart geometry)."""
    return quantize(Decimal(value), Decimal(1).scaleb(-count))


def percent(part, whole, count: int = 2) -> Decimal:
    """``part`` as a percentage of ``whole``, half-up to ``count`` decimals (0 when whole is 0):
    1 / 32 -> 3,13 % (Python's default half-even would print 3,12 %)."""
    if not whole:
        return round_places(0, count)
    return round_places(Decimal(part) * HUNDRED / Decimal(whole), count)


def rate(value) -> Decimal:
    """A rate in percent, half-up to four decimals (what pages and exports show)."""
    return quantize(Decimal(value), RATE_UNIT)


def has_places(value: Decimal, count: int) -> bool:
    """Whether ``value`` is exact with ``count`` decimals (a check, not a rounding)."""
    return value == round_places(value, count)


_MESSAGES = {
    "empty": N_("Montant manquant."),
    "malformed": N_("« %(value)s » n'est pas un montant valide (exemple : 1 234,56)."),
    "ambiguous": N_(
        "« %(value)s » est ambigu : utilisez la virgule pour les décimales et l'espace pour les milliers (1 234,56)."
    ),
    "places": N_("« %(value)s » a plus de %(places)s décimales."),
    "negative": N_("« %(value)s » : un montant négatif n'est pas accepté ici."),
    "too_large": N_("« %(value)s » dépasse le montant maximal accepté."),
    "date": N_("« %(value)s » n'est pas une date valide (jj/mm/aaaa)."),
}


def _error(kind: str, **params) -> DomainError:
    return DomainError(_MESSAGES[kind], **params)


_DIGITS_GROUPED = re.compile(r"^[0-9]{1,3}( [0-9]{3})+$")


def parse_decimal(text, places: int = 2, allow_negative: bool = False, maximum: Decimal = MAX_AMOUNT) -> Decimal:
    """Parse a French-typed decimal: "1 234,56", "1234,56", "1 234,56 €", "1234.56".

    Refused with a message: thousands groups that are not of three digits, a point
    and a comma together, a lone point followed by three digits ("1.234": a
    thousand or one?), exponents, more than ``places`` decimals, "-0".
    """
    if isinstance(text, Decimal):
        text = format(text, "f")
    elif isinstance(text, int):
        text = str(text)
    elif isinstance(text, float):
        raise TypeError("use Decimal, never float")
    original = (text or "").strip()
    if not original:
        raise _error("empty")
    value = original
    sign = ""
    if value[:1] in "-\u2212":
        sign, value = "-", value[1:].strip()
    value = _CURRENCY.sub("", value).strip()
    for space in _GROUP_SPACES:
        value = value.replace(space, " ")
    if not value or not re.fullmatch(r"[0-9 .,]+", value):
        raise _error("malformed", value=original)
    if "," in value and "." in value:
        raise _error("ambiguous", value=original)
    if value.count(",") > 1 or value.count(".") > 1:
        raise _error("malformed", value=original)
    decimal_mark = "," if "," in value else "."
    if "." in value and not "," in value:
        whole_part, _, fraction = value.partition(".")
        if len(fraction) == 3 and " " not in whole_part:
            raise _error("ambiguous", value=original)
    whole, _, fraction = value.partition(decimal_mark)
    whole = whole.strip()
    if " " in whole and not _DIGITS_GROUPED.match(whole):
        raise _error("malformed", value=original)
    whole = whole.replace(" ", "")
    if not whole or not whole.isdigit() or (fraction and not fraction.isdigit()):
        raise _error("malformed", value=original)
    if (decimal_mark in value) and not fraction:
        raise _error("malformed", value=original)
    if len(fraction) > places:
        raise _error("places", value=original, places=places)
    try:
        number = Decimal(f"{sign}{whole}.{fraction or '0'}")
    except InvalidOperation as exc:  # pragma: no cover - the pattern above excludes it
        raise _error("malformed", value=original) from exc
    if sign and number == 0:
        raise _error("malformed", value=original)
    if number < 0 and not allow_negative:
        raise _error("negative", value=original)
    if abs(number) > maximum:
        raise _error("too_large", value=original)
    return quantize(number, Decimal(1).scaleb(-places))


def parse_amount(text, allow_negative: bool = False) -> Decimal:
    """An amount in euros, to the cent."""
    return parse_decimal(text, places=2, allow_negative=allow_negative)


_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")


def parse_day(text) -> date:
    """dd/mm/yyyy or yyyy-mm-dd; anything else raises DomainError with a message."""
    if isinstance(text, datetime):
        return text.date()
    if isinstance(text, date):
        return text
    value = (text or "").strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise _error("date", value=value)

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
from .i18n import N_, current_locale

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

# What a number typed in a form is (its noun in messages) and an example of each, written
# as the reader's pages show them (``_example``).
NOUNS = ("amount", "hours", "percent", "number")
_TYPED = {
    "empty": {
        "amount": N_("Montant manquant."),
        "hours": N_("Nombre d'heures manquant."),
        "percent": N_("Pourcentage manquant."),
        "number": N_("Nombre manquant."),
    },
    "malformed": {
        "amount": N_("« %(value)s » n'est pas un montant valide (exemple : %(example)s)."),
        "hours": N_("« %(value)s » n'est pas un nombre d'heures valide (exemple : %(example)s)."),
        "percent": N_("« %(value)s » n'est pas un pourcentage valide (exemple : %(example)s)."),
        "number": N_("« %(value)s » n'est pas un nombre valide (exemple : %(example)s)."),
    },
    "negative": {
        "amount": N_("« %(value)s » : un montant négatif n'est pas accepté ici."),
        "hours": N_("« %(value)s » : un nombre d'heures négatif n'est pas accepté."),
        "percent": N_("« %(value)s » : un pourcentage négatif n'est pas accepté."),
        "number": N_("« %(value)s » : un nombre négatif n'est pas accepté ici."),
    },
    "too_large": {
        "amount": N_("« %(value)s » dépasse le montant maximal accepté."),
        "hours": N_("« %(value)s » dépasse le nombre d'heures maximal accepté."),
        "percent": N_("« %(value)s » dépasse le pourcentage maximal accepté (%(maximum)s)."),
        "number": N_("« %(value)s » dépasse la valeur maximale acceptée."),
    },
}
_AMBIGUOUS = {
    "fr": N_("« %(value)s » est ambigu sur une page en français : écrivez par exemple %(example)s "
             "(espace pour les milliers, virgule pour les décimales)."),
    "en": N_("« %(value)s » est ambigu sur une page en anglais : écrivez par exemple %(example)s "
             "(virgule pour les milliers, point pour les décimales)."),
}
_EXAMPLES = {"amount": "1234.56", "hours": "151.67", "percent": "59.97", "number": "1234.5"}


def _error(kind: str, **params) -> DomainError:
    return DomainError(_MESSAGES[kind], **params)


def _untyped(kind: str, noun: str, original: str, **params) -> DomainError:
    # Imports and commands: the example is one their rules accept whoever reads it
    # (no thousands separator: « 1234,56 » in French, « 1234.56 » in English).
    example = _EXAMPLES[noun] if _language(current_locale()) == "en" else _EXAMPLES[noun].replace(".", ",")
    return DomainError(_TYPED[kind][noun], value=original, example=example, **params)


def _language(locale: str) -> str:
    return "fr" if str(locale).startswith("fr") else "en"


def _example(noun: str, locale: str) -> str:
    """1 234,56 / 1,234.56: how the reader's pages print a number of this kind (plain spaces)."""
    value = Decimal(_EXAMPLES[noun])
    places = -value.as_tuple().exponent
    if _language(locale) == "fr":
        whole, _, fraction = f"{value:,.{places}f}".partition(".")
        return whole.replace(",", " ") + "," + fraction
    return f"{value:,.{places}f}"


_DIGITS_GROUPED = re.compile(r"^[0-9]{1,3}( [0-9]{3})+$")
_COMMA_GROUPED = re.compile(r"^[0-9]{1,3}(,[0-9]{3})+$")
_UNITS = {"percent": re.compile(r"\s*%\s*$"), "hours": re.compile(r"\s*h\s*$")}


def _typed_parts(value: str, language: str) -> tuple[str, str] | None:
    """(whole digits, fraction digits) of a number typed on a page in ``language``, or None
    when that page's reader could have meant two numbers (raises nothing: the caller says)."""
    if language == "en":
        whole, point, fraction = value.partition(".")
        if "." in fraction or "," in fraction:
            return None
        if "," in whole:
            if not _COMMA_GROUPED.match(whole.replace(" ", "")):
                return None  # "1,25": a decimal comma on an English page, or a typo of 1,250?
            whole = whole.replace(",", "")
        return whole, fraction if point else ""
    # French: comma for decimals; a lone point is a decimal point unless it could be a
    # thousands separator ("1.250").
    if "," in value and "." in value:
        return None
    mark = "," if "," in value else "."
    whole, _, fraction = value.partition(mark)
    if mark == "." and len(fraction) == 3 and " " not in whole:
        return None
    return whole, fraction


def parse_decimal(text, places: int = 2, allow_negative: bool = False, maximum: Decimal = MAX_AMOUNT,
                  noun: str = "amount") -> Decimal:
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
        raise _untyped("empty", noun, original)
    value = original
    sign = ""
    if value[:1] in "-\u2212":
        sign, value = "-", value[1:].strip()
    value = _CURRENCY.sub("", value).strip()
    for space in _GROUP_SPACES:
        value = value.replace(space, " ")
    if not value or not re.fullmatch(r"[0-9 .,]+", value):
        raise _untyped("malformed", noun, original)
    if "," in value and "." in value:
        raise _error("ambiguous", value=original)
    if value.count(",") > 1 or value.count(".") > 1:
        raise _untyped("malformed", noun, original)
    decimal_mark = "," if "," in value else "."
    if "." in value and not "," in value:
        whole_part, _, fraction = value.partition(".")
        if len(fraction) == 3 and " " not in whole_part:
            raise _error("ambiguous", value=original)
    whole, _, fraction = value.partition(decimal_mark)
    whole = whole.strip()
    if " " in whole and not _DIGITS_GROUPED.match(whole):
        raise _untyped("malformed", noun, original)
    whole = whole.replace(" ", "")
    if not whole or not whole.isdigit() or (fraction and not fraction.isdigit()):
        raise _untyped("malformed", noun, original)
    if (decimal_mark in value) and not fraction:
        raise _untyped("malformed", noun, original)
    if len(fraction) > places:
        raise _error("places", value=original, places=places)
    try:
        number = Decimal(f"{sign}{whole}.{fraction or '0'}")
    except InvalidOperation as exc:  # pragma: no cover - the pattern above excludes it
        raise _untyped("malformed", noun, original) from exc
    if sign and number == 0:
        raise _untyped("malformed", noun, original)
    if number < 0 and not allow_negative:
        raise _untyped("negative", noun, original)
    if abs(number) > maximum:
        raise _untyped("too_large", noun, original, maximum=maximum)
    return quantize(number, Decimal(1).scaleb(-places))


def parse_amount(text, allow_negative: bool = False) -> Decimal:
    """An amount in euros, to the cent."""
    return parse_decimal(text, places=2, allow_negative=allow_negative)


def parse_typed(text, locale: str, noun: str = "amount", places: int = 2, allow_negative: bool = False,
                maximum: Decimal = MAX_AMOUNT) -> Decimal:
    """A number typed in a form, as the reader's pages print it (``locale``):

    - French: « 1 234,56 », « 1234,56 », « 1 234,56 € » (space or no-break space between
      thousands, comma for decimals); « 1.234 » is refused as ambiguous;
    - English: « 1,234.56 », « 1234.56 », « €1,250 » (= 1 250); « 1,25 » is refused as
      ambiguous;
    - ``noun`` (amount, hours, percent, number) names the value in messages, which give an
      example as the reader's pages print it; « % » and « h » after a percentage or hours.

    Imports and the command line keep ``parse_decimal``'s locale-independent rules.
    """
    language = _language(locale)
    original = (format(text, "f") if isinstance(text, Decimal) else str(text or "")).strip()
    example = _example(noun, language)

    def refuse(kind: str, **params):
        return DomainError(_TYPED[kind][noun], value=original, example=example, **params)

    if not original:
        raise refuse("empty")
    value, sign = original, ""
    if value[:1] in "-\u2212":
        sign, value = "-", value[1:].strip()
    value = _CURRENCY.sub("", value).strip() if noun == "amount" else value
    if noun in _UNITS:
        value = _UNITS[noun].sub("", value)
    for space in _GROUP_SPACES:
        value = value.replace(space, " ")
    value = value.strip()
    if not value or not re.fullmatch(r"[0-9 .,]+", value) or value.count(".") > 1 or (
            language == "fr" and value.count(",") > 1):
        raise refuse("malformed")
    parts = _typed_parts(value, language)
    if parts is None:
        raise DomainError(_AMBIGUOUS[language], value=original, example=example)
    whole, fraction = parts[0].strip(), parts[1]
    if " " in whole and not _DIGITS_GROUPED.match(whole):
        raise refuse("malformed")
    whole = whole.replace(" ", "")
    if not whole.isdigit() or (fraction and not fraction.isdigit()) or value[-1:] in ".,":
        raise refuse("malformed")
    if len(fraction) > places:
        raise _error("places", value=original, places=places)
    number = Decimal(f"{sign}{whole}.{fraction or '0'}")
    if sign and number == 0:
        raise refuse("malformed")
    if number < 0 and not allow_negative:
        raise refuse("negative")
    if abs(number) > maximum:
        shown = format(maximum.normalize(), "f")
        raise refuse("too_large", maximum=shown.replace(".", ",") if language == "fr" else shown)
    return quantize(number, Decimal(1).scaleb(-places))


def typed_amount(text, allow_negative: bool = False) -> Decimal:
    """An amount typed in a form, in the reader's language (``parse_typed``)."""
    return parse_typed(text, current_locale(), "amount", allow_negative=allow_negative)


def typed_percent(text, maximum: Decimal = HUNDRED, places: int = 4) -> Decimal:
    """A percentage typed in a form (« 59,97 » or « 59,97 % » on a French page)."""
    return parse_typed(text, current_locale(), "percent", places=places, maximum=maximum)


def typed_hours(text, places: int = 2) -> Decimal:
    return parse_typed(text, current_locale(), "hours", places=places)


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


_TYPED_DAY = {
    "fr": N_("« %(value)s » n'est pas une date valide (exemple : 30/06/2025 ou 2025-06-30)."),
    "en": N_("« %(value)s » n'est pas une date valide (exemple : 2025-06-30)."),
}


def typed_day(text, locale: str | None = None) -> date:
    """A day typed in a form as the reader's pages print it, or ISO yyyy-mm-dd always:
    « 30/06/2025 » on a French page, « 2025-06-30 » on both (an English page prints ISO, and
    « 06/07/2025 » would be read differently by different readers)."""
    if isinstance(text, datetime):
        return text.date()
    if isinstance(text, date):
        return text
    language = _language(locale or current_locale())
    value = (text or "").strip()
    for fmt in _DATE_FORMATS if language == "fr" else ("%Y-%m-%d",):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise DomainError(_TYPED_DAY[language], value=value)

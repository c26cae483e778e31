"""The one way a typed whole number is read: a form field, a query parameter, an id in a
URL or a list, an import cell. ASCII digits only, range-checked (issue 21).

``str.isdigit()`` is true for « ² » and other Unicode digits that ``int()`` refuses or
reads differently (``int("١٢")`` is 12), ``int()`` accepts « 1_000 », spaces and signs,
and an id of 20 digits overflows PostgreSQL's integer: each of these answered 500 once.
"""
import re

from werkzeug.routing import BaseConverter, ValidationError

# PostgreSQL's `integer` (every id column): the largest id there can be.
MAX_ID = 2**31 - 1
_ASCII_DIGITS = re.compile(r"[0-9]{1,18}")


def parse_int(text, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """``text`` (surrounding spaces ignored) as a whole number in [minimum, maximum], or
    None when it is anything else: empty, a sign, « ² », « 1e23 », « 1_000 », 19 digits..."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        number = text
    elif isinstance(text, str) and _ASCII_DIGITS.fullmatch(text.strip()):
        number = int(text.strip())
    else:
        return None
    return number if minimum <= number <= maximum else None


def parse_id(text) -> int | None:
    """A row's id (1 to MAX_ID), or None."""
    return parse_int(text, minimum=1)


class IdConverter(BaseConverter):
    """``<int:...>`` in every route: ASCII digits, 1 to MAX_ID; anything else is a 404
    (Werkzeug's own converter reads any Unicode digit and has no maximum)."""

    regex = r"[0-9]{1,18}"
    part_isolating = True

    def to_python(self, value: str):
        number = parse_id(value)
        if number is None:
            raise ValidationError()
        return number

    def to_url(self, value) -> str:
        return str(int(value))

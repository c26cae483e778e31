"""Spreadsheet safety shared by every export (claims, alert transmission form).

A text cell that starts with one of ``DANGEROUS`` would be run by a spreadsheet as a
formula (OWASP CSV injection; ASVS 5.0 1.2.10; security CHECKLIST §3). Escaping is by
column type: amounts and dates are written as numbers and dates and never touched, so a
negative amount stays a number.

Every text goes through ``clean_output`` first (``kernel.text``): a control character
left in older data never breaks a file. In CSV, a formula could also start after a
separator inside a field, when the file is read with another separator than the one it
was written with (``ACME,=cmd|...`` read with ","): ``csv_text`` neutralises each of them.
"""
import re

from .text import clean_output

DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
# A separator any reader may use (",", ";", tab, "|", a line break), then maybe spaces or
# quotes, then a character that starts a formula.
_INNER_FORMULA_RE = re.compile(r"([,;\t|\n\r][\s\"']*)([=+\-@])")


def is_dangerous(text: str) -> bool:
    return text.startswith(DANGEROUS)


def escape_text(value: str) -> str:
    """Cleaned text, with a leading apostrophe on text a spreadsheet would run."""
    value = clean_output(value)
    return "'" + value if is_dangerous(value) else value


def xlsx_text(value: str) -> str:
    """Text for an XLSX cell (typed as text with the quote-prefix style by the writers)."""
    return clean_output(value)


def csv_text(value: str) -> str:
    """A CSV field: cleaned, an apostrophe before a formula at its start and after any
    separator inside it, so no cell of any reading of the file is a formula."""
    value = _INNER_FORMULA_RE.sub(lambda match: match.group(1) + "'" + match.group(2), clean_output(value))
    return "'" + value if is_dangerous(value) else value

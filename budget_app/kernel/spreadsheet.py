"""Spreadsheet safety shared by every export (claims, alert transmission form).

A text cell that starts with one of ``DANGEROUS`` would be run by a spreadsheet as a
formula (OWASP CSV injection; ASVS 5.0 1.2.10; security CHECKLIST §3). Escaping is by
column type: amounts and dates are written as numbers and dates and never touched, so a
negative amount stays a number.
"""
DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")


def is_dangerous(text: str) -> bool:
    return text.startswith(DANGEROUS)


def escape_text(value: str) -> str:
    """A leading apostrophe on text a spreadsheet would run; other text unchanged."""
    return "'" + value if is_dangerous(value) else value

"""Log lines that user input cannot forge (ASVS 7.3.1)."""
import logging

from .text import escape_controls


class OneLineFormatter(logging.Formatter):
    """Escapes every control character (CR, LF, tab, vertical tab, NUL, DEL, C1 controls,
    U+2028, U+2029) so that user input cannot forge or hide log lines."""

    def format(self, record):
        return escape_controls(super().format(record))

"""Log lines that user input cannot forge (ASVS 7.3.1)."""
import logging


class OneLineFormatter(logging.Formatter):
    """Escapes CR/LF so that user input cannot forge log lines."""

    def format(self, record):
        text = super().format(record)
        return text.replace("\r", "\\r").replace("\n", "\\n")

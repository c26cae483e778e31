"""Text hygiene at the border and at every exit (issue 13).

- At input (forms, imports): ``normalise_input`` (NFC; CRLF, CR, U+2028 and U+2029 become
  LF) then ``control_character`` finds a control character other than tab and newline:
  the input is refused with a clear message (Word pastes a vertical tab for a manual line
  break; a suspect could paste one to break exports).
- At output (XLSX, CSV, PDF, transmission form): ``clean_output`` replaces whatever
  control character older data may still hold, so no writer fails on it.
- Logs: ``escape_controls`` writes every control character as an escape.
"""
import re
import unicodedata

# C0 controls but tab (09) and LF (0A), DEL, C1 controls.
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"
CONTROL_RE = re.compile(f"[{_CONTROLS}]")
# What XML 1.0 (XLSX) cannot hold, or PDF fonts cannot show: surrogates, U+FFFE, U+FFFF.
_UNWRITABLE_RE = re.compile("[\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS_RE = re.compile("\r\n|[\r\u2028\u2029\x85]")
# Everything a log line must not hold raw: every control character, line and paragraph
# separators included (tab and newline too).
_LOG_RE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Whatever ``clean_output`` changes (what its three substitutions match): most texts hold
# none, and one search costs a third of the three substitutions (exports clean every cell).
_TO_CLEAN_RE = re.compile(f"[{_CONTROLS}\u2028\u2029\ud800-\udfff\ufffe\uffff]")


def normalise_input(text: str) -> str:
    """NFC, and one newline character (LF) for every kind of line break."""
    return _LINE_BREAKS_RE.sub("\n", unicodedata.normalize("NFC", text))


def control_character(text: str) -> str | None:
    """The first control character other than tab and newline, as ``U+000B``, else None."""
    match = CONTROL_RE.search(text)
    return None if match is None else f"U+{ord(match.group()):04X}"


def clean_output(text: str) -> str:
    """Text any writer accepts: line breaks as LF, other control characters as a space,
    unwritable code points as U+FFFD."""
    if _TO_CLEAN_RE.search(text) is None:
        return text
    text = _LINE_BREAKS_RE.sub("\n", text)
    text = CONTROL_RE.sub(" ", text)
    return _UNWRITABLE_RE.sub("\ufffd", text)


def escape_controls(text: str) -> str:
    r"""Every control character as an escape (\n, \r, \t, \xNN, \uNNNN)."""

    def escape(match):
        char = match.group()
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char) or (
            f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
        )

    return _LOG_RE.sub(escape, text)


def nul_in_query(args) -> bool:
    """True when a query-string value holds NUL: PostgreSQL refuses it in any string it is
    sent (a 500 from a search box, issue 21) and no value of this site has one."""
    return any("\x00" in value for values in args.listvalues() for value in values)

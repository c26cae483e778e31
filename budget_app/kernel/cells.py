"""Cell parsers of the import files (``kernel.tabular``): each returns the value of one
cell or raises DomainError saying what is wrong, in what finance officers type (comma or
point decimals, dd/mm/yyyy or yyyy-mm-dd, yyyy-mm or mm/yyyy, oui/non); ``RowReader``
reads the cells of one row and collects a problem for each bad one."""
import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from .errors import DomainError, Problem
from .i18n import N_
from .money import MAX_AMOUNT, parse_decimal, parse_typed, quantize, typed_day
from .text import control_character, normalise_input


@lru_cache(maxsize=4096, typed=True)  # the same few words (« oui », « non », headers) on every row of an import
def normalise_header(text) -> str:
    text = unicodedata.normalize("NFKD", str(text or ""))
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = text.replace("\u00a0", " ").replace("\u202f", " ").replace("’", "'")
    return re.sub(r"\s+", " ", text).strip().casefold()


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def cell_text(value, required: bool = True, max_length: int = 500) -> str | None:
    """Text of a cell: NFC, one kind of line break; a control character other than tab and
    newline is refused ("ligne N, colonne X : caractère de contrôle (U+000B)")."""
    text = normalise_input(_text(value))
    found = control_character(text)
    if found:
        raise DomainError(N_("caractère de contrôle (%(char)s)"), char=found)
    if not text:
        if required:
            raise DomainError(N_("valeur obligatoire"))
        return None
    if len(text) > max_length:
        raise DomainError(N_("texte trop long (%(max)s caractères au plus)"), max=max_length)
    return text


STEPS = {places: Decimal(1).scaleb(-places) for places in range(5)}


def cell_decimal(value, places: int = 2, required: bool = True, allow_negative: bool = False,
                 noun: str = "amount", locale: str | None = None) -> Decimal | None:
    """A number of a file's cell (``parse_decimal``'s rules), or of a form's field when
    ``locale`` is given (a one-row import: typed as the reader's pages print it)."""
    if locale and isinstance(value, str) and value.strip():
        return parse_typed(value, locale, noun, places=places, allow_negative=allow_negative)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise DomainError(N_("valeur obligatoire"))
        return None
    if isinstance(value, bool):
        raise DomainError(N_("nombre attendu"))
    if isinstance(value, float):
        value = Decimal(repr(value))  # the shortest decimal that reads back as this float
        if not value.is_finite():
            raise DomainError(N_("nombre attendu"))
        step = STEPS.get(places) or Decimal(1).scaleb(-places)
        exact = quantize(value, step)
        if value != exact:
            raise DomainError(N_("au plus %(places)s décimales"), places=places)
        # The common case of a spreadsheet (a positive amount with at most 2 decimals) needs
        # none of parse_decimal's text checks: the same result, without the round trip.
        if places <= 2 and (value > 0 or (value == 0 and not value.is_signed())) and value <= MAX_AMOUNT:
            return exact
    return parse_decimal(value, places=places, allow_negative=allow_negative, noun=noun)


def cell_amount(value, required: bool = True, allow_negative: bool = False, locale: str | None = None) -> Decimal | None:
    return cell_decimal(value, places=2, required=required, allow_negative=allow_negative, locale=locale)


def cell_date(value, required: bool = True, locale: str | None = None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if not text:
        if required:
            raise DomainError(N_("date obligatoire"))
        return None
    if locale:
        return typed_day(text, locale)
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise DomainError(N_("date invalide « %(value)s » (attendu jj/mm/aaaa ou aaaa-mm-jj)"), value=text)


def cell_month(value, required: bool = True) -> date | None:
    """A month as its first day: yyyy-mm or mm/yyyy (a full date gives its month)."""
    if isinstance(value, (date, datetime)):
        return date(value.year, value.month, 1)
    text = _text(value)
    if not text:
        if required:
            raise DomainError(N_("mois obligatoire"))
        return None
    for pattern in (r"(?P<y>\d{4})-(?P<m>\d{1,2})", r"(?P<m>\d{1,2})/(?P<y>\d{4})"):
        match = re.fullmatch(pattern, text)
        # Years 1900-2199: nothing in a programme falls outside, and month arithmetic
        # (month ends, next months) stays inside what ``date`` can hold.
        if match and 1 <= int(match["m"]) <= 12 and 1900 <= int(match["y"]) <= 2199:
            return date(int(match["y"]), int(match["m"]), 1)
    raise DomainError(N_("mois invalide « %(value)s » (attendu aaaa-mm ou mm/aaaa)"), value=text)


def cell_yes_no(value, required: bool = True) -> bool | None:
    if isinstance(value, bool):
        return value
    text = normalise_header(_text(value))
    if not text:
        if required:
            raise DomainError(N_("oui ou non attendu"))
        return None
    if text in ("oui", "o", "yes", "y", "vrai", "true", "1"):
        return True
    if text in ("non", "n", "no", "faux", "false", "0"):
        return False
    raise DomainError(N_("oui ou non attendu, pas « %(value)s »"), value=_text(value))


class RowReader:
    """Reads the cells of one row, collecting a Problem for each bad cell instead of
    stopping at the first, so an import lists every problem of the file. ``known`` (one
    dict kept by the caller across the rows of a file): the parsers are pure, so a text
    already read in a column with the same options (a supplier, « non », a category on
    thousands of rows) gives its value again without being parsed again."""

    def __init__(self, row, columns: dict[str, str], problems: list[Problem], known: dict | None = None):
        self.row = row
        self.columns = columns
        self.problems = problems
        self.ok = True
        self.known = known

    def __call__(self, key: str, parser, **options):
        # A form's row (``Row.locale``): numbers and days as the reader's pages print them.
        if getattr(self.row, "locale", None) and parser in _TYPED_PARSERS:
            options.setdefault("locale", self.row.locale)
        raw = self.row.values.get(key)
        memo = None
        if self.known is not None and raw.__class__ is str:
            memo = (key, parser, raw, *options.items())
            if memo in self.known:
                return self.known[memo]
        try:
            value = parser(raw, **options)
        except DomainError as error:
            self.fail(key, error)
            return None
        if memo is not None:
            self.known[memo] = value
        return value

    def fail(self, key: str | None, error: DomainError | str) -> None:
        self.ok = False
        self.problems.append(Problem(error, line=self.row.line, column=self.columns.get(key) if key else None))


_TYPED_PARSERS = (cell_decimal, cell_amount, cell_date)

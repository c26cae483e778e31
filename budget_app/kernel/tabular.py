"""Reading import files (XLSX or CSV) into rows, the same way for every import.

- XLSX is recognised by content (a ZIP container), anything else is read as CSV.
- CSV: UTF-8, UTF-16 or UTF-32 recognised by their byte-order mark; without one, UTF-8,
  else Windows-1252; an undecodable file is refused with a message. Separator `;` or `,`
  detected on the header line.
- Headers are matched without regard to case, accents or extra spaces; a column that is
  not expected is refused by name, a required column that is missing too.
- Every problem is collected as "ligne N, colonne X : message" (N is the line of the file)
  so that an import can refuse the whole file and list them all.
- The header row may sit below a title and blank rows; a final « Total » row is left out
  with a note (``Table.notes``); in a workbook, the sheet holding the headers is read.

Cell parsers (``cell_amount``, ``cell_date``, ``cell_month``, ...) accept what finance
officers type: comma or point decimals, dd/mm/yyyy or yyyy-mm-dd, yyyy-mm or mm/yyyy.
"""
import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from flask import current_app, has_app_context

from .errors import DomainError, Problem
from .i18n import N_
from .money import MAX_AMOUNT, parse_decimal
from .text import control_character, normalise_input


# Rows an import may hold (setting IMPORT_MAX_ROWS); problems an import page lists (the
# others are counted).
DEFAULT_MAX_ROWS = 50_000
PROBLEMS_SHOWN = 200


def normalise_header(text) -> str:
    text = unicodedata.normalize("NFKD", str(text or ""))
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = text.replace("\u00a0", " ").replace("\u202f", " ").replace("’", "'")
    return re.sub(r"\s+", " ", text).strip().casefold()


@dataclass
class Row:
    line: int
    values: dict  # canonical key -> raw cell value (str, or a native XLSX value)


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Lines read but not imported, each with why (a title above the headers, a totals row):
    # said in the preview, never dropped silently.
    notes: list[Problem] = field(default_factory=list)


# People's spreadsheets: a title and blank rows above the headers, a totals row at the end.
HEADER_SEARCH_ROWS = 15
TOTAL_WORDS = ("total", "totaux", "sous-total", "sous total", "somme")


def _blank(cells) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def _score(cells, by_header) -> int:
    return sum(1 for cell in cells if cell is not None and normalise_header(cell) in by_header)


def _find_header(rows: list, by_header: dict) -> int:
    """Index of the header row among the first rows: the one naming the most expected
    columns (the first non-blank row when none names any)."""
    best, best_score = None, 0
    for index, (_line, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        score = _score(cells, by_header)
        if score > best_score:
            best, best_score = index, score
    if best is not None:
        return best
    return next((index for index, (_line, cells) in enumerate(rows) if not _blank(cells)), 0)


def _is_total(cells) -> bool:
    """A totals row: its first filled text cell starts with « Total » (or Totaux, Somme...)."""
    first = next((cell for cell in cells if cell is not None and str(cell).strip()), None)
    if not isinstance(first, str):
        return False
    text = normalise_header(first)
    return any(text == word or text.startswith(word + " ") or text.startswith(word + ":") for word in TOTAL_WORDS)


def read_table(content: bytes, columns: dict[str, str], required: set[str] | frozenset = frozenset()) -> Table:
    """Read ``content`` (the file's bytes). ``columns`` maps canonical keys to the French
    header of each expected column; ``required`` lists keys whose column must be present.
    The header row is looked for in the first rows (title and blank rows above it are
    skipped and noted); in a workbook, the sheet whose headers match best is read; a
    final totals row is left out with a note."""
    by_header = {normalise_header(label): key for key, label in columns.items()}
    if content[:4] == b"PK\x03\x04":
        try:
            sheets = _read_xlsx(content)
        except DomainError as error:
            return Table(problems=[Problem(error)])
        except Exception:  # a damaged workbook: openpyxl raises many kinds of errors
            return Table(problems=[Problem(DomainError(N_("Classeur illisible (archive XLSX invalide).")))])
    else:
        try:
            sheets = [("", _read_csv(content))]
        except DomainError as error:
            return Table(problems=error.problems)
        except UnicodeDecodeError:
            return Table(problems=[Problem(DomainError(N_("Encodage du fichier non reconnu.")))])
    table = Table()
    best = max(sheets, key=lambda sheet: max((_score(cells, by_header) for _l, cells in sheet[1][:HEADER_SEARCH_ROWS]),
                                             default=0)) if sheets else ("", [])
    sheet_name, rows = best
    if len(sheets) > 1:
        table.notes.append(Problem(DomainError(N_("classeur de %(n)s feuilles : feuille « %(name)s » lue (celle qui porte les en-têtes)"),
                                               n=len(sheets), name=sheet_name)))
    if not rows or all(_blank(cells) for _line, cells in rows):
        table.problems.append(Problem(DomainError(N_("Le fichier est vide."))))
        return table
    start = _find_header(rows, by_header)
    header_line, header = rows[start]
    for line, cells in rows[:start]:
        if not _blank(cells):
            table.notes.append(Problem(DomainError(N_("ligne au-dessus des en-têtes (titre), non importée")), line=line))
    positions: dict[int, str] = {}
    for index, label in enumerate(header):
        if label is None or not str(label).strip():
            continue
        key = by_header.get(normalise_header(label))
        if key is None:
            table.problems.append(Problem(DomainError(N_("colonne inconnue")), line=header_line, column=str(label).strip()))
        elif key in positions.values():
            table.problems.append(Problem(DomainError(N_("colonne en double")), line=header_line, column=str(label).strip()))
        else:
            positions[index] = key
    for key in sorted(required - set(positions.values())):
        table.problems.append(Problem(DomainError(N_("colonne obligatoire absente")), line=header_line, column=columns[key]))
    if table.problems:
        return table
    max_rows = current_app.config.get("IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS) if has_app_context() else DEFAULT_MAX_ROWS
    for line, cells in rows[start + 1:]:
        if _blank(cells):
            continue  # blank lines are not rows
        if len(table.rows) >= max_rows:
            table.rows = []
            table.problems.append(Problem(DomainError(
                N_("Le fichier compte plus de %(max)s lignes : découpez-le en plusieurs fichiers."), max=max_rows)))
            return table
        if _is_total(cells):
            table.notes.append(Problem(DomainError(N_("ligne de total, non importée")), line=line))
            continue
        extra = [cell for index, cell in enumerate(cells) if index not in positions and cell not in (None, "")]
        if extra and len(cells) > len(header):
            table.problems.append(Problem(DomainError(N_("plus de cellules que de colonnes")), line=line))
            continue
        values = {key: (cells[index] if index < len(cells) else None) for index, key in positions.items()}
        table.rows.append(Row(line, values))
    return table


# Byte-order marks, longest first (the UTF-32-LE mark begins with the UTF-16-LE one).
BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def _read_csv(content: bytes) -> list:
    bom = next(((mark, encoding) for mark, encoding in BOMS if content.startswith(mark)), None)
    if bom is not None:
        text = content[len(bom[0]):].decode(bom[1])
    else:
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            text = content.decode("cp1252")
    sample = "\n".join(text.split("\n", HEADER_SEARCH_ROWS)[:HEADER_SEARCH_ROWS])
    delimiter = ";" if sample.count(";") >= sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    try:
        for row in reader:
            rows.append((reader.line_num, row))
    except csv.Error:
        # csv refuses a field over its limit (131 072 characters) and says nothing of where.
        start = rows[-1][0] + 1 if rows else 1
        index = _long_field_index(text.splitlines(keepends=True)[start - 1:], delimiter)
        headers = [cells[index] for _line, cells in rows if index < len(cells) and str(cells[index]).strip()]
        raise DomainError(problems=[Problem(
            DomainError(N_("cellule de plus de %(max)s caractères"), max=csv.field_size_limit()),
            line=start, column=headers[0] if headers else str(index + 1),
        )]) from None
    return rows


def _long_field_index(lines: list[str], delimiter: str) -> int:
    """The position of the first field longer than csv's limit in the record starting at
    ``lines[0]`` (quotes followed as csv does)."""
    limit, index, length, quoted = csv.field_size_limit(), 0, 0, False
    for char in "".join(lines):
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            index, length = index + 1, 0
            continue
        elif char in "\r\n" and not quoted:
            break
        length += 1
        if length > limit:
            break
    return index


# An XLSX is a ZIP: refuse a "zip bomb" before openpyxl inflates it (ASVS 5.5.2, 12.1.2).
XLSX_MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
XLSX_MAX_ENTRIES = 1000


def check_zip_container(content: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
    except zipfile.BadZipFile:
        raise DomainError(N_("Classeur illisible (archive XLSX invalide).")) from None
    if len(entries) > XLSX_MAX_ENTRIES or sum(entry.file_size for entry in entries) > XLSX_MAX_UNCOMPRESSED_BYTES:
        raise DomainError(N_("Classeur refusé : son contenu décompressé est trop volumineux."))


def _read_xlsx(content: bytes) -> list:
    """(sheet name, [(line, cells)]) for each sheet of the workbook."""
    from openpyxl import (
        load_workbook,  # defusedxml is installed: openpyxl parses with it
    )

    check_zip_container(content)
    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        return [(sheet.title, [(line, list(row)) for line, row in enumerate(sheet.iter_rows(values_only=True), start=1)])
                for sheet in workbook.worksheets]
    finally:
        workbook.close()


# ---- cell parsers: each returns the value or raises DomainError saying what is wrong


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


def cell_decimal(value, places: int = 2, required: bool = True, allow_negative: bool = False) -> Decimal | None:
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
        exact = value.quantize(step)
        if value != exact:
            raise DomainError(N_("au plus %(places)s décimales"), places=places)
        # The common case of a spreadsheet (a positive amount with at most 2 decimals) needs
        # none of parse_decimal's text checks: the same result, without the round trip.
        if places <= 2 and (value > 0 or (value == 0 and not value.is_signed())) and value <= MAX_AMOUNT:
            return exact
    return parse_decimal(value, places=places, allow_negative=allow_negative)


def cell_amount(value, required: bool = True, allow_negative: bool = False) -> Decimal | None:
    return cell_decimal(value, places=2, required=required, allow_negative=allow_negative)


def cell_date(value, required: bool = True) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if not text:
        if required:
            raise DomainError(N_("date obligatoire"))
        return None
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
    for pattern in (r"(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})", r"(?P<m>[0-9]{1,2})/(?P<y>[0-9]{4})"):
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
    stopping at the first, so an import lists every problem of the file."""

    def __init__(self, row: Row, columns: dict[str, str], problems: list[Problem]):
        self.row = row
        self.columns = columns
        self.problems = problems
        self.ok = True

    def __call__(self, key: str, parser, **options):
        try:
            return parser(self.row.values.get(key), **options)
        except DomainError as error:
            self.fail(key, error)
            return None

    def fail(self, key: str | None, error: DomainError | str) -> None:
        self.ok = False
        self.problems.append(Problem(error, line=self.row.line, column=self.columns.get(key) if key else None))

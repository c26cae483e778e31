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

Cell parsers (``cell_amount``, ``cell_date``, ``cell_month``, ...) live in ``kernel.cells``
and are re-exported here: what finance officers type (comma or point decimals, dd/mm/yyyy or
yyyy-mm-dd, yyyy-mm or mm/yyyy).
"""
import csv
import io
import zipfile
from dataclasses import dataclass, field

from flask import current_app, has_app_context

from .cells import (  # noqa: F401 (re-exported: imports read rows and cells from here)
    RowReader,
    cell_amount,
    cell_date,
    cell_decimal,
    cell_month,
    cell_text,
    cell_yes_no,
    normalise_header,
)
from .errors import DomainError, Problem
from .formatting import format_number
from .i18n import N_
from .xlsx_rows import open_workbook, sheet_values


# Rows an import may hold (setting IMPORT_MAX_ROWS); problems an import page lists (the
# others are counted).
DEFAULT_MAX_ROWS = 50_000
PROBLEMS_SHOWN = 200
# A file is never trusted for its shape (issue 21): only the importer's columns and this
# margin are read from each row (an XLSX may claim 16 384 columns in its <dimension>); a
# cell beyond them that holds something makes its row refused, never silently dropped.
COLUMN_MARGIN = 20
# Excel's own limit for one cell; a longer cell is refused by row and column.
MAX_CELL_CHARS = 32_767


@dataclass
class Row:
    line: int
    values: dict  # canonical key -> raw cell value (str, or a native XLSX value)
    # A form's row read as a one-row import: its numbers and days are typed as the reader's
    # pages print them (``cells.cell_decimal``); None for a file (its own rules).
    locale: str | None = None


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
    width = len(columns) + COLUMN_MARGIN
    max_rows = current_app.config.get("IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS) if has_app_context() else DEFAULT_MAX_ROWS
    # Enough rows to see that a file is over the limit, never the whole of a huge file.
    shape = _Shape(width, max_rows + HEADER_SEARCH_ROWS + 2)
    if content[:4] == b"PK\x03\x04":
        try:
            sheets = _read_xlsx(content, shape)
        except DomainError as error:
            return Table(problems=error.problems or [Problem(error)])
        except Exception:  # a damaged workbook: openpyxl raises many kinds of errors
            return Table(problems=[Problem(DomainError(N_("Classeur illisible (archive XLSX invalide).")))])
    else:
        try:
            sheets = [("", _read_csv(content, shape))]
        except UnicodeDecodeError:
            return Table(problems=[Problem(DomainError(N_("Encodage du fichier non reconnu.")))])
        except DomainError as error:
            return Table(problems=error.problems or [Problem(error)])
    table = Table()
    best = max(sheets, key=lambda sheet: max((_score(cells, by_header) for _l, cells in sheet[1][0][:HEADER_SEARCH_ROWS]),
                                             default=0)) if sheets else ("", ([], set()))
    sheet_name, (rows, overflow) = best
    if len(sheets) > 1:
        table.notes.append(Problem(DomainError(N_("classeur de %(n)s feuilles : feuille « %(name)s » lue (celle qui porte les en-têtes)"),
                                               n=len(sheets), name=sheet_name)))
    if not rows:
        table.problems.append(Problem(DomainError(N_("Le fichier est vide."))))
        return table
    _refuse_long_cells(rows, table.problems)
    if table.problems:
        return table
    start = _find_header(rows, by_header)
    header_line, header = rows[start]
    if header_line in overflow:
        table.problems.append(Problem(DomainError(N_("plus de %(n)s colonnes : seules les colonnes de l'import sont attendues"),
                                                  n=width), line=header_line))
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
    for line, cells in rows[start + 1:]:
        if len(table.rows) >= max_rows:
            table.rows = []
            table.problems.append(Problem(DomainError(
                N_("Le fichier compte plus de %(max)s lignes : découpez-le en plusieurs fichiers."), max=max_rows)))
            return table
        if _is_total(cells):
            table.notes.append(Problem(DomainError(N_("ligne de total, non importée")), line=line))
            continue
        extra = [cell for index, cell in enumerate(cells) if index not in positions and cell not in (None, "")]
        if line in overflow or (extra and len(cells) > len(header)):
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


@dataclass
class _Shape:
    """How much of a file is read: ``width`` cells of each row, ``rows`` non-blank rows."""

    width: int
    rows: int


def _keep(rows: list, overflow: set, line: int, cells, shape: _Shape) -> bool:
    """Keep a row's first ``shape.width`` cells (noting the line when a cell beyond holds
    something); blank rows are left out. False once enough rows are read."""
    if len(cells) > shape.width:
        tail = cells[shape.width:]
        # CSV cells are strings (``any`` runs in C over a row of 12 million separators).
        if any(tail) if isinstance(cells, list) else any(cell not in (None, "") for cell in tail):
            overflow.add(line)
        cells = cells[:shape.width]
    if _blank(cells):
        return True
    rows.append((line, list(cells)))
    return len(rows) < shape.rows


def _read_csv(content: bytes, shape: _Shape) -> tuple[list, set]:
    """([(line, cells)], lines with cells beyond the width) of the non-blank rows."""
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
    rows, overflow = [], set()
    try:
        for row in reader:
            if not _keep(rows, overflow, reader.line_num, row, shape):
                break
    except csv.Error:
        # csv refuses a field over its limit (131 072 characters) and says nothing of where:
        # the record's line, and the column (its header when one was read above it).
        start = rows[-1][0] + 1 if rows else 1
        index = _long_field_index(text.splitlines(keepends=True)[start - 1:], delimiter)
        headers = [cells[index] for _line, cells in rows if index < len(cells) and str(cells[index]).strip()]
        raise DomainError(problems=[Problem(
            DomainError(N_("cellule de plus de %(max)s caractères"), max=csv.field_size_limit()),
            line=start, column=headers[0] if headers else column_letter(index),
        )]) from None
    return rows, overflow


def _refuse_long_cells(rows: list, problems: list) -> None:
    """A cell longer than MAX_CELL_CHARS is refused by row and column (its header when the
    column is known, else its letter)."""
    for line, cells in rows:
        for index, cell in enumerate(cells):
            if isinstance(cell, str) and len(cell) > MAX_CELL_CHARS:
                problems.append(Problem(DomainError(N_("cellule de plus de %(max)s caractères"),
                                                    max=format_number(MAX_CELL_CHARS, places=0)),
                                        line=line, column=column_letter(index)))


def column_letter(index: int) -> str:
    """A, B, ..., Z, AA, ... for the 0-based column ``index``."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


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


def _read_xlsx(content: bytes, shape: _Shape) -> list:
    """(sheet name, ([(line, cells)], overflowing lines)) for each sheet of the workbook.
    Read-only, row by row; the <dimension> a file claims is ignored (``reset_dimensions``)
    and no more than ``shape.width + 1`` cells of a row are ever asked for."""
    check_zip_container(content)
    workbook = open_workbook(content)
    try:
        sheets = []
        for sheet in workbook.worksheets:
            sheet.reset_dimensions()
            rows, overflow = [], set()
            # ``sheet.iter_rows(max_col=shape.width + 1, values_only=True)``, leaner (``xlsx_rows``).
            for line, cells in enumerate(sheet_values(sheet, shape.width + 1), start=1):
                if not _keep(rows, overflow, line, cells, shape):
                    break
            sheets.append((sheet.title, (rows, overflow)))
        return sheets
    finally:
        workbook.close()

"""One spreadsheet writer for every XLSX the application produces (bilans and états
récapitulatifs, their evidence pack, the alert transmission form): the title block, the
header and totals rows, and cells typed by kind — text never a formula, amounts in euros,
dates, months, rates as percentages, hours as numbers. How a sheet prints is
``sheet_layout``; which text is dangerous is ``spreadsheet``.

Cells are made for the worksheet they go to and appended with ``ws.append``, so the same
functions serve write-only (streamed) and ordinary workbooks. Spreadsheet files keep these
fixed number formats whatever the reader's language (the spreadsheet shows them in its own
locale): a date is a date cell, never text.
"""
from datetime import date
from decimal import Decimal
from functools import cache

from .spreadsheet import is_dangerous, xlsx_text

MONEY_FORMAT = '#,##0.00\\ "€";\\-#,##0.00\\ "€"'
DATE_FORMAT = "DD/MM/YYYY"
MONTH_FORMAT = "MM/YYYY"
PERCENT_FORMAT = "0.00%"  # the cell holds a fraction: 0.6 shows 60,00 %
NUMBER_FORMAT = "0.##"
FORMATS = {"money": MONEY_FORMAT, "date": DATE_FORMAT, "month": MONTH_FORMAT, "percent": PERCENT_FORMAT,
           "number": NUMBER_FORMAT}
# The cell type of each kind (openpyxl's codes): numbers "n", dates "d", text "s".
DATA_TYPES = {"money": "n", "percent": "n", "number": "n", "date": "d", "month": "d"}


# openpyxl is imported when a sheet is written, not when the application starts (every
# command would load it: bench/bench_start.py).
def _new_cell(ws, value=None):
    from openpyxl.cell import WriteOnlyCell

    return WriteOnlyCell(ws, value=value)


def _font(bold: bool, size=None):
    from openpyxl.styles import Font

    return Font(bold=bold, size=size)


@cache
def _wrap():
    from openpyxl.styles import Alignment

    return Alignment(wrap_text=True, vertical="top")


def text_cell(ws, value, bold: bool = False, size=None, wrap: bool = False):
    """A text cell: typed as a string (never a formula, whatever it starts with), with the
    quote-prefix style on text a spreadsheet would run, so it reads as written (security
    CHECKLIST §3)."""
    value = xlsx_text(str(value))
    cell = _new_cell(ws, value)
    cell.data_type = "s"
    if is_dangerous(value):
        cell.quotePrefix = True
    if bold or size:
        cell.font = _font(bold, size)
    if wrap:
        cell.alignment = _wrap()
    return cell


def kind_of(value) -> str:
    """The kind of a value written without a declared kind: text, a date, or a plain number."""
    if isinstance(value, date):
        return "date"
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return "plain"
    return "text"


def cell(ws, value, kind: str | None = None, bold: bool = False, wrap: bool = False):
    """A cell of ``kind`` (money, date, month, percent, number, text; guessed when None):
    amounts and dates are typed values with their format, never escaped, so a negative
    amount stays a number. ``None`` is an empty cell."""
    if value is None:
        return _new_cell(ws)
    kind = kind or kind_of(value)
    if kind == "text" or isinstance(value, str):
        return text_cell(ws, value, bold=bold, wrap=wrap)
    result = _new_cell(ws)
    if kind in FORMATS:
        # The format first: a date given before it would register openpyxl's default one.
        result.number_format = FORMATS[kind]
    result.value = value
    if bold:
        result.font = _font(True)
    return result


def row_cells(ws, kinds, values, wrap: bool = False) -> list:
    """A line of a table: one cell per value, typed by its column's kind (``wrap``: long
    texts on several lines)."""
    return [None if value is None else cell(ws, value, kind, wrap=wrap) for kind, value in zip(kinds, values)]


def title_block(ws, title: str, subtitle: str, size: int = 12, blank: bool = True) -> None:
    """The first rows of a sheet: the title in bold, the subtitle (who, what, when issued),
    then a blank row unless ``blank`` is False."""
    ws.append([text_cell(ws, title, bold=True, size=size)])
    ws.append([text_cell(ws, subtitle)])
    if blank:
        ws.append([])


def header_cells(ws, titles, wrap: bool = True) -> list:
    """The header row: bold titles, wrapped on two lines when ``wrap``."""
    cells = []
    for title in titles:
        header = text_cell(ws, title, bold=True)
        if wrap:
            header.alignment = _wrap()
        cells.append(header)
    return cells


def totals_cells(ws, width: int, totals: dict, label: str = "Total", label_column: int = 0) -> list:
    """A totals row of ``width`` columns: the label in bold, each total (column index ->
    amount, computed by the application, never a formula) in bold euros."""
    row = [None] * width
    row[label_column] = text_cell(ws, label, bold=True)
    for index, total in totals.items():
        row[index] = cell(ws, total, "money", bold=True)
    return row

"""The transmission form as an XLSX workbook (CPR art. 69 and annex XII fields).

Text cells are typed as strings (never a formula, whatever the text starts with: OWASP CSV
injection; ASVS 5.0 1.2.10; CHECKLIST §3), with the quote-prefix style on text starting
with = + - @ tab CR LF NUL, so the text reads as written, without a visible apostrophe.
Amounts are numeric cells (Decimal), never escaped, so negative values stay numbers; the
rate is a percentage cell. A4 portrait, one page wide, a footer with the page and the
operation (``kernel.sheet_layout``)."""
import io
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from ..kernel.formatting import format_day, today_in_paris
from ..kernel.sheet_layout import freeze_below, print_layout
from ..kernel.spreadsheet import is_dangerous, xlsx_text
from . import transmission
from .suspicions import LINE_TYPE_LABELS

MONEY_FORMAT = '#,##0.00 "€"'
PERCENT_FORMAT = "0.00%"


def _put(ws, row: int, column: int, value, money: bool = False):
    cell = ws.cell(row=row, column=column)
    if value is None:
        return cell
    if isinstance(value, Decimal) or isinstance(value, int) and not isinstance(value, bool):
        cell.value = value
        if money:
            cell.number_format = MONEY_FORMAT
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = "DD/MM/YYYY"
    else:
        text = xlsx_text(str(value))
        cell.value = text
        cell.data_type = "s"  # never a formula, whatever the text
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if is_dangerous(text):
            cell.quotePrefix = True
    return cell


def transmission_workbook(alert) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Fiche de transmission")[:31]
    code = alert.operation.code if alert.operation is not None else alert.reference
    issued = _("Émise le %(day)s", day=format_day(today_in_paris()))
    _put(sheet, 1, 1, _("Fiche de transmission d'une irrégularité présumée")).font = Font(bold=True, size=13)
    _put(sheet, 2, 1, f"{alert.reference} · {issued}")
    row = 3
    for label, value, kind in transmission.transmission_rows(alert):
        _put(sheet, row, 1, label).font = Font(bold=True)
        if kind == "percent" and value is not None:
            _put(sheet, row, 2, value / 100).number_format = PERCENT_FORMAT  # a rate cell, not "60 %" text
        else:
            _put(sheet, row, 2, value, money=kind == "money")
        row += 1
    sheet.column_dimensions["A"].width = 38
    sheet.column_dimensions["B"].width = 70
    print_layout(sheet, code, landscape=False)

    lines = workbook.create_sheet(_("Lignes concernées")[:31])
    _put(lines, 1, 1, _("Lignes concernées")).font = Font(bold=True, size=12)
    _put(lines, 2, 1, f"{alert.reference} · {issued}")
    for column, title in enumerate((_("Type"), _("N°"), _("Libellé"), _("Montant")), start=1):
        _put(lines, 4, column, title).font = Font(bold=True)
    freeze_below(lines, 4)
    print_layout(lines, code, landscape=False, header_row=4)
    total = Decimal("0.00")
    row = 5
    for line in transmission.transmission_lines(alert):
        _put(lines, row, 1, _(LINE_TYPE_LABELS[line.line_type]))
        _put(lines, row, 2, line.id)
        _put(lines, row, 3, line.label)
        _put(lines, row, 4, line.amount, money=True)
        total += line.amount or Decimal("0.00")
        row += 1
    lines.auto_filter.ref = f"A4:D{max(row - 1, 5)}"
    if row == 5:
        _put(lines, row, 1, _("Aucune ligne concernée"))
        row += 1
    _put(lines, row, 3, _("Total")).font = Font(bold=True)
    _put(lines, row, 4, total, money=True).font = Font(bold=True)
    lines.column_dimensions["A"].width = 18
    lines.column_dimensions["C"].width = 60
    lines.column_dimensions["D"].width = 16

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

"""The transmission form as an XLSX workbook (CPR art. 69 and annex XII fields).

Text cells are typed as strings and a leading = + - @ tab CR LF NUL gets a quote, so no
text can ever become a formula (OWASP CSV injection; ASVS 5.0 1.2.10; CHECKLIST §3).
Amounts are numeric cells (Decimal), never escaped, so negative values stay numbers."""
import io
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from ..kernel.spreadsheet import escape_text
from . import transmission
from .suspicions import LINE_TYPE_LABELS

MONEY_FORMAT = '#,##0.00 "€"'


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
        cell.value = escape_text(str(value))
        cell.data_type = "s"  # never a formula, whatever the text
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    return cell


def transmission_workbook(alert) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Fiche de transmission")[:31]
    _put(sheet, 1, 1, _("Fiche de transmission d'une irrégularité présumée")).font = Font(bold=True, size=13)
    row = 3
    for label, value, kind in transmission.transmission_rows(alert):
        _put(sheet, row, 1, label).font = Font(bold=True)
        cell = _put(sheet, row, 2, value, money=kind == "money")
        if kind == "percent" and value is not None:
            cell.number_format = '0.00" %"'
        row += 1
    sheet.column_dimensions["A"].width = 45
    sheet.column_dimensions["B"].width = 80

    lines = workbook.create_sheet(_("Lignes concernées")[:31])
    for column, title in enumerate((_("Type"), _("N°"), _("Libellé"), _("Montant")), start=1):
        _put(lines, 1, column, title).font = Font(bold=True)
    total = Decimal("0.00")
    row = 2
    for line in transmission.transmission_lines(alert):
        _put(lines, row, 1, _(LINE_TYPE_LABELS[line.line_type]))
        _put(lines, row, 2, line.id)
        _put(lines, row, 3, line.label)
        _put(lines, row, 4, line.amount, money=True)
        total += line.amount or Decimal("0.00")
        row += 1
    _put(lines, row, 3, _("Total")).font = Font(bold=True)
    _put(lines, row, 4, total, money=True).font = Font(bold=True)
    lines.column_dimensions["C"].width = 60
    lines.column_dimensions["D"].width = 16

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

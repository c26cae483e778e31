"""The transmission form as an XLSX workbook (CPR art. 69 and annex XII fields).

Written with the kernel's one spreadsheet writer (``kernel.sheet_writer``), like the
bilans: text cells typed as strings (never a formula, whatever the text starts with: OWASP
CSV injection; ASVS 5.0 1.2.10; CHECKLIST §3), with the quote-prefix style on text starting
with = + - @ tab CR LF NUL, so the text reads as written, without a visible apostrophe.
Amounts are numeric cells (Decimal), never escaped, so negative values stay numbers; the
rate is a percentage cell. A4 portrait, one page wide, a footer with the page and the
operation (``kernel.sheet_layout``)."""
import io

from flask_babel import gettext as _

from ..kernel.formatting import format_day, today_in_paris
from ..kernel.memory import load_openpyxl
from ..kernel.money import ZERO
from ..kernel.sheet_layout import freeze_below, print_layout
from ..kernel.sheet_writer import cell, header_cells, row_cells, text_cell, title_block, totals_cells
from . import transmission
from .suspicions import LINE_TYPE_LABELS

LINE_KINDS = ("text", "plain", "text", "money")  # type, number, label, amount
HEADER_ROW = 4


def transmission_workbook(alert) -> bytes:
    load_openpyxl()
    from openpyxl import Workbook  # openpyxl when a form is written, not at start

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Fiche de transmission")[:31]
    code = alert.operation.code if alert.operation is not None else alert.reference
    issued = _("Émise le %(day)s", day=format_day(today_in_paris()))
    title_block(sheet, _("Fiche de transmission d'une irrégularité présumée"), f"{alert.reference} · {issued}",
                size=13, blank=False)
    for label, value, kind in transmission.transmission_rows(alert):
        if kind == "percent" and value is not None:
            value = value / 100  # a rate cell, not "60 %" text
        elif kind not in ("money", "percent"):
            kind = None  # text, a date or a plain number, as the value is
        sheet.append([text_cell(sheet, label, bold=True, wrap=True), cell(sheet, value, kind, wrap=True)])
    sheet.column_dimensions["A"].width = 38
    sheet.column_dimensions["B"].width = 70
    print_layout(sheet, code, landscape=False)

    lines = workbook.create_sheet(_("Lignes concernées")[:31])
    title_block(lines, _("Lignes concernées"), f"{alert.reference} · {issued}")
    lines.append(header_cells(lines, (_("Type"), _("N°"), _("Libellé"), _("Montant")), wrap=False))
    freeze_below(lines, HEADER_ROW)
    print_layout(lines, code, landscape=False, header_row=HEADER_ROW)
    total = ZERO
    count = 0
    for line in transmission.transmission_lines(alert):
        lines.append(row_cells(lines, LINE_KINDS, (_(LINE_TYPE_LABELS[line.line_type]), line.id, line.label,
                                                   line.amount), wrap=True))
        total += line.amount or ZERO
        count += 1
    lines.auto_filter.ref = f"A{HEADER_ROW}:D{HEADER_ROW + max(count, 1)}"
    if not count:
        lines.append([text_cell(lines, _("Aucune ligne concernée"), wrap=True)])
    lines.append(totals_cells(lines, 4, {3: total}, _("Total"), label_column=2))
    lines.column_dimensions["A"].width = 18
    lines.column_dimensions["C"].width = 60
    lines.column_dimensions["D"].width = 16

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

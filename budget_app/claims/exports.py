"""The claim as a spreadsheet (XLSX) and its lines as CSV: the document a finance officer
reads, checks and copies from (primer §8), so it is in French and exact.

- amounts are numeric cells with a euro format, dates are date cells, rates are
  percentage cells (never text);
- a text cell starting with = + - @ tab CR LF or NUL is written as a typed string with the
  quote-prefix style, so no spreadsheet runs it (XLSX); in CSV it gets a leading
  apostrophe (OWASP). Numbers are never touched, so a negative credit note stays a number;
- the line sheets are streamed (write-only workbook, rows read in batches): memory stays flat;
- cells, title block, header and totals rows and number formats are the kernel's one
  spreadsheet writer (``kernel.sheet_writer``), shared with the alert transmission form;
- every sheet has the title block (operation, beneficiary, period, state, date of issue),
  prints on A4 one page wide with the header repeated and a footer (``kernel.sheet_layout``);
  line sheets have a frozen header, an autofilter and a totals row equal to the
  Récapitulatif's figures (numbers, never a formula);
- the CSV has one row per cost line, the control decision on the same row; every field
  quoted, a formula neutralised at the start of a field and after any separator in it;
- control characters are replaced in every text (``kernel.text.clean_output``).
"""
import csv
import io
import re


from ..kernel.formatting import decimal_text, format_day
from ..kernel.memory import load_openpyxl
from ..kernel.money import ZERO
from ..kernel.sheet_layout import freeze_below, print_layout
from ..kernel.sheet_writer import (
    DATA_TYPES,
    FORMATS,
    cell,
    header_cells,
    text_cell,
    title_block,
    totals_cells,
)
from ..kernel.spreadsheet import DANGEROUS, csv_text, xlsx_text
from . import participant_indicators as indicator_columns
from .unit_report import UNIT_COLUMNS, UNIT_TOTALS, has_units, unit_rows
from .report import (
    ASKED_LABEL,
    TOTAL_LABEL,
    ClaimReport,
    controlled,
    csf_rows,
    expense_rows,
    line_rows,
    resource_rows,
    staff_rows,
    summary_rows,
    title_lines,
)

EMPTY_SHEET = "Aucune ligne pour cette période"
TITLE_ROWS = 3  # title, subtitle, blank: the header row is the 4th
HEADER_ROW = TITLE_ROWS + 1

EXPENSE_COLUMNS = [
    ("Poste", "text", 30), ("Description", "text", 40), ("Fournisseur (émetteur)", "text", 26),
    ("SIRET", "text", 15), ("N° de pièce", "text", 13), ("Date de la pièce", "date", 12),
    ("Date d'acquittement", "date", 13), ("Montant HT", "money", 13), ("TVA", "money", 11),
    ("Montant TTC", "money", 13), ("Clé de répartition", "percent", 10), ("Montant éligible", "money", 13),
    ("Montant présenté", "money", 13), ("Motif d'exclusion", "text", 30),
    # Partial VAT recovery: the pro-rata applied to the line's VAT (expenses.vat), else empty.
    ("Prorata de TVA", "percent", 10),
]
STAFF_COLUMNS = [
    ("Matricule", "text", 11), ("Personne", "text", 24), ("Fonction", "text", 26), ("Mois", "month", 9),
    ("Méthode", "text", 22), ("Heures sur l'opération", "number", 10), ("Taux horaire", "money", 11),
    ("Coût mensuel brut", "money", 13), ("Temps fixe", "percent", 9), ("Montant éligible", "money", 13),
    ("Montant présenté", "money", 13), ("Calcul", "text", 40), ("Motif d'exclusion", "text", 26),
]
CSF_COLUMNS = [
    ("N°", "number", 6), ("Type", "text", 10), ("Poste", "text", 28), ("Référence", "text", 28),
    ("Description", "text", 38), ("Date", "date", 11), ("Montant déclaré", "money", 13),
    ("Décision", "text", 11), ("Montant retenu", "money", 13), ("Montant écarté", "money", 13),
    ("Motif", "text", 30), ("Commentaire", "text", 36),
]
RESOURCE_COLUMNS = [("Ressource", "text", 50), ("Plan de financement", "money", 18), ("Cette période", "money", 18)]
# Amount columns summed on the totals row of each line sheet (equal to the Récapitulatif).
EXPENSE_TOTALS = ("Montant présenté",)
STAFF_TOTALS = ("Montant présenté",)
CSF_TOTALS = ("Montant déclaré", "Montant retenu", "Montant écarté")

CSV_HEADER = [
    "N°", "Type", "Poste", "Description", "Fournisseur ou personne", "Référence", "Date", "Date d'acquittement",
    "Montant éligible", "Montant présenté", "Motif d'exclusion", "Décision CSF", "Montant retenu",
    "Montant écarté", "Motif CSF", "Commentaire CSF",
]
# CSV dialects: French spreadsheets (";", decimal comma, dd/mm/yyyy) or an English Excel
# ("," and a decimal point, ISO dates, which no locale reads the wrong way round).
CSV_DIALECTS = {
    "fr": {"delimiter": ";", "decimal": ",", "locale": "fr"},
    "excel-en": {"delimiter": ",", "decimal": ".", "locale": "en"},
}


# Bold Calibri 11 is about 1.2 character widths per character; a line is about 15 points.
BOLD_FACTOR, HEADER_LINE_POINTS = 1.2, 15


def header_width(title: str, width: float) -> float:
    """The column's width, widened so that the header's longest word fits on one line."""
    return max(width, round(max(len(word) for word in title.split()) * BOLD_FACTOR + 1, 1))


def header_lines(title: str, width: float) -> int:
    """How many lines the header takes once wrapped at the column's width (greedy, by word)."""
    room, lines, used = width - 1, 1, 0.0
    for word in title.split():
        size = len(word) * BOLD_FACTOR
        if used and used + BOLD_FACTOR + size > room:
            lines, used = lines + 1, size
        else:
            used += (BOLD_FACTOR if used else 0) + size
    return lines


class _Raw(tuple):
    """A row of ready-made cells (title block, note, totals), written as they are."""


class _Line(tuple):
    """A line's values, written by ``_Sheet._write_row``."""


def _escape(text: str) -> str:
    """Character data as ElementTree (and so et_xmlfile) escapes it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _title_block(ws, report: ClaimReport):
    """Rows 1-3 of every sheet: title, subtitle (beneficiary, period, state, issue date), blank."""
    title_block(ws, *title_lines(report))


class _Sheet:
    """A write-only line sheet whose columns each have a kind. One styled cell per column is
    reused for every row: openpyxl writes a row as soon as it is appended, and its own
    per-value path (try to bind, catch ValueError for a Cell, make a new cell after a styled
    one, as ``kernel.sheet_writer.row_cells`` does) costs more than the XML itself.

    This is the one place that replaces openpyxl's private ``_values_to_row`` (the hook
    its write-only sheet calls for each appended row): the public path (``row_cells``)
    took 1.8 times as long as this one to write 10 000 lines of the expense sheet (measured
    when issue 20 was closed). tests/claims/test_exports.py fails if openpyxl changes the hook's name or
    signature or if the two paths stop writing the same XML; openpyxl is pinned < 3.2 in
    pyproject.toml.

    Rows 1-3 are the title block, row 4 the header (frozen, repeated on every printed page,
    with an autofilter down to the last line); ``close`` writes the note of an empty sheet
    and the totals row."""

    def __init__(self, workbook, title, columns, report: ClaimReport, totals=()):
        self.ws = workbook.create_sheet(title)
        self.kinds = [kind for _, kind, _ in columns]
        self.totals = {index: ZERO for index, (name, _, _) in enumerate(columns) if name in totals}
        self.count = 0
        widths = [header_width(name, width) for name, _, width in columns]
        for index, width in enumerate(widths):
            self.ws.column_dimensions[_letter(index)].width = width
        # Every header whole in print (issue 22): its longest word fits its column, and the
        # row is as high as its most wrapped title.
        self.ws.row_dimensions[HEADER_ROW].height = HEADER_LINE_POINTS * max(
            header_lines(name, width) for (name, _, _), width in zip(columns, widths))
        freeze_below(self.ws, HEADER_ROW)
        print_layout(self.ws, report.operation.code, landscape=True, header_row=HEADER_ROW)
        _title_block(self.ws, report)
        self.ws.append(header_cells(self.ws, [title_text for title_text, _, _ in columns]))
        self.cells = [self._template(kind, column) for column, kind in enumerate(self.kinds, 1)]
        self.quoted = [self._template("text", column, quoted=True) for column in range(1, len(self.kinds) + 1)]
        self.hook()

    def hook(self):
        """Rows below are built here (see the class docstring); with openpyxl's own XML
        writer (et_xmlfile, no lxml), a line's XML is written as one string (``_row_xml``)."""
        self.ws._values_to_row = self._cells
        self.ws._get_writer()
        writer = self.ws._writer
        self.write_row, writer.write_row = writer.write_row, self._write_row
        self.letters = [_letter(index) for index in range(len(self.kinds))]
        self.styles = {}
        # openpyxl when a sheet is written, not when a command starts (bench/bench_start.py)
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
        from openpyxl.compat import safe_string
        from openpyxl.utils.datetime import to_excel

        self.illegal, self.safe_string, self.to_excel = ILLEGAL_CHARACTERS_RE, safe_string, to_excel

    def _template(self, kind, column, quoted=False):
        from openpyxl.cell import WriteOnlyCell  # openpyxl when a sheet is written, not at start

        template = WriteOnlyCell(self.ws)
        template.column = column
        if kind in FORMATS:
            template.number_format = FORMATS[kind]
        elif quoted:
            template.quotePrefix = True
        # Amounts, rates and hours are Decimal, dates are date: typed once per column.
        template.data_type = DATA_TYPES.get(kind, "s")
        return template

    def _cells(self, values, row_index):
        if isinstance(values, _Raw):
            return self._ready(values, row_index)
        return _Line(values)

    @staticmethod
    def _ready(values, row_index):
        for column, ready in enumerate(values, 1):
            if ready is not None and ready.value is not None:
                ready.column, ready.row = column, row_index
                yield ready

    def _reused(self, values, row_index):
        for index, value in enumerate(values):
            if value is None:
                continue
            if self.kinds[index] == "text":
                text = xlsx_text(str(value))
                reused = self.quoted[index] if text.startswith(DANGEROUS) else self.cells[index]
                reused.value = text  # openpyxl's checks (illegal characters) apply
                reused.data_type = "s"  # never a formula, whatever the text starts with
            else:
                reused = self.cells[index]
                reused._value = value
            reused.row = row_index
            yield reused

    def _write_row(self, xf, row, row_index):
        if isinstance(row, _Line):
            raw = getattr(xf, "_file", None)  # et_xmlfile's writer; lxml's has no such method
            xml = self._row_xml(row, row_index) if raw is not None else None
            if xml is not None:
                raw(xml)
                return
            row = self._reused(row, row_index)
        self.write_row(xf, row, row_index)

    def _style(self, template) -> str:
        """The `` s="…"`` attribute of a template's cells, registered at its first use (the
        order openpyxl registers styles in, so styles.xml is the same)."""
        if id(template) not in self.styles:
            self.styles[id(template)] = f' s="{template.style_id}"' if template.has_style else ""
        return self.styles[id(template)]

    def _row_xml(self, values, row_index):
        """The line as openpyxl writes it (inline strings, numbers, dates as serial numbers),
        or None where only openpyxl's path says it right (a row height, an empty or
        illegal text): tests/claims/test_exports.py compares both, byte for byte."""
        if row_index in self.ws.row_dimensions:
            return None
        parts = [f'<row r="{row_index}">']
        for index, value in enumerate(values):
            if value is None:
                continue
            where = f"{self.letters[index]}{row_index}"
            if self.kinds[index] == "text":
                text = xlsx_text(str(value))
                if not text or self.illegal.search(text) or len(text) > 32767:
                    return None
                template = self.quoted[index] if text.startswith(DANGEROUS) else self.cells[index]
                space = ' xml:space="preserve"' if text.strip() != text and text.strip() else ""
                parts.append(f'<c r="{where}"{self._style(template)} t="inlineStr"><is><t{space}>'
                             f'{_escape(text)}</t></is></c>')
                continue
            template = self.cells[index]
            if template.data_type == "d":
                if self.ws.parent.iso_dates:
                    return None
                value = self.to_excel(value, self.ws.parent.epoch)
            parts.append(f'<c r="{where}"{self._style(template)} t="n"><v>{_escape(self.safe_string(value))}</v></c>')
        parts.append("</row>")
        return "".join(parts)

    def append(self, values):
        self.count += 1
        for index in self.totals:
            if values[index] is not None:
                self.totals[index] += values[index]
        self.ws.append(values)

    def close(self, label="Total"):
        """The note of an empty sheet, the autofilter over the lines, the totals row."""
        if not self.count:
            self.ws.append(_Raw([text_cell(self.ws, EMPTY_SHEET)]))
        last = HEADER_ROW + max(self.count, 1)
        self.ws.auto_filter.ref = f"A{HEADER_ROW}:{_letter(len(self.kinds) - 1)}{last}"
        if self.totals:
            self.ws.append(_Raw(totals_cells(self.ws, len(self.kinds), self.totals, label)))


def _letter(index):
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def write_xlsx(report: ClaimReport, target) -> None:
    """Write the workbook to a path or a binary file object."""
    load_openpyxl()
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    summary = workbook.create_sheet("Récapitulatif")
    summary.column_dimensions["A"].width = 64
    summary.column_dimensions["B"].width = 40
    print_layout(summary, report.operation.code, landscape=False, one_page=True)
    _title_block(summary, report)
    for label, value, kind in summary_rows(report):
        row = [_summary_cell(summary, label, "label")]
        if value is not None:
            row.append(_summary_cell(summary, value, kind))
        summary.append(row)

    expenses = _Sheet(workbook, "Dépenses", EXPENSE_COLUMNS, report, EXPENSE_TOTALS)
    for values in expense_rows(report):
        expenses.append(values)
    expenses.close()
    staff = _Sheet(workbook, "Personnel", STAFF_COLUMNS, report, STAFF_TOTALS)
    for values in staff_rows(report):
        staff.append(values)
    staff.close()
    if has_units(report):
        units = _Sheet(workbook, "Coûts unitaires et forfaits", UNIT_COLUMNS, report, UNIT_TOTALS)
        for values in unit_rows(report):
            units.append(values)
        units.close()
    resources = _Sheet(workbook, "Ressources", RESOURCE_COLUMNS, report)
    for values in resource_rows(report):
        resources.append(values)
    resources.close()
    indicators = _Sheet(workbook, "Participants", indicator_columns.XLSX_COLUMNS, report)
    for values in indicator_columns.report_indicator_rows(report):
        indicators.append(values)
    indicators.close()
    if controlled(report):
        control = _Sheet(workbook, "Contrôle", CSF_COLUMNS, report, CSF_TOTALS)
        for values in csf_rows(report):
            control.append(values)
        control.close()
    workbook.save(target)


def _summary_cell(ws, value, kind):
    if kind in ("label", "header") and value is not None:
        return text_cell(ws, value, bold=kind == "header" or value in (TOTAL_LABEL, ASKED_LABEL))
    return cell(ws, value, kind)


def write_csv(report: ClaimReport, stream, dialect: str = "fr") -> None:
    """One row per cost line, every field quoted, the control decision on the line's row:
    summing "Montant présenté" counts each line once. ``fr``: ';', decimal comma,
    dd/mm/yyyy; ``excel-en``: ',', decimal point, ISO dates. UTF-8 with BOM."""
    spec = CSV_DIALECTS[dialect]
    stream.write("\ufeff")
    writer = csv.writer(stream, delimiter=spec["delimiter"], quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)

    def text(value):
        return "" if value is None else csv_text(str(value))

    def amount(value):
        return decimal_text(value, places=2).replace(",", spec["decimal"])

    def day(value):
        return format_day(value, spec["locale"])

    for (position, kind, category, description, party, reference, incurred, paid, eligible, presented, left_out,
         decision, retained, rejected, csf_reason, comment) in line_rows(report):
        writer.writerow([
            "" if position is None else str(position), kind, text(category), text(description), text(party),
            text(reference), day(incurred), day(paid), amount(eligible), amount(presented), text(left_out),
            text(decision), amount(retained), amount(rejected), text(csf_reason), text(comment),
        ])


def csv_bytes(report: ClaimReport, dialect: str = "fr") -> bytes:
    buffer = io.StringIO()
    write_csv(report, buffer, dialect)
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(report: ClaimReport) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(report, buffer)
    return buffer.getvalue()


def export_filename(report: ClaimReport, extension: str) -> str:
    number = f"-bilan-{report.claim.number}" if report.claim else "-etat-recapitulatif"
    code = re.sub(r"[^A-Za-z0-9_-]", "_", report.operation.code)  # a header value, never a path
    return f"{code}{number}-{report.start:%Y%m%d}-{report.end:%Y%m%d}.{extension}"

"""The claim as a spreadsheet (XLSX) and its lines as CSV: the document a finance officer
reads, checks and copies from (primer §8), so it is in French and exact.

- amounts are numeric cells with a euro format, dates are date cells, rates are
  percentage cells (never text);
- a text cell starting with = + - @ tab CR LF or NUL is written as a typed string with the
  quote-prefix style, so no spreadsheet runs it (XLSX); in CSV it gets a leading
  apostrophe (OWASP). Numbers are never touched, so a negative credit note stays a number;
- the line sheets are streamed (write-only workbook, rows read in batches): memory stays flat.
"""
import csv
import io
import re

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ..kernel.formatting import decimal_text
from ..kernel.spreadsheet import DANGEROUS, escape_text
from ..operations.models import COST_CATEGORIES
from .report import (
    ASKED_LABEL,
    TOTAL_LABEL,
    ClaimReport,
    csf_rows,
    expense_rows,
    resource_rows,
    staff_rows,
    summary_rows,
)

EURO_FORMAT = '#,##0.00\\ "€";\\-#,##0.00\\ "€"'
DATE_FORMAT = "DD/MM/YYYY"
PERCENT_FORMAT = "0.00%"

EXPENSE_COLUMNS = [
    ("Poste", "text", 34), ("Description", "text", 40), ("Fournisseur (émetteur)", "text", 28),
    ("SIRET", "text", 16), ("N° de pièce", "text", 14), ("Date de la pièce", "date", 12),
    ("Date d'acquittement", "date", 12), ("Montant HT", "money", 14), ("TVA", "money", 12),
    ("Montant TTC", "money", 14), ("Clé de répartition", "percent", 10), ("Montant éligible", "money", 14),
    ("Montant présenté", "money", 14), ("Motif d'exclusion", "text", 36),
]
STAFF_COLUMNS = [
    ("Matricule", "text", 12), ("Personne", "text", 26), ("Fonction", "text", 28), ("Mois", "date", 12),
    ("Méthode", "text", 26), ("Heures sur l'opération", "number", 12), ("Taux horaire", "money", 12),
    ("Coût mensuel brut", "money", 14), ("Temps fixe", "percent", 10), ("Montant éligible", "money", 14), ("Montant présenté", "money", 14),
    ("Calcul", "text", 44), ("Motif d'exclusion", "text", 30),
]
CSF_COLUMNS = [
    ("N°", "number", 6), ("Type", "text", 10), ("Poste", "text", 30), ("Référence", "text", 30),
    ("Description", "text", 40), ("Date", "date", 12), ("Montant déclaré", "money", 14),
    ("Décision", "text", 12), ("Montant retenu", "money", 14), ("Montant écarté", "money", 14),
    ("Motif", "text", 34), ("Commentaire", "text", 40),
]
CSV_HEADER = [
    "Type", "Poste", "Description", "Fournisseur ou personne", "Référence", "Date", "Date d'acquittement",
    "Montant éligible", "Montant présenté", "Motif d'exclusion", "Décision CSF", "Montant retenu", "Motif CSF",
    "Commentaire CSF",
]


class _Sheet:
    """A write-only sheet whose columns each have a kind. One styled cell per column is
    reused for every row: openpyxl writes a row as soon as it is appended, and its own
    per-value path (try to bind, catch ValueError for a Cell, make a new cell after a styled
    one) costs more than the XML itself. openpyxl is pinned < 3.2 in pyproject.toml."""

    def __init__(self, workbook, title, columns):
        self.ws = workbook.create_sheet(title)
        self.kinds = [kind for _, kind, _ in columns]
        for index, (_, _, width) in enumerate(columns):
            self.ws.column_dimensions[_letter(index)].width = width
        header = []
        for title_text, _, _ in columns:
            cell = WriteOnlyCell(self.ws, value=title_text)
            cell.data_type = "s"
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            header.append(cell)
        self.ws.append(header)
        self.cells = [self._template(kind, column) for column, kind in enumerate(self.kinds, 1)]
        self.quoted = [self._template("text", column, quoted=True) for column in range(1, len(self.kinds) + 1)]
        self.ws._values_to_row = self._cells  # rows below are built here (see the class docstring)

    def _template(self, kind, column, quoted=False):
        cell = WriteOnlyCell(self.ws)
        cell.column = column
        if kind == "money":
            cell.number_format = EURO_FORMAT
        elif kind == "date":
            cell.number_format = DATE_FORMAT
        elif kind == "percent":
            cell.number_format = PERCENT_FORMAT
        elif kind == "number":
            cell.number_format = "0.##"
        elif quoted:
            cell.quotePrefix = True
        # Amounts, rates and hours are Decimal, dates are date: typed once per column.
        cell.data_type = {"money": "n", "percent": "n", "number": "n", "date": "d"}.get(kind, "s")
        return cell

    def _cells(self, values, row_index):
        for index, value in enumerate(values):
            if value is None:
                continue
            if self.kinds[index] == "text":
                text = str(value)
                cell = self.quoted[index] if text.startswith(DANGEROUS) else self.cells[index]
                cell.value = text  # openpyxl's checks (illegal characters) apply
                cell.data_type = "s"  # never a formula, whatever the text starts with
            else:
                cell = self.cells[index]
                cell._value = value
            cell.row = row_index
            yield cell

    def append(self, values):
        self.ws.append(values)


def _letter(index):
    return get_column_letter(index + 1)


def write_xlsx(report: ClaimReport, target) -> None:
    """Write the workbook to a path or a binary file object."""
    workbook = Workbook(write_only=True)
    summary = workbook.create_sheet("Récapitulatif")
    summary.column_dimensions["A"].width = 70
    summary.column_dimensions["B"].width = 44
    templates = {}
    for kind, fmt in (("money", EURO_FORMAT), ("date", DATE_FORMAT), ("percent", PERCENT_FORMAT), ("number", "0")):
        templates[kind] = fmt
    for label, value, kind in summary_rows(report):
        row = [_summary_cell(summary, label, "label")]
        if value is not None:
            row.append(_summary_cell(summary, value, kind, templates.get(kind)))
        summary.append(row)

    expenses = _Sheet(workbook, "Dépenses", EXPENSE_COLUMNS)
    for values in expense_rows(report):
        expenses.append(values)
    staff = _Sheet(workbook, "Personnel", STAFF_COLUMNS)
    for values in staff_rows(report):
        staff.append(values)
    resources = _Sheet(workbook, "Ressources", [("Ressource", "text", 50), ("Plan de financement", "money", 18),
                                                ("Demande", "money", 18)])
    for values in resource_rows(report):
        resources.append(values)
    if report.claim is not None and report.claim.state in ("controlled", "paid"):
        control = _Sheet(workbook, "Contrôle", CSF_COLUMNS)
        for values in csf_rows(report):
            control.append(values)
    workbook.save(target)


def _summary_cell(ws, value, kind, number_format=None):
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
        if value.startswith(DANGEROUS):
            cell.quotePrefix = True
    if kind in ("label", "header") and value is not None:
        cell.font = Font(bold=kind == "header" or value in (TOTAL_LABEL, ASKED_LABEL))
    if number_format:
        cell.number_format = number_format
    return cell


def _csv_amount(value):
    return decimal_text(value, places=2)


def _csv_day(value):
    return "" if value is None else value.strftime("%d/%m/%Y")


def write_csv(report: ClaimReport, stream) -> None:
    """The claim's lines: ';' separator, UTF-8 with BOM, decimal comma (French spreadsheets)."""
    stream.write("\ufeff")
    writer = csv.writer(stream, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    def text(value):
        return "" if value is None else escape_text(str(value))

    for row in expense_rows(report):
        (category, label, supplier, siret, number, incurred, paid, excl, vat, incl, key, eligible, presented,
         reason) = row
        writer.writerow([
            "Dépense", text(category), text(label), text(supplier), text(number), _csv_day(incurred), _csv_day(paid),
            _csv_amount(eligible), _csv_amount(presented), text(reason), "", "", "", "",
        ])
    for row in staff_rows(report):
        (number, person, function, month, method, hours, rate, monthly, fixed, eligible, presented, computation,
         reason) = row
        writer.writerow([
            "Personnel", text(COST_CATEGORIES["PERSONNEL"]), text(computation), text(person), text(number),
            _csv_day(month), "", _csv_amount(eligible), _csv_amount(presented),
            text(reason), "", "", "", "",
        ])
    if report.claim is not None and report.claim.state in ("controlled", "paid"):
        for row in csf_rows(report):
            (position, kind, category, reference, description, day, declared, decision, retained, _gap, reason,
             comment) = row
            writer.writerow([
                "Contrôle", text(category), text(description), "", text(reference), _csv_day(day), "",
                _csv_amount(declared), _csv_amount(declared), "", text(decision), _csv_amount(retained), text(reason),
                text(comment),
            ])


def csv_bytes(report: ClaimReport) -> bytes:
    buffer = io.StringIO()
    write_csv(report, buffer)
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(report: ClaimReport) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(report, buffer)
    return buffer.getvalue()


def export_filename(report: ClaimReport, extension: str) -> str:
    number = f"-demande-{report.claim.number}" if report.claim else ""
    code = re.sub(r"[^A-Za-z0-9_-]", "_", report.operation.code)  # a header value, never a path
    return f"{code}{number}-{report.start:%Y%m%d}-{report.end:%Y%m%d}.{extension}"

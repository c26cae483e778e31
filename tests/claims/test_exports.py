"""XLSX read back with openpyxl, CSV parsed back: numbers, dates, escaping, totals."""
import csv
import io
import zipfile
from datetime import date, datetime
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook

from budget_app.claims import control, exports, lifecycle
from budget_app.claims.exports import HEADER_ROW
from budget_app.claims.report import (
    ALREADY_LABEL,
    ASKED_LABEL,
    RATE_LABEL,
    REMAINING_LABEL,
    TOTAL_LABEL,
    build_report,
)
from budget_app.kernel.extensions import db
from tests.expenses.factories import make_expense
from tests.staff.factories import make_staff_line

JANUARY = (date(2023, 1, 1), date(2023, 1, 31))
PAYLOADS = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.fixture
def january_lines(claims_world):
    operation = claims_world["operation"]
    make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00"))
    make_staff_line(operation, "4400.00", hours=D("137.5"), rate=D("32.00"), name="Durand")
    return claims_world


def lines_of(sheet, values_only=False):
    """The line rows of a line sheet: below the header (row 4), above the totals row."""
    rows = list(sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=values_only))
    return rows[:-1]


def _summary(workbook):
    sheet = workbook["Récapitulatif"]
    return {row[0].value: row[1].value if len(row) > 1 else None for row in sheet.iter_rows() if row[0].value}


def test_recapitulatif_of_the_primer_month(january_lines):
    report = build_report(january_lines["operation"], *JANUARY)
    workbook = load_workbook(io.BytesIO(exports.xlsx_bytes(report)))
    assert workbook.sheetnames == ["Récapitulatif", "Dépenses", "Personnel", "Ressources", "Participants"]
    summary = _summary(workbook)
    assert summary["Opération"] == "HL-RSA-2023"
    assert summary["Dépenses directes de personnel"] == pytest.approx(7280)
    assert summary[TOTAL_LABEL] == pytest.approx(8372)
    assert summary[ASKED_LABEL] == pytest.approx(5023.2)
    assert summary[ALREADY_LABEL] == 0
    assert summary[REMAINING_LABEL] == pytest.approx(495226.8)
    sheet = workbook["Récapitulatif"]
    cells = {row[0].value: row[1] for row in sheet.iter_rows() if row[0].value and len(row) > 1}
    assert cells[TOTAL_LABEL].data_type == "n" and "€" in cells[TOTAL_LABEL].number_format
    assert cells[RATE_LABEL].value == pytest.approx(0.6)
    assert cells[RATE_LABEL].number_format == "0.00%"
    assert cells["Début de la période"].is_date and cells["Début de la période"].value == datetime(2023, 1, 1)
    labels = [row[0].value for row in sheet.iter_rows()]
    flat_label = next(label for label in labels if label and label.startswith("Coûts indirects"))
    assert labels.index(TOTAL_LABEL) > labels.index(flat_label)
    for label in (RATE_LABEL, ASKED_LABEL, ALREADY_LABEL, REMAINING_LABEL):
        assert label in labels
    staff = lines_of(workbook["Personnel"], values_only=True)
    assert sorted(row[10] for row in staff) == [2880, 4400]


def test_amounts_dates_and_formula_escaping(claims_world):
    operation = claims_world["operation"]
    for index, payload in enumerate(PAYLOADS):
        make_expense(operation, f"{index + 1}.00", label=payload, supplier=payload)
    original = make_expense(operation, "500.00", incurred_on=date(2022, 12, 1))
    make_expense(operation, "-1.00", credit_note_of=original, label="-avoir")
    report = build_report(claims_world["operation"], *JANUARY)
    data = exports.xlsx_bytes(report)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                xml = archive.read(name).decode()
                assert "<f>" not in xml and 't="e"' not in xml
    workbook = load_workbook(io.BytesIO(data))
    rows = lines_of(workbook["Dépenses"])
    by_label = {row[1].value: row for row in rows}
    for payload in PAYLOADS:
        row = by_label.get(payload) or by_label[payload.replace("\r", "\n")]  # XML turns a lone CR into LF
        assert row[1].data_type == "s" and row[1].quotePrefix
        assert row[2].value == row[1].value and row[2].quotePrefix
    credit = by_label["-avoir"]
    assert credit[12].value == -1 and credit[12].data_type == "n"  # numbers untouched
    assert credit[5].is_date and credit[5].value == datetime(2023, 1, 10)
    assert credit[10].value == 1 and credit[10].number_format == "0.00%"
    assert "€" in credit[12].number_format
    total = sum(row[12].value or 0 for row in rows)
    assert D(str(total)).quantize(D("0.01")) == report.figures.total


def test_csv_separator_bom_decimal_comma_and_escaping(claims_world):
    operation = claims_world["operation"]
    make_expense(operation, "1234.56", label="=cmd|' /C calc'!A0")
    make_expense(operation, "2.00", paid_on=None, label="Non payée")
    report = build_report(claims_world["operation"], *JANUARY)
    raw = exports.csv_bytes(report)
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:2] == ["N°", "Type"]
    line = next(row for row in rows if "calc" in row[3])
    assert line[3] == "'=cmd|' /C calc'!A0"
    assert line[9] == "1234,56" and line[6] == "10/01/2023"
    unpaid = next(row for row in rows if row[3] == "Non payée")
    assert unpaid[9] == "" and unpaid[10] == "Non acquittée à la date du bilan"
    # Every field quoted, numbers included.
    body = raw.decode("utf-8-sig").splitlines()[1]
    assert body.startswith('"') and ';"1234,56";' in raw.decode("utf-8-sig")


def test_controlled_claim_has_a_control_sheet(january_lines):
    claim = lifecycle.create_draft(january_lines["operation"], *JANUARY)
    lifecycle.submit_claim(claim, today=date(2023, 2, 15))
    line = claim.lines.first()
    control.decide_line(claim, line, "excluded", january_lines["controller"], reason="other", comment="=1+1")
    control.finish_control(claim, january_lines["controller"])
    db.session.commit()
    report = build_report(january_lines["operation"], claim.period_start, claim.period_end, claim)
    workbook = load_workbook(io.BytesIO(exports.xlsx_bytes(report)))
    assert workbook.sheetnames == ["Récapitulatif", "Dépenses", "Personnel", "Ressources", "Participants", "Contrôle"]
    control_rows = lines_of(workbook["Contrôle"])
    excluded = next(row for row in control_rows if row[7].value == "Écartée")
    assert excluded[11].value == "=1+1" and excluded[11].data_type == "s"
    summary = _summary(workbook)
    assert summary["FSE+ dû"] == pytest.approx(float(claim.fse_due))
    assert summary["État"] == "Contrôlé"


# claims/exports.py replaces openpyxl's private ``_values_to_row`` for speed (see ``_Sheet``):
# these fail if openpyxl changes the hook or if it stops writing what the public path writes.
HOOK_ROWS = [
    ["FONCTIONNEMENT", "Fournitures", "=cmd|' /C calc'!A0", "12345678900011", "F1", date(2023, 1, 10),
     date(2023, 1, 20), D("1234.56"), D("0.00"), D("1234.56"), D("0.6"), D("740.74"), D("740.74"), None],
    ["PRESTATIONS", "+1+1", "-2+3", None, "@SUM(A1)", date(2023, 1, 31), None, D("-100.00"), D("-20.00"),
     D("-120.00"), D("1"), D("-120.00"), D("-120.00"), "Non acquittée"],
    ["  espacé ", "a & b <c> d > e", "", "x" * 300, "F\u00a02", date(2024, 2, 29), date(2024, 3, 1), D("0.01"),
     D("1000000.005"), D("1E+3"), D("0.333333333333333333"), D("-0"), D("12.5"), " "],
]


def test_openpyxl_still_calls_the_hook_the_claim_export_replaces():
    import inspect

    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    assert list(inspect.signature(WriteOnlyWorksheet._values_to_row).parameters) == ["self", "values", "row_idx"]
    assert "self._values_to_row(row, row_idx)" in inspect.getsource(WriteOnlyWorksheet._write_rows)


def _sheet_xml(fill) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    fill(workbook.create_sheet("Dépenses"))
    buffer = io.BytesIO()
    workbook.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        return archive.read("xl/worksheets/sheet1.xml") + archive.read("xl/styles.xml")


def test_the_hook_writes_what_the_public_path_writes():
    """The same rows through the replaced hook (``_Sheet``) and through openpyxl's public
    path (``kernel.sheet_writer.row_cells``): the same sheet and styles, byte for byte."""
    from budget_app.kernel.sheet_writer import row_cells

    kinds = [kind for _, kind, _ in exports.EXPENSE_COLUMNS]

    def hooked(ws):
        sheet = exports._Sheet.__new__(exports._Sheet)
        sheet.ws, sheet.kinds = ws, kinds
        sheet.cells = [sheet._template(kind, column) for column, kind in enumerate(kinds, 1)]
        sheet.quoted = [sheet._template("text", column, quoted=True) for column in range(1, len(kinds) + 1)]
        sheet.hook()
        sheet.write_row = lambda xf, row, row_index, openpyxl_row=sheet.write_row: (
            by_openpyxl.append(row_index), openpyxl_row(xf, row, row_index))
        for values in HOOK_ROWS:
            ws.append(values)

    def public(ws):
        for values in HOOK_ROWS:
            ws.append(row_cells(ws, kinds, values))

    by_openpyxl = []
    assert _sheet_xml(hooked) == _sheet_xml(public)
    # The lines went through the one-string path, but the one with an empty text (openpyxl's).
    assert by_openpyxl == [3]

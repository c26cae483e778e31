"""Send-ready XLSX and CSV: title block, print settings, frozen header, autofilter, totals
equal to the Récapitulatif, months mm/yyyy, empty sheets, resource labels; CSV one row
per line with the control decision on it; a two-line claim on at most 4 A4 pages where
LibreOffice is installed."""
import csv
import io
import shutil
import subprocess
from datetime import date
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook

from budget_app.claims import control, exports, lifecycle
from budget_app.claims.exports import EMPTY_SHEET, HEADER_ROW
from budget_app.claims.report import build_report
from budget_app.kernel.extensions import db
from budget_app.kernel.formatting import today_in_paris
from tests.expenses.factories import make_expense
from tests.staff.factories import make_staff_line

JANUARY = (date(2023, 1, 1), date(2023, 1, 31))
LINE_SHEETS = ("Dépenses", "Personnel", "Contrôle")


def _workbook(report):
    return load_workbook(io.BytesIO(exports.xlsx_bytes(report)))


def _summary(workbook):
    return {row[0]: row[1] for row in workbook["Récapitulatif"].iter_rows(values_only=True) if row and row[0]}


def _lines_and_total(sheet):
    rows = list(sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True))
    return rows[:-1], rows[-1]


def _controlled_claim(world, today=date(2023, 2, 15)):
    claim = lifecycle.create_draft(world["operation"], *JANUARY)
    lifecycle.submit_claim(claim, today=today)
    first, second = claim.lines.order_by("position").all()[:2]
    control.decide_line(claim, first, "reduced", world["controller"], amount=D("2000.00"), reason="staff_time",
                        comment="Heures non signées")
    control.finish_control(claim, world["controller"])
    db.session.commit()
    return claim


@pytest.fixture
def two_lines(claims_world):
    operation = claims_world["operation"]
    make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00"))
    make_staff_line(operation, "4400.00", hours=D("137.5"), rate=D("32.00"), name="Durand")
    return claims_world


def test_every_sheet_has_the_title_block_and_prints_on_a4_one_page_wide(two_lines):
    claim = _controlled_claim(two_lines)
    workbook = _workbook(build_report(two_lines["operation"], *JANUARY, claim))
    assert workbook.sheetnames == ["Récapitulatif", "Dépenses", "Personnel", "Ressources", "Participants", "Contrôle"]
    issued = today_in_paris().strftime("%d/%m/%Y")
    for sheet in workbook.worksheets:
        title, subtitle = sheet["A1"].value, sheet["A2"].value
        assert title.startswith("Bilan intermédiaire n° 1 — HL-RSA-2023 — Accompagnement"), sheet.title
        assert "Bénéficiaire : " in subtitle and "Période du 01/01/2023 au 31/01/2023" in subtitle
        assert "État : Contrôlé" in subtitle and f"Émis le {issued}" in subtitle
        setup = sheet.page_setup
        assert setup.paperSize == 9 and setup.fitToWidth == 1, sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
        assert sheet.oddFooter.left.text == "HL-RSA-2023"
        assert sheet.oddFooter.right.text == "Page &P / &N"
        if sheet.title == "Récapitulatif":
            assert setup.orientation == "portrait" and setup.fitToHeight == 1
            continue
        assert setup.orientation == "landscape" and setup.fitToHeight == 0
        assert sheet.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"  # header repeated on every page
        assert sheet.freeze_panes == f"A{HEADER_ROW + 1}"
        assert sheet.auto_filter.ref.startswith(f"A{HEADER_ROW}:")
        assert sheet.cell(HEADER_ROW, 1).font.b


def test_totals_rows_equal_the_recapitulatif(claims_world):
    operation = claims_world["operation"]
    make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00"))
    make_expense(operation, "100.00", label="Fournitures")
    original = make_expense(operation, "40.00", label="Location")
    make_expense(operation, "-15.00", credit_note_of=original, label="Avoir")
    report = build_report(operation, *JANUARY)
    workbook = _workbook(report)
    summary = _summary(workbook)
    expenses, expense_total = _lines_and_total(workbook["Dépenses"])
    assert expense_total[0] == "Total" and len(expenses) == 3
    assert D(str(expense_total[12])) == report.figures.categories["FONCTIONNEMENT"] == D("125.00")
    assert summary["Dépenses directes de fonctionnement"] == 125
    staff, staff_total = _lines_and_total(workbook["Personnel"])
    assert staff_total[0] == "Total" and staff_total[10] == summary["Dépenses directes de personnel"] == 2880
    # Columns A to O: the last one is the VAT pro-rata of partly recoverable lines (expenses.vat).
    assert workbook["Dépenses"].auto_filter.ref == f"A{HEADER_ROW}:O{HEADER_ROW + 3}"


def test_control_sheet_totals_and_csv_one_row_per_line(two_lines):
    claim = _controlled_claim(two_lines)
    report = build_report(two_lines["operation"], *JANUARY, claim)
    workbook = _workbook(report)
    lines, total = _lines_and_total(workbook["Contrôle"])
    assert len(lines) == 2
    reduced_line = claim.lines.filter_by(decision="reduced").one()
    rejected = reduced_line.declared_amount - D("2000.00")
    assert (total[6], total[8], total[9]) == (7280, 7280 - rejected, rejected)
    summary = _summary(workbook)
    assert summary["Total des dépenses retenues"] == pytest.approx(float(claim.total_retained))

    text = exports.csv_bytes(report).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert len(body) == 2  # one row per line, no extra "Contrôle" rows
    column = {name: index for index, name in enumerate(header)}
    presented = sum(D(row[column["Montant présenté"]].replace(",", ".")) for row in body)
    assert presented == claim.total_eligible - D("1092.00")  # the lines, without the flat rate
    reduced = next(row for row in body if row[column["Décision CSF"]] == "Réduite")
    assert reduced[column["N°"]] == str(reduced_line.position) and reduced[column["Montant retenu"]] == "2000,00"
    assert reduced[column["Montant écarté"]] == f"{rejected:.2f}".replace(".", ",")
    assert reduced[column["Motif CSF"]] == "Temps de travail non justifié"
    assert reduced[column["Commentaire CSF"]] == "Heures non signées"
    kept = next(row for row in body if row[column["Décision CSF"]] == "Retenue")
    assert kept[column["Montant écarté"]] == "0,00"
    assert all(line.startswith('"') and line.endswith('"') for line in text.splitlines())


def test_csv_excel_en_dialect(two_lines):
    report = build_report(two_lines["operation"], *JANUARY)
    text = exports.csv_bytes(report, dialect="excel-en").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][1] == "Type" and len(rows) == 3
    assert sorted(row[9] for row in rows[1:]) == ["2880.00", "4400.00"]
    assert rows[1][6] == "2023-01-01"


def test_months_as_month_cells_empty_sheets_and_resource_labels(two_lines):
    workbook = _workbook(build_report(two_lines["operation"], *JANUARY))
    staff, _total = _lines_and_total(workbook["Personnel"])
    month = workbook["Personnel"].cell(HEADER_ROW + 1, 4)
    assert month.is_date and month.number_format == "MM/YYYY"
    expenses = workbook["Dépenses"]
    assert expenses.cell(HEADER_ROW + 1, 1).value == EMPTY_SHEET
    resources = [row[0] for row in workbook["Ressources"].iter_rows(min_row=HEADER_ROW + 1, values_only=True)]
    assert "FSE+" in resources and "FSE+ — FSE+" not in resources
    assert not any(label and "Autofinancement — Autofinancement" in label for label in resources)


def test_formula_text_is_a_string_cell_without_visible_apostrophe(claims_world):
    make_expense(claims_world["operation"], "10.00", label="=Ligne 1", supplier="@fournisseur")
    workbook = _workbook(build_report(claims_world["operation"], *JANUARY))
    cell = workbook["Dépenses"].cell(HEADER_ROW + 1, 2)
    assert cell.value == "=Ligne 1" and cell.data_type == "s" and cell.quotePrefix


@pytest.mark.skipif(not (shutil.which("soffice") or shutil.which("libreoffice")), reason="LibreOffice not installed")
def test_two_line_claim_prints_on_at_most_four_pages(two_lines, tmp_path):
    from pypdf import PdfReader

    claim = lifecycle.create_draft(two_lines["operation"], *JANUARY)
    lifecycle.submit_claim(claim, today=date(2023, 2, 15))
    db.session.commit()
    source = tmp_path / "demande.xlsx"
    exports.write_xlsx(build_report(two_lines["operation"], *JANUARY, claim), source)
    office = shutil.which("soffice") or shutil.which("libreoffice")
    subprocess.run([office, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(source)], check=True, timeout=180, capture_output=True)
    # Each sheet prints on one page (the participants' indicator sheet is the fifth).
    from openpyxl import load_workbook

    sheets = load_workbook(source, read_only=True).sheetnames
    assert len(sheets) == 5
    assert len(PdfReader(tmp_path / "demande.pdf").pages) <= len(sheets)


def _headers(sheet):
    return [cell.value for cell in sheet[HEADER_ROW] if cell.value]


def test_every_header_fits_its_column_and_row(two_lines):
    """Issue 22: no header clipped in print: each header's longest word fits its column
    (about 1.2 widths per bold character) and the header row holds its most wrapped title
    (« Heures sur l'opération » widened to 14,2 for « l'opération » (11 × 1,2 + 1): 2 lines)."""
    from budget_app.claims.exports import BOLD_FACTOR, HEADER_LINE_POINTS, header_lines

    workbook = _workbook(build_report(two_lines["operation"], *JANUARY))
    for name in ("Dépenses", "Personnel"):
        sheet = workbook[name]
        lines = []
        for index, title in enumerate(_headers(sheet), 1):
            width = sheet.column_dimensions[sheet.cell(HEADER_ROW, index).column_letter].width
            assert max(len(word) for word in title.split()) * BOLD_FACTOR <= width - 1, (name, title, width)
            lines.append(header_lines(title, width))
        assert sheet.row_dimensions[HEADER_ROW].height >= HEADER_LINE_POINTS * max(lines)
    assert header_lines("Heures sur l'opération", 14.2) == 2
    assert header_lines("Heures sur l'opération", 10) == 3


@pytest.mark.skipif(not (shutil.which("soffice") or shutil.which("libreoffice")), reason="LibreOffice not installed")
def test_libreoffice_prints_every_header_whole(two_lines, tmp_path):
    """Each line sheet converted to PDF by LibreOffice holds every word of its headers
    (`.ci/run` installs libreoffice-calc-nogui so that this runs in CI)."""
    import openpyxl
    from pypdf import PdfReader

    source = tmp_path / "etat.xlsx"
    exports.write_xlsx(build_report(two_lines["operation"], *JANUARY), source)
    office = shutil.which("soffice") or shutil.which("libreoffice")
    for name in ("Dépenses", "Personnel"):
        workbook = openpyxl.load_workbook(source)
        for other in [sheet for sheet in workbook.sheetnames if sheet != name]:
            del workbook[other]
        single = tmp_path / f"{name}.xlsx"
        workbook.save(single)
        subprocess.run([office, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to",
                        "pdf", "--outdir", str(tmp_path), str(single)], check=True, timeout=180, capture_output=True)
        text = " ".join(page.extract_text() for page in PdfReader(tmp_path / f"{name}.pdf").pages)
        words = set(text.split())
        for title in _headers(openpyxl.load_workbook(single)[name]):
            assert all(word in words for word in title.split()), (name, title)

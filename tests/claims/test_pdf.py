"""The claim's PDF: A4, page numbers, fonts embedded, and every amount of the
Récapitulatif the same as in the XLSX, to the cent (text extracted with pypdf)."""
import io
import re
from datetime import date
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from pypdf import PdfReader

from budget_app.claims import control, exports, lifecycle, pdf
from budget_app.claims.report import build_report
from budget_app.kernel.extensions import db
from budget_app.kernel.formatting import format_money
from tests.expenses.factories import make_expense
from tests.staff.factories import make_staff_line

JANUARY = (date(2023, 1, 1), date(2023, 1, 31))
AMOUNT = re.compile(r"(-?\d{1,3}(?: \d{3})*,\d{2}) €")


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def xlsx_money_rows(data: bytes) -> dict:
    """Label -> amount (Decimal) of every euro cell of the Récapitulatif."""
    sheet = load_workbook(io.BytesIO(data))["Récapitulatif"]
    return {row[0].value: D(str(row[1].value)).quantize(D("0.01")) for row in sheet.iter_rows()
            if len(row) > 1 and row[0].value and row[1].value is not None and "€" in (row[1].number_format or "")}


def pdf_amount_of(text: str, label: str) -> D:
    line = next(line for line in text.splitlines() if line.startswith(label + " ") or line == label)
    found = AMOUNT.findall(line[len(label):])
    assert len(found) == 1, line
    return D(found[0].replace(" ", "").replace(",", "."))


def assert_same_figures(report):
    xlsx, document = exports.xlsx_bytes(report), pdf.pdf_bytes(report)
    text = pdf_text(document)
    amounts = xlsx_money_rows(xlsx)
    assert len(amounts) >= 6
    for label, amount in amounts.items():
        assert pdf_amount_of(text, label) == amount, label
    return text, document


def test_pdf_has_the_recapitulatif_lines_and_decisions(claims_world):
    operation = claims_world["operation"]
    make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00"))
    make_staff_line(operation, "4400.00", hours=D("137.5"), rate=D("32.00"), name="Durand")
    claim = lifecycle.create_draft(operation, *JANUARY)
    lifecycle.submit_claim(claim, today=date(2023, 2, 15))
    line = claim.lines.first()
    control.decide_line(claim, line, "reduced", claims_world["controller"], amount=D("1000.00"), reason="staff_time",
                        comment="Fiche non signée")
    control.finish_control(claim, claims_world["controller"])
    db.session.commit()
    text, document = assert_same_figures(build_report(operation, *JANUARY, claim))
    assert "Bilan intermédiaire n° 1 — HL-RSA-2023" in text
    assert "Total des dépenses éligibles" in text and "FSE+ dû" in text
    assert "Contrôle de service fait : décisions" in text and "Fiche non signée" in text and "Réduite" in text
    assert "Page 1 / " in text
    reader = PdfReader(io.BytesIO(document))
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    assert (round(float(width)), round(float(height))) == (842, 595)  # A4 landscape, in points
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert all("/FontFile2" in font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
               for font in fonts.values())  # embedded TrueType


def test_pdf_of_a_draft_period_with_expenses_and_page_breaks(claims_world):
    operation = claims_world["operation"]
    for index in range(90):
        make_expense(operation, f"{index + 1}.10", label=f"Fournitures n° {index} — =SOMME(A1)")
    make_expense(operation, "2.00", paid_on=None, label="Non payée")
    text, document = assert_same_figures(build_report(operation, *JANUARY))
    assert len(PdfReader(io.BytesIO(document)).pages) >= 3
    assert text.count("Motif d'exclusion") >= 3  # the table header repeated on each page
    assert "Non acquittée à la date du bilan" in text
    assert "Aucune ligne pour cette période" in text  # no staff line


@settings(max_examples=300, deadline=None)
@given(st.decimals(min_value=D("-99999999.999"), max_value=D("99999999.999"), places=3, allow_nan=False))
def test_pdf_amounts_read_as_format_money(value):
    """The PDF's fast euro formatter prints what ``format_money`` prints (French, plain spaces)."""
    assert pdf.euros(value) == format_money(value, "fr", plain=True)

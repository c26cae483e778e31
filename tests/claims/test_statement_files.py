"""The statement's files from its page are the command line's, figure for figure.

January 2023 of HL-RSA-2023: Martin 120 h × 24,00 €/h = 2 880,00 € (complete), Petit
100 h × 30,00 €/h = 3 000,00 € (no signed timesheet). The statement counts both: staff
5 880,00 €, indirect 15 % 882,00 €, total 6 762,00 €, FSE+ 60 % 4 057,20 €, « dont pièces
manquantes (1 ligne) » 3 000,00 €.
"""
import io
from decimal import Decimal as D

import openpyxl
import pytest
from pypdf import PdfReader

from tests.staff.factories import make_staff_line


@pytest.fixture
def january(claims_world):
    operation = claims_world["operation"]
    make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00"), name="Martin")
    make_staff_line(operation, "3000.00", hours=D("100"), rate=D("30.00"), name="Petit", evidence=False)
    return claims_world


def _summary(content: bytes) -> dict:
    sheet = openpyxl.load_workbook(io.BytesIO(content))["Récapitulatif"]
    return {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row[0]}


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_page_offers_the_files_and_names_the_missing_evidence(january, client, login):
    login(client, january["officer"])
    page = client.get("/operations/HL-RSA-2023/demandes/?month=2023-01").get_data(as_text=True)
    assert "dont pièces manquantes : 1 ligne, 3 000,00 €" in page.replace("\u202f", " ").replace("\xa0", " ")
    for fmt in ("xlsx", "csv", "pdf"):
        assert f"/operations/HL-RSA-2023/demandes/etat.{fmt}?du=2023-01-01&amp;au=2023-01-31" in page


def test_page_files_equal_the_command_line_files(january, client, login, runner, tmp_path):
    login(client, january["officer"])
    web, cli = {}, {}
    for fmt in ("xlsx", "csv", "pdf"):
        response = client.get(f"/operations/HL-RSA-2023/demandes/etat.{fmt}?du=2023-01-01&au=2023-01-31")
        assert response.status_code == 200, fmt
        web[fmt] = response.get_data()
        target = tmp_path / f"etat.{fmt}"
        result = runner.invoke(args=["claims", "export", "HL-RSA-2023", "--month", "2023-01", "-o", str(target),
                                     "--format", fmt])
        assert result.exit_code == 0, result.output
        cli[fmt] = target.read_bytes()
    summary = _summary(web["xlsx"])
    assert summary == _summary(cli["xlsx"])
    assert (D(str(summary["Total des dépenses éligibles"])), D(str(summary["FSE+ demandé"]))) == (
        D("6762.00"), D("4057.20"))
    assert D(str(summary["dont pièces manquantes (1 ligne)"])) == D("3000.00")
    assert web["csv"] == cli["csv"]
    assert _pdf_text(web["pdf"]) == _pdf_text(cli["pdf"])
    assert "6 762,00 €" in _pdf_text(web["pdf"]).replace("\u202f", " ").replace("\xa0", " ")


def test_a_bad_period_is_refused_with_a_message(january, client, login):
    login(client, january["officer"])
    assert client.get("/operations/HL-RSA-2023/demandes/etat.xlsx?du=abc&au=2023-01-31").status_code == 400
    response = client.get("/operations/HL-RSA-2023/demandes/etat.pdf?du=2031-01-01&au=2031-01-31")
    assert response.status_code == 302

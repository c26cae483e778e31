import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from budget_app.kernel.money import parse_decimal
from budget_app.kernel.tabular import (
    DomainError,
    RowReader,
    cell_amount,
    cell_date,
    cell_month,
    cell_yes_no,
    read_table,
)

COLUMNS = {"date": "Date", "supplier": "Fournisseur", "amount": "Montant HT", "recoverable": "TVA récupérable"}


def csv_bytes(text, encoding="utf-8"):
    return text.encode(encoding)


def test_semicolon_csv_with_bom_and_loose_headers():
    content = "\ufeffDATE ; fournisseur;Montant  HT;Tva recuperable\n01/02/2023;Papeterie Dupont;1 234,56;oui\n".encode()
    table = read_table(content, COLUMNS, required={"date", "amount"})
    assert table.problems == []
    assert [(row.line, row.values) for row in table.rows] == [
        (2, {"date": "01/02/2023", "supplier": "Papeterie Dupont", "amount": "1 234,56", "recoverable": "oui"})
    ]


def test_comma_csv_in_windows_1252():
    content = csv_bytes("Date,Fournisseur,Montant HT\n2023-02-01,Société Générale,12.50\n", "cp1252")
    table = read_table(content, COLUMNS)
    assert table.rows[0].values["supplier"] == "Société Générale"


def test_unknown_and_missing_columns_are_named():
    table = read_table(csv_bytes("Date;Couleur\n01/01/2023;bleu\n"), COLUMNS, required={"date", "amount"})
    assert [str(problem) for problem in table.problems] == [
        "ligne 1, colonne Couleur : colonne inconnue",
        "ligne 1, colonne Montant HT : colonne obligatoire absente",
    ]
    assert table.rows == []


def test_xlsx_is_recognised_by_content():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Date", "Montant HT"])
    sheet.append([datetime(2023, 3, 4), 1234.56])
    sheet.append([None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_table(buffer.getvalue(), COLUMNS)
    assert len(table.rows) == 1 and table.rows[0].line == 2
    assert cell_date(table.rows[0].values["date"]) == date(2023, 3, 4)
    assert cell_amount(table.rows[0].values["amount"]) == Decimal("1234.56")


@pytest.mark.parametrize("text,expected", [("1 234,56", "1234.56"), ("1234.5", "1234.50"), ("12", "12.00")])
def test_amounts(text, expected):
    assert cell_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["abc", "1,234.5", "-3", "1,234"])
def test_bad_amounts(text):
    with pytest.raises(DomainError):
        cell_amount(text)


def test_dates_and_months():
    assert cell_date("31/12/2023") == date(2023, 12, 31) == cell_date("2023-12-31")
    assert cell_month("2023-01") == date(2023, 1, 1) == cell_month("01/2023")
    for bad in ("2023-13", "13/2023", "janvier"):
        with pytest.raises(DomainError):
            cell_month(bad)
    with pytest.raises(DomainError, match="jj/mm/aaaa"):
        cell_date("31/02/2023")
    assert cell_yes_no("Non") is False and cell_yes_no("OUI") is True


def test_row_reader_collects_every_problem():
    table = read_table(csv_bytes("Date;Montant HT\nhier;beaucoup\n"), COLUMNS)
    problems = []
    read = RowReader(table.rows[0], COLUMNS, problems)
    assert read("date", cell_date) is None and read("amount", cell_amount) is None
    assert not read.ok
    assert [str(problem).split(" : ")[0] for problem in problems] == ["ligne 2, colonne Date", "ligne 2, colonne Montant HT"]


def test_openpyxl_parses_with_defusedxml():
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML is True


def test_zip_bomb_is_refused_before_inflating():
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (210 * 1024 * 1024))
    table = read_table(buffer.getvalue(), COLUMNS)
    assert table.rows == [] and "trop volumineux" in str(table.problems[0])


def test_damaged_workbook_is_a_clear_problem():
    table = read_table(b"PK\x03\x04 not really a zip", COLUMNS)
    assert table.rows == [] and "illisible" in str(table.problems[0])


@given(st.floats(min_value=-1e13, max_value=1e13, allow_nan=False, allow_infinity=False))
def test_spreadsheet_amounts_read_as_parse_decimal_reads_them(number):
    """The fast path for float cells gives what parse_decimal gives (or refuses alike)."""
    def outcome(function):
        try:
            return function()
        except DomainError:
            return "refused"

    reference = Decimal(repr(number))
    if reference != reference.quantize(Decimal("0.01")):
        expected = "refused"
    else:
        expected = outcome(lambda: parse_decimal(reference, places=2))
    assert outcome(lambda: cell_amount(number)) == expected
    assert outcome(lambda: cell_amount(round(number, 2))) == outcome(
        lambda: parse_decimal(Decimal(repr(round(number, 2))), places=2))

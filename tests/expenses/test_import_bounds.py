"""Bounded imports (issue 21, point 6): previews are paginated, an XLSX's <dimension> is
never trusted, a row of separators is not read cell by cell, over-long cells are refused
by row and column, and look-alikes are found through indexes, all of them."""
import io
import re
import zipfile
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from budget_app.expenses.duplicates import WARNINGS_SHOWN, DuplicateFinder, _Known, same_line
from budget_app.expenses.imports import COLUMNS, check_file
from budget_app.expenses.models import Expense
from budget_app.expenses.rules import HUNDRED, ExpenseData
from budget_app.kernel import tabular
from budget_app.kernel.extensions import db

HEADER = "Date;Date de paiement;Fournisseur;SIRET;N° de pièce;Libellé;Catégorie;Montant HT;TVA;TVA récupérable;Affectation (%)\n"
ROW = "15/03/2019;30/03/2019;Fournisseur {n};;FA-{n};Fournitures {n};FONCTIONNEMENT;10,00;0,00;non;100\n"
SAME = "15/03/2019;30/03/2019;Papeterie du Lot;;FA-{n};Fournitures {n};FONCTIONNEMENT;10,00;0,00;non;100\n"


def csv_file(count, row=ROW):
    return (HEADER + "".join(row.format(n=n) for n in range(count))).encode()


def upload(client, content, name="depenses.csv"):
    return client.post("/operations/LOT-2019-ACI/depenses/import", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def shown_lines(page):
    return [int(line) for line in re.findall(r"<tr>\s*<td>(\d+)</td>", page)]


def test_preview_shows_one_page_of_rows_and_counts_them(client, login, officer, lot):
    """250 rows: page 1 lists file lines 2-101 (100 rows), page 3 lines 202-251; the counts
    name all 250; confirming after paging imports the 250."""
    login(client, officer)
    page = upload(client, csv_file(250)).get_data(as_text=True)
    assert "250 dépense(s) à importer" in page
    assert "Lignes 1 à 100 sur 250." in page
    assert shown_lines(page) == list(range(2, 102))
    assert "Page 1 sur 3" in page
    third = client.get("/operations/LOT-2019-ACI/depenses/import?page=3").get_data(as_text=True)
    assert "Lignes 201 à 250 sur 250." in third
    assert shown_lines(third) == list(range(202, 252))
    token = third.split('name="token" type="hidden" value="')[1].split('"')[0]
    assert client.post("/operations/LOT-2019-ACI/depenses/import/confirmer", data={"token": token}).status_code == 302
    assert db.session.scalar(select(func.count(Expense.id))) == 250


def test_look_alikes_are_listed_up_to_a_few_and_the_others_counted(client, login, officer, lot):
    """30 rows of the same supplier, amount and date: the last (file line 31) looks like
    the 29 before it: 5 listed, « … et 24 autre(s) »; the page does not grow with the pairs."""
    login(client, officer)
    page = upload(client, csv_file(30, SAME)).get_data(as_text=True)
    assert "30 ligne(s) avec un doublon possible" not in page  # the first row has none
    assert "29 ligne(s) avec un doublon possible." in page
    assert "… et 24 autre(s) doublon(s) possible(s)" in page
    # Rows 1-5 list 0, 1, 2, 3, 4 look-alikes (10); rows 6-30 list 5 each (25 x 5 = 125).
    assert page.count("même fournisseur, même montant et même date") == 135


def forged_workbook(rows=20):
    """A workbook whose <dimension> claims 16 384 columns (A1:XFD...)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(COLUMNS.values()))
    for n in range(rows):
        sheet.append([date(2019, 3, 15), date(2019, 3, 30), f"Fournisseur {n}", None, f"FA-{n}", "Fournitures",
                      "FONCTIONNEMENT", None, 10, 0, "non", 100])
    buffer = io.BytesIO()
    workbook.save(buffer)
    forged = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(forged, "w") as target:
        for entry in source.infolist():
            data = source.read(entry.filename)
            if entry.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD%d"' % (rows + 1), data)
                assert b"XFD" in data
            target.writestr(entry, data)
    return forged.getvalue()


def test_a_forged_dimension_never_makes_rows_wider(app, monkeypatch):
    """openpyxl pads every row to the claimed 16 384 columns unless told otherwise: the
    reader never receives a row wider than the importer's 12 columns + the margin + 1."""
    widths = []
    original = tabular.sheet_values  # openpyxl's iter_rows, leaner (kernel/xlsx_rows)

    def spy(*args, **kwargs):
        for row in original(*args, **kwargs):
            widths.append(len(row))
            yield row

    monkeypatch.setattr(tabular, "sheet_values", spy)
    table = tabular.read_table(forged_workbook(), COLUMNS)
    assert not table.problems
    assert len(table.rows) == 20
    assert table.rows[0].values["supplier_name"] == "Fournisseur 0"
    assert widths and max(widths) <= len(COLUMNS) + tabular.COLUMN_MARGIN + 1


def test_a_row_of_separators_is_not_read_cell_by_cell(app, monkeypatch):
    """A header then 200 000 separators on one line: the header search looks at no more
    cells than the importer's width per row (it normalised each of them before)."""
    calls = []
    original = tabular.normalise_header
    monkeypatch.setattr(tabular, "normalise_header", lambda text: calls.append(1) or original(text))
    content = HEADER.encode() + b";" * 200_000 + b"\n"
    table = tabular.read_table(content, COLUMNS)
    assert not table.problems and table.rows == []
    width = len(COLUMNS) + tabular.COLUMN_MARGIN
    assert len(calls) < 10 * width


def test_a_cell_beyond_the_width_refuses_its_row(app):
    """Something in column 40 of line 3: « plus de cellules que de colonnes », never dropped."""
    content = (HEADER + ROW.format(n=1) + ROW.format(n=2).rstrip("\n") + ";" * 30 + "oublié\n").encode()
    table = tabular.read_table(content, COLUMNS)
    assert [str(problem) for problem in table.problems] == ["ligne 3 : plus de cellules que de colonnes"]


def test_an_over_long_cell_is_refused_by_row_and_column(app, lot):
    """A 40 000-character label on file line 3 (column F): refused, naming line and column."""
    content = (HEADER + ROW.format(n=1) + ROW.format(n=2).replace("Fournitures 2", "x" * 40_000)).encode()
    result = check_file(lot, content)
    assert [str(problem) for problem in result.problems] == ["ligne 3, colonne F : cellule de plus de 32\u202f767 caractères"]


def test_a_csv_field_over_the_csv_limit_is_a_message_not_a_500(client, login, officer, lot):
    """A 200 000-character field on line 2 (over the csv module's 131 072): a message
    naming its line and column."""
    login(client, officer)
    content = (HEADER + ROW.format(n=1).replace("Fournitures 1", "y" * 200_000)).encode()
    response = upload(client, content)
    assert response.status_code == 200
    assert "ligne 2, colonne Libellé : cellule de plus de 131072 caractères" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Expense.id))) == 0


# ---- look-alikes: the indexed detection finds exactly what the pairwise one did


class _Operation:
    def __init__(self, id, code):
        self.id, self.code = id, code


def old_check(knowns, data, operation, exclude_id=None):
    """The pairwise definition before issue 21 (every known line of the supplier compared
    with the candidate): (already recorded, {(known, reason)}, allocation total, refused,
    ids of the same line)."""
    already, warnings, same_document, same_ids = None, set(), [], []
    for known in knowns:
        if known.supplier_key != data.supplier_key:
            continue
        if known.id is not None and known.id == exclude_id:
            continue
        if known.document_key == data.document_key:
            same_document.append(known)
            same = same_line(known, data, operation.id)
            if same and known.id is not None:
                same_ids.append(known.id)
            if already is None and same:
                already = known
                continue
            warnings.add((id(known), "document"))
        elif (known.incurred_on == data.incurred_on and known.amount_excl_vat == data.amount_excl_vat
              and known.vat == data.vat):
            warnings.add((id(known), "amount"))
    shared = [known for known in same_document if not known.is_credit_note]
    total = sum((known.allocation_percent for known in shared), Decimal(0)) + data.allocation_percent
    return already, warnings, total, bool(shared) and total > HUNDRED, same_ids


line_strategy = st.fixed_dictionaries({
    "supplier": st.sampled_from(["Papeterie", "Bureau"]),
    "document": st.sampled_from(["F1", "F2", "F3"]),
    "day": st.integers(1, 2),
    "amount": st.sampled_from([Decimal("10.00"), Decimal("20.00")]),
    "vat": st.sampled_from([Decimal("0.00"), Decimal("2.00")]),
    "category": st.sampled_from(["FONCTIONNEMENT", "PRESTATIONS"]),
    "allocation": st.sampled_from([Decimal("50"), Decimal("100")]),
    "here": st.booleans(),
    "recorded": st.booleans(),
    "credit_note": st.booleans(),
})


def _data(values):
    return ExpenseData(incurred_on=date(2019, 3, values["day"]), paid_on=date(2019, 3, 30),
                       supplier_name=values["supplier"], document_number=values["document"], label="x",
                       category=values["category"], amount_excl_vat=values["amount"], vat=values["vat"],
                       allocation_percent=values["allocation"])


@given(known=st.lists(line_strategy, max_size=12), candidates=st.lists(line_strategy, min_size=1, max_size=4),
       exclude=st.one_of(st.none(), st.integers(1, 12)))
def test_indexed_look_alikes_are_exactly_the_pairwise_ones(app, known, candidates, exclude):
    """Random small sets of known lines (recorded in this operation or another, or earlier
    rows of the file; credit notes or not): for each candidate, the same line already
    recorded, the same look-alikes (each with its reason, listed or counted), the same
    allocation total and the same double-funding refusal as the pairwise definition."""
    with app.test_request_context():
        operation, other = _Operation(1, "OP-1"), _Operation(2, "OP-2")
        finder = DuplicateFinder(operation)
        finder.loaded.update({"papeterie", "bureau"} | {_data(values).supplier_key for values in known + candidates})
        knowns = []
        for number, values in enumerate(known, start=1):
            data = _data(values)
            where = operation if values["here"] else other
            entry = _Known(number if values["recorded"] else None, where.id, where.code, data.supplier_key,
                           data.document_key, data.document_number, data.incurred_on, data.amount_excl_vat, data.vat,
                           data.category, data.allocation_percent, values["credit_note"],
                           None if values["recorded"] else 100 + number)
            finder._add(entry)
            knowns.append(entry)
        for values in candidates:
            data = _data(values)
            already, warnings, total, refused, same_ids = old_check(knowns, data, operation, exclude)
            result = finder.check(data, exclude_id=exclude)
            found = {(id(entry), "document" if "pièce" in reason else "amount")
                     for entry, reason in finder.matches(data, exclude)}
            assert found == warnings
            assert len(result.warnings) == min(len(warnings), WARNINGS_SHOWN)
            assert len(result.warnings) + result.more_warnings == len(warnings)
            assert (result.already_recorded is None) == (already is None)
            if already is not None:
                assert (result.already_recorded.expense_id, result.already_recorded.operation_id) == \
                    (already.id, already.operation_id)
            assert result.allocation_total == total
            assert (result.double_funding is not None) == refused
            assert result.same_line_ids == same_ids

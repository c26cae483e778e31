"""Expense import: the example files, all or nothing, re-import doubles nothing, CLI and web."""
import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from budget_app.expenses.models import Expense
from budget_app.kernel.audit.models import AuditEntry
from budget_app.kernel.extensions import db
from tests.operations.factories import make_plan

from .conftest import EXAMPLES

EXAMPLE_TOTAL = Decimal("7966.46")  # the eligible amounts of the 8 example rows


def count():
    return db.session.scalar(select(func.count(Expense.id)))


@pytest.mark.parametrize("name", ["depenses-exemple.csv", "depenses-exemple.xlsx"])
def test_cli_imports_the_example_file_once(runner, lot, name):
    result = runner.invoke(args=["expenses", "import", "LOT-2019-ACI", str(EXAMPLES / name)])
    assert result.exit_code == 0, result.output
    assert "8 dépense(s) importée(s)" in result.output
    assert count() == 8
    assert db.session.scalar(select(func.sum(Expense.eligible_amount))) == EXAMPLE_TOTAL
    key = db.session.scalar(select(Expense).where(Expense.document_number == "AQ-2019-03"))
    assert key.allocation_percent == Decimal("33.3333") and key.eligible_amount == Decimal("320.00")
    recoverable = db.session.scalar(select(Expense).where(Expense.document_number == "TE-55120"))
    assert recoverable.vat_recoverable and recoverable.eligible_amount == Decimal("412.50")
    assert all(not expense.is_complete for expense in db.session.scalars(select(Expense)))
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "import"))
    assert entry.actor.startswith("cli:")
    again = runner.invoke(args=["expenses", "import", "LOT-2019-ACI", str(EXAMPLES / name)])
    assert again.exit_code == 0, again.output
    assert "0 dépense(s) importée(s), 8 déjà enregistrée(s)" in again.output
    assert count() == 8


def test_csv_and_xlsx_examples_hold_the_same_rows(runner, lot):
    runner.invoke(args=["expenses", "import", "LOT-2019-ACI", str(EXAMPLES / "depenses-exemple.csv")])
    again = runner.invoke(args=["expenses", "import", "LOT-2019-ACI", str(EXAMPLES / "depenses-exemple.xlsx")])
    assert "8 déjà enregistrée(s)" in again.output
    assert count() == 8


def test_bad_file_changes_nothing_and_lists_every_row(runner, lot, tmp_path):
    text = (EXAMPLES / "depenses-exemple.csv").read_text(encoding="utf-8").splitlines()
    text[2] = text[2].replace("06/03/2019", "31/02/2019")
    text[4] = text[4].replace("PRESTATIONS", "PERSONNEL")
    text[5] = text[5].replace("1 800,00", "-1 800,00")
    text[6] = text[6].replace(";100", ";150")
    path = tmp_path / "faux.csv"
    path.write_text("\n".join(text), encoding="cp1252")
    result = runner.invoke(args=["expenses", "import", "LOT-2019-ACI", str(path)])
    assert result.exit_code == 1
    assert "ligne 3, colonne Date : date invalide" in result.output
    assert "ligne 5, colonne Catégorie :" in result.output
    assert "ligne 6, colonne Montant HT :" in result.output
    assert "ligne 7, colonne Affectation (%) :" in result.output
    assert count() == 0


def test_unknown_column_and_unknown_operation(runner, lot, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("Date;Montant TTC\n01/03/2019;12\n", encoding="utf-8")
    result = runner.invoke(args=["expenses", "import", "LOT-2019-ACI", str(path)])
    assert result.exit_code == 1
    assert "ligne 1, colonne Montant TTC : colonne inconnue" in result.output
    result = runner.invoke(args=["expenses", "import", "NOPE", str(path)])
    assert result.exit_code == 1


def test_double_funding_inside_the_file_is_an_error(runner, lot, tmp_path):
    lines = (EXAMPLES / "depenses-exemple.csv").read_text(encoding="utf-8").splitlines()
    lines.append(lines[3].replace(";60", ";50"))  # LQ-1902 again at 50 %: 110 % in all
    path = tmp_path / "double.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    result = runner.invoke(args=["expenses", "import", "LOT-2019-ACI", str(path)])
    assert result.exit_code == 1
    assert "ligne 10, colonne Affectation (%) : double financement" in result.output
    assert count() == 0


def test_example_cannot_go_to_an_operation_without_these_categories(runner, make_operation):
    
    operation = make_operation("HL-RSA-2023")
    make_plan(operation, costs={("PERSONNEL", 2023): "362500"}, flat_rates={})
    result = runner.invoke(args=["expenses", "import", "HL-RSA-2023", str(EXAMPLES / "depenses-exemple.csv")])
    assert result.exit_code == 1
    assert "hors de la période" in result.output and "n'est pas prévue au plan" in result.output


def test_web_import_previews_then_imports(client, login, officer, lot):
    login(client, officer)
    content = (EXAMPLES / "depenses-exemple.xlsx").read_bytes()
    response = client.post(
        "/operations/LOT-2019-ACI/depenses/import",
        data={"file": (io.BytesIO(content), "depenses.xlsx")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert "8 dépense(s) à importer" in page
    assert count() == 0
    token = page.split('name="token" type="hidden" value="')[1].split('"')[0]
    response = client.post("/operations/LOT-2019-ACI/depenses/import/confirmer", data={"token": token})
    assert response.status_code == 302
    assert count() == 8
    # The same token cannot be used twice.
    client.post("/operations/LOT-2019-ACI/depenses/import/confirmer", data={"token": token})
    assert count() == 8


def test_web_import_lists_problems(client, login, officer, lot):
    login(client, officer)
    response = client.post(
        "/operations/LOT-2019-ACI/depenses/import",
        data={"file": (io.BytesIO("Date;Fournisseur\n99/99/2019;X\n".encode()), "x.csv")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert "Fichier refusé" in page
    assert "colonne obligatoire absente" in page
    assert count() == 0


def test_example_file_goes_into_the_seeded_lot_operation(runner):
    from budget_app.operations.models import Operation

    assert runner.invoke(args=["seed"]).exit_code == 0
    result = runner.invoke(args=["expenses", "import", "LOT-2019-ACI", str(EXAMPLES / "depenses-exemple.csv")])
    assert result.exit_code == 0, result.output
    operation = db.session.scalar(select(Operation).where(Operation.code == "LOT-2019-ACI"))
    assert db.session.scalar(select(func.count(Expense.id)).where(Expense.operation_id == operation.id)) == 8
    # HL-RSA-2023 has only staff costs and the 15 % flat rate: every row is refused there.
    refused = runner.invoke(args=["expenses", "import", "HL-RSA-2023", str(EXAMPLES / "depenses-exemple.csv")])
    assert refused.exit_code == 1


def test_a_workbook_as_people_keep_it_title_totals_and_several_sheets(lot):
    """Issue 14: a title and a blank row above the headers, a « Total » row at the bottom, the
    data on the second sheet: read, with the left-out lines named in the preview."""
    from openpyxl import Workbook, load_workbook

    from budget_app.expenses.imports import check_file

    source = load_workbook(EXAMPLES / "depenses-exemple.xlsx")
    rows = [list(row) for row in source.worksheets[0].iter_rows(values_only=True)]
    workbook = Workbook()
    workbook.active.title = "Notes"
    workbook.active.append(["Tableau tenu par le service financier"])
    sheet = workbook.create_sheet("Dépenses 2019")
    sheet.append(["Dépenses du chantier d'insertion — 2019"])
    sheet.append([])
    for row in rows:
        sheet.append(row)
    sheet.append(["Total", None, None, None, None, None, None, None, "=SUM(I4:I11)"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = check_file(lot, buffer.getvalue())
    assert not result.problems, [str(problem) for problem in result.problems]
    assert len(result.to_import) == 8
    notes = [str(note) for note in result.notes]
    assert any("Dépenses 2019" in note for note in notes)
    assert any(note.startswith("ligne 1") and "titre" in note for note in notes)
    assert any(note.startswith(f"ligne {len(rows) + 3}") and "ligne de total" in note for note in notes)

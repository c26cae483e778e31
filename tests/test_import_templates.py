"""Each import page offers an XLSX template made from the importer's own columns: headers,
drop-down lists, a sheet explaining each column; filled in, it is accepted by the importer."""
import io

from openpyxl import load_workbook

from budget_app.expenses.imports import COLUMNS, check_file
from budget_app.kernel.extensions import db
from budget_app.staff.imports import import_staff, import_timesheets
from budget_app.staff.people import STAFF_COLUMNS
from tests.operations.factories import make_plan


def _download(client, url):
    response = client.get(url)
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment;")
    return load_workbook(io.BytesIO(response.data))


def _filled(workbook, rows) -> bytes:
    for row in rows:
        workbook.worksheets[0].append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_templates_match_the_importers_and_are_accepted_once_filled(client, login, make_user, make_operation):
    officer = make_user("finance_officer")
    operation = make_operation("OP-T", members=[officer])
    make_plan(operation, costs={("PERSONNEL", 2023): "50000.00", ("FONCTIONNEMENT", 2023): "5000.00"}, flat_rates={})
    login(client, officer)
    assert 'data-testid="import-template"' in client.get("/operations/OP-T/depenses/import").get_data(as_text=True)
    expenses = _download(client, "/operations/OP-T/depenses/modele.xlsx")
    sheet = expenses.worksheets[0]
    assert [cell.value for cell in sheet[1]] == list(COLUMNS.values())
    lists = [validation.formula1 for validation in sheet.data_validations.dataValidation]
    assert '"FONCTIONNEMENT"' in lists and '"oui,non"' in lists
    assert expenses.worksheets[1].title == "Colonnes" and expenses.worksheets[1].max_row == len(COLUMNS) + 1
    content = _filled(expenses, [["10/03/2023", "20/03/2023", "Papeterie", None, "F-1", "Papier", "FONCTIONNEMENT",
                                  None, "100,00", "20,00", "non", "100"]])
    result = check_file(operation, content)
    assert not result.problems, [str(problem) for problem in result.problems]
    assert len(result.to_import) == 1

    staff = _download(client, "/operations/OP-T/personnel/modele.xlsx")
    assert [cell.value for cell in staff.worksheets[0][1]] == list(STAFF_COLUMNS.values())
    report = import_staff(operation, _filled(staff, [["A1", "Martin", "Claire", None, "horaire", 2023, "41 280,00",
                                                     "100", None]]), apply=True)
    assert report.count("new") == 1
    timesheets = _download(client, "/operations/OP-T/fiches-de-temps/modele.xlsx")
    report = import_timesheets(operation, _filled(timesheets, [["A1", "01/2023", "100", "151,67", None]]),
                               user=officer, apply=False)
    assert report.count("new") == 1
    db.session.rollback()

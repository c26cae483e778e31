"""Finding 8 of issue 13: optimistic locking cannot be skipped. An edit or a delete
without ``version`` is refused (400, with a message) and nothing changes."""
from datetime import date
from decimal import Decimal

from budget_app.expenses.models import Expense
from budget_app.expenses.services import create_expense
from budget_app.kernel.extensions import db
from budget_app.staff.models import Timesheet
from tests.expenses.conftest import expense_data, form_values, lot, officer  # noqa: F401  (fixtures)

BASE = "/operations/LOT-2019-ACI"
MESSAGE = "Version manquante"


def test_an_expense_edit_without_version_is_refused(client, login, officer, lot, expense_data):
    expense = create_expense(lot, expense_data())
    db.session.commit()
    login(client, officer)
    data = form_values(label="Écrasé sans version")
    data.pop("version", None)
    response = client.post(f"{BASE}/depenses/{expense.id}/modifier", data=data)
    assert response.status_code == 400 and MESSAGE in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Expense, expense.id).label == "Fournitures de bureau"
    # With the version, the same edit goes through.
    response = client.post(f"{BASE}/depenses/{expense.id}/modifier",
                           data={**data, "version": str(expense.version)})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Expense, expense.id).label == "Écrasé sans version"


def test_a_delete_without_version_is_refused(client, login, officer, lot, expense_data):
    expense = create_expense(lot, expense_data())
    db.session.commit()
    login(client, officer)
    response = client.post(f"{BASE}/depenses/{expense.id}/supprimer", data={"reason": "doublon"})
    assert response.status_code == 400 and MESSAGE in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Expense, expense.id).deleted_at is None


def _sheet(lot):
    from budget_app.staff.models import Person, StaffAssignment

    assignment = StaffAssignment(operation=lot, method="hourly",
                                 person=Person(registration_number="M-1", last_name="Martin", first_name="Claire"))
    sheet = Timesheet(assignment=assignment, month=date(2019, 3, 1), hours_on_operation=Decimal("120"),
                      hours_worked=Decimal("151.67"), state="draft")
    db.session.add(sheet)
    db.session.commit()
    return sheet


def test_a_timesheet_edit_or_action_without_version_is_refused(client, login, officer, lot):
    sheet = _sheet(lot)
    login(client, officer)
    response = client.post(f"{BASE}/fiches-de-temps/{sheet.id}",
                           data={"month": "2019-03", "hours_on_operation": "10", "hours_worked": "151,67"})
    assert response.status_code == 400 and MESSAGE in response.get_data(as_text=True)
    response = client.post(f"{BASE}/fiches-de-temps/{sheet.id}/etat", data={"action": "submit"})
    assert response.status_code == 400 and MESSAGE in response.get_data(as_text=True)
    db.session.expire_all()
    stored = db.session.get(Timesheet, sheet.id)
    assert stored.hours_on_operation == Decimal("120") and stored.state == "draft"

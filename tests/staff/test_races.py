"""Timesheet rules under concurrency (issue 21): the CPR 55(3) annual cap and one sheet
a month hold when the sheets arrive at the same moment."""
from sqlalchemy import func, select

from budget_app.kernel.extensions import db
from budget_app.staff.models import Timesheet
from tests.races import in_parallel, postgres_only


def _hourly_person(client, login, make_user, make_operation):
    """A1, 41 280,00 € for 2023 at 1 720 h a year: 24,00 €/h, cap 1 720 h."""
    officer = make_user("finance_officer")
    make_operation("HL-RSA-2023", members=[officer])
    login(client, officer)
    response = client.post("/operations/HL-RSA-2023/personnel/saisie", data={
        "registration_number": "A1", "last_name": "Durand", "first_name": "Anne", "method": "horaire",
        "year": "2023", "annual_cost": "41 280,00", "working_share": "", "fixed_percent": "",
    })
    assert response.status_code == 302
    return officer


def _sheet(month, hours):
    def post(client):
        return client.post("/operations/HL-RSA-2023/fiches-de-temps/saisie", data={
            "registration_number": "A1", "month": month, "hours_on_operation": hours, "hours_worked": hours})
    return post


@postgres_only
def test_ten_parallel_sheets_stay_under_the_annual_cap(app, client, login, make_user, make_operation):
    """Ten months of 175 h at once: 10 x 175 = 1 750 h > 1 720 h (today all ten were
    stored). Nine are stored (1 575 h), the tenth is refused with the cap's message."""
    officer = _hourly_person(client, login, make_user, make_operation)
    responses = in_parallel(app, officer, [_sheet(f"2023-{month:02d}", "175") for month in range(1, 11)])
    assert db.session.scalar(select(func.sum(Timesheet.hours_on_operation))) == 1575
    assert sorted(response.status_code for response in responses) == [200] + [302] * 9
    refused = next(response for response in responses if response.status_code == 200).get_data(as_text=True)
    assert "1 750 h déclarées en 2023 pour A1, au-delà du plafond de 1 720 h (RPDC 55(3))" in refused


@postgres_only
def test_one_month_entered_three_times_at_once_is_one_sheet(app, client, login, make_user, make_operation):
    """The same person and month three times at once: today two HTTP 500 (IntegrityError);
    one sheet is stored, the others see the rule's message."""
    officer = _hourly_person(client, login, make_user, make_operation)
    responses = in_parallel(app, officer, [_sheet("2023-01", "100")] * 3)
    assert db.session.scalar(select(func.count(Timesheet.id))) == 1
    assert sorted(response.status_code for response in responses) == [200, 200, 302]
    for response in responses:
        if response.status_code == 200:
            assert "une fiche existe déjà pour cet agent et ce mois : modifiez-la" in response.get_data(as_text=True)

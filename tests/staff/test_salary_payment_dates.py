"""Staff payment dates (primer §9): each staff month carries the day its salary was paid
(timesheet column or form; default: the month's end + the operation's pay delay), checked
against the payment deadline and the bilan's date like an expense. Hand computations in
each docstring."""
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from budget_app.claims.selection import compute_period
from budget_app.kernel.extensions import db
from budget_app.staff.models import StaffCostLine, Timesheet

STAFF = "Matricule;Nom;Prénom;Fonction;Méthode;Année;Coût annuel chargé;Quotité (%);Temps fixe (%)\n"
SHEETS = "Matricule;Mois;Heures sur l'opération;Heures travaillées;Coût mensuel chargé;Date de paiement du salaire\n"
NOVEMBER, DECEMBER = date(2024, 11, 1), date(2024, 12, 1)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def paid_on_the_fifth(runner, make_operation, tmp_path):
    """HL-RSA-2023 (2023-2024), salaries « payés le 5 du mois suivant » (salary_pay_delay = 5).
    Sophie Roux, fixed share 50 % of 2 800,00 € = 1 400,00 € a month. November 2024's salary
    was paid on 29/11/2024 (column), December's on the default day: 31/12/2024 + 5 days =
    05/01/2025."""
    operation = make_operation("HL-RSA-2023", salary_pay_delay=5)
    staff = write(tmp_path, "s.csv", STAFF + "HL-0733;Roux;Sophie;Coordinatrice;temps fixe;;;;50\n")
    assert runner.invoke(args=["staff", "import", "HL-RSA-2023", staff]).exit_code == 0
    sheets = write(tmp_path, "t.csv", SHEETS + "HL-0733;2024-11;;;2 800,00;29/11/2024\nHL-0733;2024-12;;;2 800,00;\n")
    result = runner.invoke(args=["timesheets", "import", "HL-RSA-2023", sheets, "--approved"])
    assert result.exit_code == 0, result.output
    return operation


def _lines():
    return {line.month: line for line in db.session.scalars(select(StaffCostLine))}


def _period(operation, as_of):
    computation = compute_period(operation, NOVEMBER, date(2024, 12, 31), as_of=as_of, evidence=False)
    return computation.figures.categories.get("PERSONNEL"), {line.day: line.reason for line in computation.left_out}


def test_the_default_pay_day_is_the_months_end_plus_the_operations_delay(paid_on_the_fifth):
    lines = _lines()
    assert (lines[NOVEMBER].paid_on, lines[DECEMBER].paid_on) == (date(2024, 11, 29), date(2025, 1, 5))
    assert db.session.scalar(select(Timesheet.salary_paid_on).where(Timesheet.month == NOVEMBER)) == date(2024, 11, 29)


def test_december_salaries_paid_in_january_count_once_paid(paid_on_the_fifth):
    """On 04/01/2025 December's salary is not paid yet: the period counts November only,
    1 400,00 €, December is left out « Non acquittée ». On 05/01/2025 (paid, within the
    payment deadline 30/06/2025 = end + 6 months) both count: 2 800,00 €."""
    operation = paid_on_the_fifth
    assert _period(operation, date(2025, 1, 4)) == (D("1400.00"), {DECEMBER: "not_paid"})
    assert _period(operation, date(2025, 1, 5)) == (D("2800.00"), {})


def test_a_salary_paid_after_the_payment_deadline_is_left_out(paid_on_the_fifth):
    """The agreement sets the payment deadline at 31/12/2024: December's salary, paid on
    05/01/2025, is outside the payment period; November's (29/11/2024) still counts."""
    operation = paid_on_the_fifth
    operation.payment_deadline = date(2024, 12, 31)
    db.session.commit()
    assert _period(operation, date(2025, 3, 1)) == (D("1400.00"), {DECEMBER: "outside_payment_period"})


def test_a_salary_paid_before_its_month_is_refused_naming_the_row(paid_on_the_fifth, runner, tmp_path):
    """A row saying October 2024 paid the December 2024 salary is a typing error: the whole
    file is refused, the row and column named, nothing changed."""
    before = _lines()[DECEMBER].paid_on
    sheets = write(tmp_path, "bad.csv", SHEETS + "HL-0733;2024-10;;;2 800,00;\nHL-0733;2024-12;;;2 800,00;30/11/2024\n")
    result = runner.invoke(args=["timesheets", "import", "HL-RSA-2023", sheets])
    assert result.exit_code == 1
    assert "ligne 3, colonne Date de paiement du salaire" in result.output
    assert "ne peut être payé avant le début du mois" in result.output
    db.session.expire_all()
    assert _lines()[DECEMBER].paid_on == before
    assert db.session.scalar(select(Timesheet).where(Timesheet.month == date(2024, 10, 1))) is None


def test_the_pay_delay_is_an_operation_setting_checked_like_the_others(make_operation):
    from budget_app.operations.rules import OperationInput, check_operation

    problems = check_operation(OperationInput(code="X", title="X", start_date=date(2023, 1, 1),
                                                    end_date=date(2023, 12, 31), fse_rate=D("60"),
                                                    fse_amount=D("100.00"), salary_pay_delay=90))
    assert any("de 0 à 60" in str(problem) for problem in problems)


def test_the_timesheet_form_takes_the_payment_date_with_the_imports_rules(client, login, make_user, make_operation,
                                                                            runner):
    """The form's « Date de paiement du salaire »: 05/02/2023 for January is kept on the
    sheet; 31/12/2022 (before the month) is refused on the form, nothing written."""
    officer = make_user("finance_officer")
    make_operation("HL-RSA-2023", members=[officer])
    assert runner.invoke(args=["staff", "import", "HL-RSA-2023", "fixtures/examples/personnel-exemple.csv"]).exit_code == 0
    login(client, officer)
    values = {"registration_number": "HL-0587", "month": "2023-01", "hours_on_operation": "137,5",
              "hours_worked": "151,67"}
    refused = client.post("/operations/HL-RSA-2023/fiches-de-temps/saisie", data={**values, "salary_paid_on": "2022-12-31"})
    assert refused.status_code == 200
    assert "ne peut être payé avant le début du mois" in refused.get_data(as_text=True)
    assert db.session.scalar(select(Timesheet)) is None
    accepted = client.post("/operations/HL-RSA-2023/fiches-de-temps/saisie", data={**values, "salary_paid_on": "2023-02-05"})
    assert accepted.status_code == 302
    assert db.session.scalar(select(Timesheet.salary_paid_on)) == date(2023, 2, 5)


def test_the_pay_delay_is_read_from_the_operation_file(app):
    """`salary_pay_delay = 5` in the operation file; 61 is refused naming the key."""
    from pathlib import Path

    from budget_app.kernel.errors import DomainError
    from budget_app.operations.loader import load_operation
    from budget_app.operations.models import Operation

    seed_text = (Path(__file__).resolve().parents[2] / "fixtures" / "hl-rsa-2023.toml").read_text(encoding="utf-8")
    with pytest.raises(DomainError) as caught:
        load_operation(seed_text.replace("fse_rate = 60", "fse_rate = 60\nsalary_pay_delay = 61"))
    assert "operation.salary_pay_delay" in "\n".join(caught.value.lines())
    db.session.rollback()
    load_operation(seed_text.replace("fse_rate = 60", "fse_rate = 60\nsalary_pay_delay = 5"))
    db.session.commit()
    assert db.session.scalar(select(Operation.salary_pay_delay)) == 5

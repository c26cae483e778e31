"""The dashboard's realised figure is the bilan formula (primer §5, §9): what the bilans
count (retained amounts once checked), plus what a bilan would count today among the
other lines; the costs a flat rate replaces never count."""
from datetime import date
from decimal import Decimal as D

from budget_app.claims import control, lifecycle
from budget_app.kernel.extensions import db
from budget_app.reporting.progress import operation_progress
from tests.claims.factories import declare
from tests.expenses.factories import make_expense
from tests.operations.factories import make_plan
from tests.staff.factories import make_staff_line

TODAY = date(2023, 6, 1)


def realised_rows(progress):
    return {row["code"]: row["realised"] for row in progress.rows if row["realised"]}


def test_personnel_20_staff_lines_never_count_as_realised(make_operation):
    """PERSONNEL_20 (CPR 55(1)): staff costs = 20 % of the other direct costs. With 1 000,00 €
    of running costs and a 5 000,00 € staff line, realised = 1 000,00 + 200,00 = 1 200,00 €;
    the staff line, replaced by the rate, is not counted."""
    operation = make_operation("OP-20")
    make_plan(operation, costs={("FONCTIONNEMENT", 2023): "10000.00"}, flat_rates={"PERSONNEL_20": "20"})
    make_expense(operation, "1000.00", incurred_on=date(2023, 1, 10), paid_on=date(2023, 1, 20))
    make_staff_line(operation, "5000.00", month=date(2023, 1, 1))
    progress = operation_progress(operation, TODAY, D("15"))
    assert realised_rows(progress) == {"FONCTIONNEMENT": D("1000.00"), "PERSONNEL_20": D("200.00")}
    assert progress.realised_total == D("1200.00")


def test_realised_uses_the_retained_amounts_and_the_bilan_rules(claims_world):
    """Seed operation. January, checked: 2 880,00 € of staff reduced to 2 400,00 €, + 15 % =
    2 760,00 €. February, no bilan yet: 1 000,00 € of staff counted (+ 150,00 €); an unpaid
    invoice and an incomplete one are not. Realised = 2 760,00 + 1 150,00 = 3 910,00 €."""
    operation = claims_world["operation"]
    make_staff_line(operation, "2880.00", month=date(2023, 1, 1))
    make_staff_line(operation, "1000.00", month=date(2023, 2, 1), name="Durand")
    make_expense(operation, "70.00", incurred_on=date(2023, 2, 10), paid_on=None)
    make_expense(operation, "80.00", incurred_on=date(2023, 2, 10), complete=False)
    claim = lifecycle.create_draft(operation, date(2023, 1, 1), date(2023, 1, 31))
    lifecycle.submit_claim(claim, today=date(2023, 2, 15))
    control.decide_line(claim, claim.lines.one(), "reduced", claims_world["controller"], amount=D("2400.00"),
                        reason="staff_time")
    control.finish_control(claim, claims_world["controller"])
    db.session.commit()
    progress = operation_progress(operation, TODAY, D("15"))
    assert realised_rows(progress) == {"PERSONNEL": D("3400.00"), "INDIRECTS_15": D("510.00")}
    assert progress.realised_total == D("3910.00")
    assert progress.fse_asked == claim.fse_due == D("1656.00")


def test_dashboard_shows_the_bilan_warnings(client, login, claims_world, monkeypatch):
    monkeypatch.setattr("budget_app.reporting.views.today_in_paris", lambda: date(2025, 7, 1))
    login(client, claims_world["officer"])
    page = client.get("/operations/HL-RSA-2023/tableau-de-bord").get_data(as_text=True)
    assert 'data-testid="bilan-warning"' in page and "Bilan final en retard" in page

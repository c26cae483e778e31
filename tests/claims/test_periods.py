"""Periods that start or end mid-month, months that straddle a boundary, the payment
deadline, and "nothing falls between two bilans" (primer §9)."""
from datetime import date
from decimal import Decimal as D

from budget_app.marks.services import declared_in
from budget_app.claims import control, lifecycle
from budget_app.claims.report import build_report, summary_rows
from budget_app.claims.selection import compute_period
from budget_app.expenses.models import Expense
from budget_app.kernel.extensions import db
from tests.expenses.factories import make_expense
from tests.staff.factories import make_staff_line


def test_a_period_starting_mid_month_keeps_that_months_staff_costs(claims_world):
    """Operation from 15/01/2023; statement 15/01-28/02. January's staff line (dated the
    1st) belongs to the period holding its last day within the operation (31/01): it is
    counted. 1 000,00 + 2 000,00 = 3 000,00 €; indirect 15 % = 450,00 €; total 3 450,00 €."""
    operation = claims_world["operation"]
    operation.start_date = date(2023, 1, 15)
    db.session.commit()
    make_staff_line(operation, "1000.00", month=date(2023, 1, 1))
    make_staff_line(operation, "2000.00", month=date(2023, 2, 1), name="Durand")
    result = compute_period(operation, date(2023, 1, 15), date(2023, 2, 28), as_of=date(2023, 3, 10))
    assert result.figures.categories == {"PERSONNEL": D("3000.00")}
    assert result.figures.total == D("3450.00")
    assert result.left_out == []


def test_a_straddling_staff_month_belongs_to_one_bilan_only(claims_world):
    """Interim bilan 01/01-15/06/2023: June's last day (30/06) is after its end, so June goes
    to the final bilan; May (31/05) stays in the interim one. Each month in one bilan."""
    operation = claims_world["operation"]
    may = make_staff_line(operation, "500.00", month=date(2023, 5, 1))
    june = make_staff_line(operation, "600.00", month=date(2023, 6, 1), name="Durand")
    interim = lifecycle.create_draft(operation, date(2023, 1, 1), date(2023, 6, 15))
    lifecycle.submit_claim(interim, today=date(2023, 7, 1))
    final = lifecycle.create_draft(operation, date(2023, 6, 16), date(2024, 12, 31), final=True)
    lifecycle.submit_claim(final, today=date(2023, 7, 1))
    db.session.commit()
    assert declared_in("staff_cost_line", [may.id, june.id]) == {may.id: interim.id, june.id: final.id}
    assert interim.figures["declared"]["categories"] == {"PERSONNEL": "500.00"}


def test_an_operation_ending_mid_month_keeps_its_last_month(make_operation):
    """Operation 01/01/2023-14/01/2024: January 2024's line belongs to the final bilan (its
    last day within the operation is the 14th)."""
    operation = make_operation(start_date=date(2023, 1, 1), end_date=date(2024, 1, 14))
    line = make_staff_line(operation, "300.00", month=date(2024, 1, 1))
    result = compute_period(operation, date(2024, 1, 1), date(2024, 1, 31), as_of=date(2024, 2, 1))
    assert result.figures.categories == {"PERSONNEL": D("300.00")}
    assert line.month == date(2024, 1, 1)


def test_december_salaries_paid_in_january_count(claims_world):
    """Primer §9: incurred in the realisation period (December 2024) and paid by the payment
    deadline (end + 6 months = 30/06/2025): eligible; paid on 01/07/2025: left out. The
    export says which date applied."""
    operation = claims_world["operation"]
    make_expense(operation, "100.00", incurred_on=date(2024, 12, 20), paid_on=date(2025, 1, 10))
    make_expense(operation, "7.00", incurred_on=date(2024, 12, 20), paid_on=date(2025, 7, 1))
    result = compute_period(operation, date(2024, 12, 1), date(2024, 12, 31), as_of=date(2025, 8, 1))
    assert result.figures.categories["FONCTIONNEMENT"] == D("100.00")
    assert [(line.reason, line.amount) for line in result.left_out] == [("outside_payment_period", D("7.00"))]
    operation.payment_deadline = date(2025, 7, 31)  # an agreement with a later deadline
    db.session.commit()
    result = compute_period(operation, date(2024, 12, 1), date(2024, 12, 31), as_of=date(2025, 8, 1))
    assert result.figures.categories["FONCTIONNEMENT"] == D("107.00")
    rows = {label: value for label, value, _kind in summary_rows(build_report(operation, date(2024, 12, 1),
                                                                              date(2024, 12, 31)))}
    assert rows["Date limite d'acquittement appliquée"] == date(2025, 7, 31)


def test_a_cost_paid_after_its_period_goes_into_the_next_bilan(claims_world):
    """Nothing falls between two bilans (primer §9): an invoice of January paid on 10/03,
    after the interim bilan was submitted (01/03), is declared by the final bilan."""
    operation = claims_world["operation"]
    make_staff_line(operation, "100.00", month=date(2023, 1, 1))
    late = make_expense(operation, "50.00", incurred_on=date(2023, 1, 20), paid_on=date(2023, 3, 10))
    interim = lifecycle.create_draft(operation, date(2023, 1, 1), date(2023, 1, 31))
    computation = lifecycle.submit_claim(interim, today=date(2023, 3, 1))
    assert computation.figures.categories.get("FONCTIONNEMENT") in (None, D("0.00"))
    final = lifecycle.create_draft(operation, date(2023, 2, 1), date(2024, 12, 31), final=True)
    lifecycle.submit_claim(final, today=date(2023, 4, 1))
    db.session.commit()
    assert declared_in("expense", [late.id]) == {late.id: final.id}
    assert final.figures["declared"]["categories"]["FONCTIONNEMENT"] == "50.00"


def test_a_credit_note_on_a_checked_line_goes_into_the_next_bilan_naming_it(claims_world):
    """Primer §9: a credit note dated in the interim bilan's period but entered after its
    check (−30,00 € on the 100,00 € invoice of that bilan) goes into the final bilan as a
    negative line naming the line it reduces and the bilan holding it."""
    operation = claims_world["operation"]
    invoice = make_expense(operation, "100.00", incurred_on=date(2023, 1, 10), paid_on=date(2023, 1, 20),
                           supplier="Papeterie du Velay")
    interim = lifecycle.create_draft(operation, date(2023, 1, 1), date(2023, 1, 31))
    lifecycle.submit_claim(interim, today=date(2023, 2, 1))
    control.finish_control(interim, claims_world["controller"])
    note = make_expense(operation, "-30.00", incurred_on=date(2023, 1, 25), paid_on=date(2023, 2, 5),
                        credit_note_of=invoice, supplier="Papeterie du Velay")
    final = lifecycle.create_draft(operation, date(2023, 2, 1), date(2024, 12, 31), final=True)
    lifecycle.submit_claim(final, today=date(2023, 3, 1))
    db.session.commit()
    line = final.lines.one()
    assert (line.expense_id, line.declared_amount) == (note.id, D("-30.00"))
    assert f"avoir sur Papeterie du Velay n° {invoice.document_number} (dépense n° {invoice.id}, bilan n° 1)" \
        in line.reference
    assert final.figures["declared"]["categories"]["FONCTIONNEMENT"] == "-30.00"

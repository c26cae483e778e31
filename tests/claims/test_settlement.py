"""Settling money after the check: a credit note on a line the check reduced, the payment
received (never above what is expected; a repayment on a final bilan), the advance's date,
and a bilan submitted twice. Hand computations in each docstring."""
from datetime import date
from decimal import Decimal as D

import pytest

from budget_app.claims import control, lifecycle, payments
from budget_app.claims.advances import record_advance
from budget_app.claims.models import ClaimLine
from budget_app.kernel.errors import DomainError
from budget_app.kernel.extensions import db
from budget_app.kernel.formatting import today_in_paris
from budget_app.operations.models import Organisation
from tests.expenses.factories import make_expense
from tests.operations.factories import make_plan

from .factories import declare

TODAY = date(2025, 3, 1)


@pytest.fixture
def association(make_operation, make_user):
    """An association, 2023-2024, 60 %, agreed FSE+ 6 000,00 € on a 10 000,00 € plan of
    running costs (no flat rate), 30 % advance (at most 1 800,00 €), recovered at the final bilan."""
    controller = make_user("controller", email="ctrl-settle@example.org")
    operation = make_operation("SETTLE", organisation=Organisation(name="Association du Velay", kind="association"),
                               fse_amount=D("6000.00"), advance_rate=D("30"), members=[controller])
    operation.advance_recovery = "final"
    make_plan(operation, costs={("FONCTIONNEMENT", 2023): "5000.00", ("FONCTIONNEMENT", 2024): "5000.00"},
              flat_rates={})
    declare(controller, operation)
    db.session.commit()
    return operation, controller


def _checked(operation, controller, start, end, final=False, decide=None):
    claim = lifecycle.create_draft(operation, start, end, final=final)
    lifecycle.submit_claim(claim, today=TODAY)
    if decide:
        decide(claim)
    control.finish_control(claim, controller)
    db.session.commit()
    return claim


def _line(claim, expense):
    return claim.lines.filter(ClaimLine.expense_id == expense.id).one()


def test_a_credit_note_on_a_reduced_line_is_reduced_so_the_line_stays_at_zero(association):
    """Invoice 3 000,00 € declared in bilan 1, reduced to 500,00 € (2 500,00 € not justified).
    The supplier then refunds 2 000,00 €: the credit note (−2 000,00 €) goes to bilan 2. Kept
    whole, the invoice would count 500,00 − 2 000,00 = −1 500,00 € (primer §9: never below
    zero). The controller retains 500,00 € of it (typed without sign): −500,00 €, the invoice
    nets to 0,00 €; bilan 2 retains 1 000,00 − 500,00 = 500,00 €, FSE+ due 60 % = 300,00 €."""
    operation, controller = association
    invoice = make_expense(operation, "3000.00", incurred_on=date(2023, 3, 1), paid_on=date(2023, 3, 5))
    first = _checked(operation, controller, date(2023, 1, 1), date(2023, 12, 31), decide=lambda claim: control.decide_line(
        claim, _line(claim, invoice), "reduced", controller, amount=D("500.00"), reason="not_justified"))
    assert first.total_retained == D("500.00")
    note = make_expense(operation, "-2000.00", incurred_on=date(2024, 2, 1), paid_on=date(2024, 2, 1),
                        credit_note_of=invoice)
    make_expense(operation, "1000.00", incurred_on=date(2024, 3, 1), paid_on=date(2024, 3, 5))
    second = lifecycle.create_draft(operation, date(2024, 1, 1), date(2024, 12, 31), final=True)
    lifecycle.submit_claim(second, today=TODAY)
    line = _line(second, note)
    assert line.declared_amount == D("-2000.00")
    with pytest.raises(DomainError, match="inférieure à 2\u202f000,00"):
        control.decide_line(second, line, "reduced", controller, amount=D("2000.00"), reason="not_justified")
    control.decide_line(second, line, "reduced", controller, amount=D("500.00"), reason="not_justified",
                        comment="l'avoir porte sur la part déjà écartée au bilan 1")
    assert line.retained_amount == D("-500.00")
    assert first.total_retained + line.retained_amount == D("0.00")  # the invoice nets to zero
    control.finish_control(second, controller)
    db.session.commit()
    assert (second.total_retained, second.fse_due) == (D("500.00"), D("300.00"))


def test_a_reduced_credit_note_is_held_by_the_database_too(association):
    """The check constraint agrees with the rule: a reduced credit note lies between its
    declared amount and zero."""
    operation, controller = association
    invoice = make_expense(operation, "300.00", incurred_on=date(2023, 3, 1), paid_on=date(2023, 3, 5))
    make_expense(operation, "-100.00", incurred_on=date(2023, 3, 2), paid_on=date(2023, 3, 5), credit_note_of=invoice)
    claim = lifecycle.create_draft(operation, date(2023, 1, 1), date(2023, 12, 31))
    lifecycle.submit_claim(claim, today=TODAY)
    db.session.commit()
    line = claim.lines.filter(ClaimLine.declared_amount < 0).one()
    line.decision, line.retained_amount, line.reason = "reduced", D("-150.00"), "other"
    with pytest.raises(Exception, match="(?i)check|constraint"):
        db.session.flush()
    db.session.rollback()


def test_the_payment_received_never_exceeds_the_payment_expected(association):
    """Bilan 1: 2 000,00 € retained, FSE+ due 1 200,00 €, nothing recovered (advance
    recovered at the final bilan): 1 200,00 € expected; 1 200,01 € is refused, 1 150,00 €
    (a deduction by the paying body) is recorded."""
    operation, controller = association
    make_expense(operation, "2000.00", incurred_on=date(2023, 3, 1), paid_on=date(2023, 3, 5))
    claim = _checked(operation, controller, date(2023, 1, 1), date(2023, 12, 31))
    assert payments.expected_payment(claim) == D("1200.00")
    with pytest.raises(DomainError, match="dépasse le paiement attendu"):
        payments.record_payment(claim, today_in_paris(), D("1200.01"))
    with pytest.raises(DomainError, match="ne peut pas être négatif"):
        payments.record_payment(claim, today_in_paris(), D("-1.00"))
    assert claim.state == "controlled"
    payments.record_payment(claim, today_in_paris(), D("1150.00"))
    assert (claim.state, claim.amount_paid) == ("paid", D("1150.00"))


def test_a_final_bilan_below_what_was_paid_records_a_repayment(association, runner):
    """Advance 1 800,00 € (30 % × 6 000,00), recovered at the final bilan. The whole
    operation retains 1 000,00 €: FSE+ due 600,00 €, expected 600,00 − 1 800,00 = −1 200,00 €:
    the beneficiary repays 1 200,00 €. 0,00 € is refused (the repayment would be lost), more
    than 1 200,00 € is refused, −1 200,00 € is recorded."""
    operation, controller = association
    record_advance(operation, date(2023, 2, 1), D("1800.00"))
    make_expense(operation, "1000.00", incurred_on=date(2023, 3, 1), paid_on=date(2023, 3, 5))
    claim = _checked(operation, controller, date(2023, 1, 1), date(2024, 12, 31), final=True)
    assert (claim.fse_due, payments.expected_payment(claim)) == (D("600.00"), D("-1200.00"))
    with pytest.raises(DomainError, match="attend un reversement de 1\u202f200,00"):
        payments.record_payment(claim, today_in_paris(), D("0.00"))
    with pytest.raises(DomainError, match="dépasse ce que le bénéficiaire doit reverser"):
        payments.record_payment(claim, today_in_paris(), D("-1200.01"))
    result = runner.invoke(args=["bilans", "pay", "SETTLE", str(claim.number), "--amount", "-1 200,00",
                                 "--date", today_in_paris().isoformat()])
    assert result.exit_code == 0, result.output
    db.session.refresh(claim)
    assert (claim.state, claim.amount_paid) == ("paid", D("-1200.00"))


def test_an_advance_is_not_dated_before_the_operation_starts(association):
    operation, _controller = association
    with pytest.raises(DomainError, match="le 31/12/2022 précède son début \\(01/01/2023\\)"):
        record_advance(operation, date(2022, 12, 31), D("100.00"))
    assert record_advance(operation, date(2023, 1, 1), D("100.00")).amount == D("100.00")


def test_a_bilan_submitted_twice_says_it_is_already_submitted(association):
    operation, _controller = association
    make_expense(operation, "100.00", incurred_on=date(2023, 3, 1), paid_on=date(2023, 3, 5))
    claim = lifecycle.create_draft(operation, date(2023, 1, 1), date(2023, 12, 31))
    lifecycle.submit_claim(claim, today=TODAY)
    with pytest.raises(DomainError, match="Déposé"):
        lifecycle.submit_claim(claim, today=TODAY)

"""The FSE+ advance (primer §8-9): who gets one, how much, and when it is recovered."""
from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from budget_app.claims import control, lifecycle, payments
from budget_app.claims.advances import advance_outstanding, record_advance
from budget_app.kernel.errors import DomainError
from budget_app.kernel.extensions import db
from budget_app.kernel.formatting import today_in_paris
from budget_app.operations.models import Organisation
from tests.staff.factories import make_staff_line

from .factories import declare


@pytest.fixture
def partner(make_operation, make_user):
    """An association, 30 % advance rate, agreed FSE+ 89 000,00 € (the Lot partner): at most
    26 700,00 € of advance. 2023-2024, with the seed-like plan's controller."""
    controller = make_user("controller", email="ctrl-partner@example.org")
    operation = make_operation("PARTNER", organisation=Organisation(name="Association du Causse", kind="association"),
                               fse_amount=D("89000.00"), advance_rate=D("30"), members=[controller])
    declare(controller, operation)
    return operation, controller


def test_no_advance_for_a_collectivite_unless_the_agreement_says_so(claims_world):
    operation = claims_world["operation"]  # Département: kind collectivité
    operation.advance_rate = D("30")
    db.session.commit()
    with pytest.raises(DomainError, match="Collectivité"):
        record_advance(operation, date(2023, 1, 5), D("1000.00"))
    operation.advance_override, operation.advance_override_reason = True, "Convention, article 6"
    db.session.commit()
    assert record_advance(operation, date(2023, 1, 5), D("1000.00")).amount == D("1000.00")


def test_advances_never_exceed_the_rate_times_the_agreed_amount(partner):
    """30 % × 89 000,00 = 26 700,00 €: 20 000,00 then 6 700,00 are accepted, one more cent is not."""
    operation, _controller = partner
    record_advance(operation, date(2023, 1, 5), D("20000.00"))
    record_advance(operation, date(2023, 2, 5), D("6700.00"))
    with pytest.raises(DomainError, match="26\u202f700,00"):
        record_advance(operation, date(2023, 3, 5), D("0.01"))


def test_an_advance_dated_after_today_is_refused(partner):
    operation, _controller = partner
    with pytest.raises(DomainError, match="futur"):
        record_advance(operation, today_in_paris() + timedelta(days=1), D("100.00"))


def _two_bilans(operation, controller):
    make_staff_line(operation, "10000.00", month=date(2023, 1, 1))
    make_staff_line(operation, "10000.00", month=date(2023, 2, 1), name="Durand")
    done = []
    for start, end, final in ((date(2023, 1, 1), date(2023, 1, 31), False),
                              (date(2023, 2, 1), date(2024, 12, 31), True)):
        claim = lifecycle.create_draft(operation, start, end, final=final)
        lifecycle.submit_claim(claim, today=date(2023, 3, 1))
        control.finish_control(claim, controller)
        db.session.commit()
        done.append(claim)
    return done


def test_advance_recovered_on_interim_payments_by_default(partner):
    """Advance 26 700,00 €; each bilan: 10 000,00 € of staff (no plan, no flat rate), FSE+ 60 %
    = 6 000,00 €. Interim: 6 000,00 recovered, 0,00 paid. Final: everything still
    outstanding is recovered (20 700,00): payment −14 700,00 € (to be paid back)."""
    operation, controller = partner
    record_advance(operation, date(2023, 1, 5), D("26700.00"))
    interim, final = _two_bilans(operation, controller)
    assert (interim.fse_due, interim.advance_recovered, payments.expected_payment(interim)) == (
        D("6000.00"), D("6000.00"), D("0.00"))
    assert (final.fse_due, final.advance_recovered, payments.expected_payment(final)) == (
        D("6000.00"), D("20700.00"), D("-14700.00"))
    assert advance_outstanding(operation) == D("0.00")


def test_advance_recovered_at_the_final_balance_when_the_operation_says_so(partner):
    """Same figures, recovery at the final balance: the interim payment is the whole
    6 000,00 €; the final one recovers the 26 700,00 € (payment −20 700,00 €)."""
    operation, controller = partner
    operation.advance_recovery = "final"
    db.session.commit()
    record_advance(operation, date(2023, 1, 5), D("26700.00"))
    interim, final = _two_bilans(operation, controller)
    assert (interim.advance_recovered, payments.expected_payment(interim)) == (D("0.00"), D("6000.00"))
    assert (final.advance_recovered, payments.expected_payment(final)) == (D("26700.00"), D("-20700.00"))


def test_advances_record_command(runner, partner):
    operation, _controller = partner
    result = runner.invoke(args=["advances", "record", "PARTNER", "--amount", "26 700,00", "--date", "05/01/2023"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["advances", "record", "PARTNER", "--amount", "1,00", "--date", "06/01/2023"])
    assert result.exit_code == 1 and result.output.startswith("Erreur : Avance refusée")
    result = runner.invoke(args=["advances", "record", "NOPE", "--amount", "1,00", "--date", "06/01/2023"])
    assert result.exit_code == 1 and "Opération inconnue" in result.output
    assert advance_outstanding(operation) == D("26700.00")

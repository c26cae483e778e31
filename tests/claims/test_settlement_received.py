"""The operation settled on what was actually received (primer §5.5: « − FSE+ already
paid »): a payment below (or above) the payment expected is carried onto the next
payment, and the final bilan settles Σ FSE+ due − Σ received. Hand computations in each
docstring."""
import json
from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from budget_app.claims import control, lifecycle, payments
from budget_app.claims.account import statement_of_account
from budget_app.claims.advances import record_advance
from budget_app.claims.settlement import carry, shortfall
from budget_app.kernel.errors import DomainError
from budget_app.kernel.extensions import db
from budget_app.kernel.formatting import today_in_paris
from budget_app.operations.models import Organisation
from tests.expenses.factories import make_expense
from tests.operations.factories import make_plan

from .factories import declare

TODAY = date(2026, 3, 1)


@pytest.fixture
def association(make_operation, make_user):
    """An association, 2023-2025 (36 months: one or two interims), 60 %, agreed FSE+
    25 000,00 € on a 42 000,00 € plan of running costs (no flat rate); 30 % advance = 7 500,00 € paid on 01/02/2023, recovered at
    the final bilan."""
    controller = make_user("controller", email="ctrl-received@example.org")
    operation = make_operation("RECEIVED", organisation=Organisation(name="Association de l'Yssingelais",
                                                                     kind="association"),
                               fse_amount=D("25000.00"), advance_rate=D("30"), members=[controller],
                               end_date=date(2025, 12, 31))
    operation.advance_recovery = "final"
    make_plan(operation, costs={("FONCTIONNEMENT", 2023): "14000.00", ("FONCTIONNEMENT", 2024): "14000.00",
                                     ("FONCTIONNEMENT", 2025): "14000.00"},
              flat_rates={})
    declare(controller, operation)
    record_advance(operation, date(2023, 2, 1), D("7500.00"))
    db.session.commit()
    return operation, controller


def _checked(operation, controller, start, end, final=False):
    claim = lifecycle.create_draft(operation, start, end, final=final)
    lifecycle.submit_claim(claim, today=TODAY)
    control.finish_control(claim, controller)
    db.session.commit()
    return claim


def _interim(operation, controller, amount="10000.00", year=2023):
    make_expense(operation, amount, incurred_on=date(year, 3, 1), paid_on=date(year, 3, 5))
    return _checked(operation, controller, date(year, 1, 1), date(year, 12, 31))


def _final(operation, controller, amount="7325.00", start=date(2024, 1, 1)):
    make_expense(operation, amount, incurred_on=date(2025, 9, 1), paid_on=date(2025, 9, 5))
    return _checked(operation, controller, start, date(2025, 12, 31), final=True)


def test_an_underpaid_interim_is_settled_at_the_final_bilan(association, runner):
    """Interim n° 1: 10 000,00 € retained, FSE+ due 60 % = 6 000,00 €, nothing recovered
    (recovery at the final): 6 000,00 € expected; the paying body pays 5 940,00 € (60,00 € short).
    Final n° 2 (2024-2025): 7 325,00 € more, cumulated 17 325,00 € × 60 % = 10 395,00 €; FSE+ due
    10 395,00 − 6 000,00 = 4 395,00 €; it recovers the whole advance 7 500,00 €.
    Settled on what was due: 4 395,00 − 7 500,00 = −3 105,00 €. Settled on what was received:
    −3 105,00 + 60,00 = −3 045,00 €, i.e. Σ due 10 395,00 − Σ received (7 500,00 + 5 940,00 =
    13 440,00) = −3 045,00 €: the beneficiary repays 3 045,00 €."""
    operation, controller = association
    interim = _interim(operation, controller)
    assert payments.expected_payment(interim) == D("6000.00")
    payments.record_payment(interim, today_in_paris(), D("5940.00"))
    db.session.commit()
    final = _final(operation, controller)
    assert (final.fse_due, final.advance_recovered) == (D("4395.00"), D("7500.00"))
    assert payments.carried_payment(final) == D("60.00")
    assert payments.expected_payment(final) == D("-3045.00")
    # The interim keeps its figures: expected 6 000,00, received 5 940,00, nothing carried onto it.
    assert (payments.expected_payment(interim), interim.carried_forward) == (D("6000.00"), D("0.00"))

    account = statement_of_account(operation)
    assert [(row.kind, row.due, row.expected, row.received, row.difference, row.balance) for row in account.rows] == [
        ("advance", D("0"), None, D("7500.00"), None, D("-7500.00")),
        ("bilan", D("6000.00"), D("6000.00"), D("5940.00"), D("-60.00"), D("-7440.00")),
        ("bilan", D("4395.00"), D("-3045.00"), None, None, D("-3045.00")),
    ]
    assert (account.total_due, account.total_received, account.settlement) == (
        D("10395.00"), D("13440.00"), D("-3045.00"))

    result = runner.invoke(args=["bilans", "account", "RECEIVED", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["final_settlement"], data["balance"], data["rows"][1]["difference"]) == ("-3045.00", "-3045.00",
                                                                                          "-60.00")
    shown = json.loads(runner.invoke(args=["bilans", "show", "RECEIVED", "2", "--json"]).output)
    assert (shown["carried_forward"], shown["payment_expected"]) == ("60.00", "-3045.00")

    with pytest.raises(DomainError, match="dépasse ce que le bénéficiaire doit reverser"):
        payments.record_payment(final, today_in_paris(), D("-3045.01"))
    payments.record_payment(final, today_in_paris(), D("-3045.00"))
    db.session.commit()
    account = statement_of_account(operation)
    assert (account.balance, account.settled, final.carried_forward) == (D("0.00"), True, D("60.00"))


def test_a_shortfall_is_carried_onto_the_next_interim_then_no_further(association):
    """Interim n° 1: due 6 000,00 €, paid 5 940,00 € (60,00 short). Interim n° 2 (2024): 1 000,00 € retained, due 600,00 €; expected 600,00 + 60,00 = 660,00 €, paid in full.
    Final n° 3: 6 325,00 € more, cumulated 17 325,00 € × 60 % = 10 395,00 €, due 10 395,00 −
    6 600,00 = 3 795,00 €, recovers 7 500,00 €: 3 795,00 − 7 500,00 = −3 705,00 €, nothing
    carried (the shortfall was paid with n° 2). Check: Σ due 10 395,00 − Σ received
    (7 500,00 + 5 940,00 + 660,00 = 14 100,00) = −3 705,00 €."""
    operation, controller = association
    first = _interim(operation, controller)
    payments.record_payment(first, today_in_paris(), D("5940.00"))
    db.session.commit()
    second = _interim(operation, controller, "1000.00", year=2024)
    assert (second.fse_due, payments.expected_payment(second)) == (D("600.00"), D("660.00"))
    payments.record_payment(second, today_in_paris(), D("660.00"))
    db.session.commit()
    final = _final(operation, controller, "6325.00", start=date(2025, 1, 1))
    assert (final.fse_due, payments.carried_payment(final), payments.expected_payment(final)) == (
        D("3795.00"), D("0.00"), D("-3705.00"))
    assert statement_of_account(operation).balance == D("-3705.00")


def test_an_overpayment_is_recorded_only_when_confirmed_and_deducted_at_the_final(association, runner):
    """Interim n° 1 expects 6 000,00 €; the paying body pays 6 060,00 €. Refused unless
    confirmed (a typing error is more likely); confirmed, it is recorded and the final bilan's
    repayment grows by 60,00 €: −3 105,00 − 60,00 = −3 165,00 €."""
    operation, controller = association
    interim = _interim(operation, controller)
    with pytest.raises(DomainError, match="dépasse le paiement attendu"):
        payments.record_payment(interim, today_in_paris(), D("6060.00"))
    result = runner.invoke(args=["bilans", "pay", "RECEIVED", "1", "--amount", "6 060,00",
                                 "--date", today_in_paris().isoformat(), "--overpayment"])
    assert result.exit_code == 0, result.output
    db.session.refresh(interim)
    assert interim.amount_paid == D("6060.00")
    final = _final(operation, controller)
    assert payments.expected_payment(final) == D("-3165.00")
    with pytest.raises(DomainError, match="dépasse ce que le bénéficiaire doit reverser"):
        payments.record_payment(final, today_in_paris(), D("-3165.01"), overpayment=True)


def test_an_excess_never_makes_an_interim_payment_negative():
    """An excess of 500,00 € received earlier (shortfall −500,00) on an interim expecting
    300,00 €: 300,00 is deducted (payment 0,00), 200,00 waits for the final, which takes all."""
    assert carry(D("-500.00"), D("300.00"), final=False) == D("-300.00")
    assert carry(D("-500.00"), D("300.00"), final=True) == D("-500.00")
    assert carry(D("60.00"), D("300.00"), final=False) == D("60.00")


@settings(max_examples=200, deadline=None)
@given(
    advance=st.integers(min_value=0, max_value=500_000).map(lambda cents_: D(cents_) / 100),
    interims=st.lists(st.tuples(st.integers(min_value=0, max_value=2_000_000), st.integers(min_value=-50_000,
                                                                                          max_value=50_000)),
                      max_size=4),
    final_due=st.integers(min_value=-500_000, max_value=2_000_000).map(lambda cents_: D(cents_) / 100),
)
def test_received_plus_the_final_settlement_is_all_that_was_due(advance, interims, final_due):
    """Whatever each interim was paid (expected ± up to 500,00 €, never below zero), with the
    advance recovered at the final: Σ advances + Σ payments + the final settlement = Σ FSE+ due."""
    paid = []  # (base, received) of each paid interim
    received = advance
    for due_cents, delta_cents in interims:
        base = D(due_cents) / 100
        expected = base + carry(shortfall(paid), base, final=False)
        assert expected >= 0
        amount = max(D("0.00"), expected + D(delta_cents) / 100)
        paid.append((base, amount))
        received += amount
    final_base = final_due - advance
    settlement = final_base + carry(shortfall(paid), final_base, final=True)
    total_due = sum((base for base, _ in paid), D("0.00")) + final_due
    assert received + settlement == total_due


def test_the_statement_of_account_is_on_the_bilans_page_and_in_the_exports(association, client, login):
    """The same scenario as the first test: the page shows interim n° 1's difference
    (−60,00 €) and the final's settlement (−3 045,00 €); the bilan's Récapitulatif (XLSX and
    PDF) carries the same statement."""
    from budget_app.claims.exports import xlsx_bytes
    from budget_app.claims.report import build_report, summary_rows

    operation, controller = association
    interim = _interim(operation, controller)
    payments.record_payment(interim, today_in_paris(), D("5940.00"))
    db.session.commit()
    final = _final(operation, controller)
    login(client, controller)
    page = client.get("/operations/RECEIVED/demandes/").get_data(as_text=True)
    assert 'data-testid="account-settlement">-3 045,00' in page.replace("−", "-")
    printed = client.get(f"/operations/RECEIVED/demandes/{final.number}/imprimer").get_data(as_text=True)
    assert 'data-testid="account-settlement">-3\u202f045,00' in printed.replace("\u2212", "-")
    assert 'data-testid="carried-forward"' in client.get(f"/operations/RECEIVED/demandes/{final.number}").get_data(
        as_text=True)
    report = build_report(operation, final.period_start, final.period_end, claim=final)
    rows = summary_rows(report)
    assert ("Report des paiements précédents (manque + / trop-perçu −)", D("60.00"), "money") in rows
    assert ("Solde du bilan final (FSE+ dû sur toute l'opération − tout ce qui a été reçu)", D("-3045.00"),
            "money") in rows
    assert any(kind == "text" and value and "écart -60,00" in value.replace("\u2212", "-") for _, value, kind in rows)
    assert xlsx_bytes(report)[:2] == b"PK"

"""The rules of one expense: eligible amount, categories, period, amounts, keys, duplicates."""
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from budget_app.expenses.duplicates import DuplicateFinder
from budget_app.expenses.rules import (
    ExpenseRules,
    document_key,
    eligible_amount,
    eligible_computation,
    supplier_key,
)
from budget_app.expenses.services import create_expense, validate_expense
from budget_app.kernel.errors import DomainError
from budget_app.kernel.extensions import db
from budget_app.kernel.siret import siret_is_valid
from tests.expenses.factories import make_expense
from tests.operations.factories import make_plan


def test_eligible_amount_adds_vat_when_not_recoverable_and_applies_the_key():
    assert eligible_amount(Decimal("1000.00"), Decimal("200.00"), False, Decimal("50")) == Decimal("600.00")
    assert eligible_amount(Decimal("1000.00"), Decimal("200.00"), True, Decimal("50")) == Decimal("500.00")
    # 960,00 € × 33,3333 % = 319,99968 → 320,00 € (half-up once)
    assert eligible_amount(Decimal("960.00"), Decimal("0"), False, Decimal("33.3333")) == Decimal("320.00")
    # 0,125 → 0,13 (half-up, not banker's rounding)
    assert eligible_amount(Decimal("0.25"), Decimal("0"), False, Decimal("50")) == Decimal("0.13")


@given(
    amount=st.decimals(min_value=0, max_value=10**9, places=2),
    vat=st.decimals(min_value=0, max_value=10**8, places=2),
    recoverable=st.booleans(),
    key=st.decimals(min_value=Decimal("0.0001"), max_value=100, places=4),
)
def test_eligible_amount_is_a_cent_amount_never_above_the_cost(amount, vat, recoverable, key):
    result = eligible_amount(amount, vat, recoverable, key)
    assert result == result.quantize(Decimal("0.01"))
    base = amount + (0 if recoverable else vat)
    assert Decimal(0) <= result <= base
    assert abs(result - base * key / 100) <= Decimal("0.005")


def test_computation_is_shown(lot, expense_data):
    expense = create_expense(lot, expense_data(amount_excl_vat=Decimal("1250.00"), vat=Decimal("250.00"), allocation_percent=Decimal("60")))
    db.session.commit()
    assert expense.eligible_amount == Decimal("900.00")
    assert eligible_computation(expense) == "(1\u202f250,00\xa0€ + 250,00\xa0€) × 60,00\xa0% = 900,00\xa0€"


def test_keys_normalise_supplier_and_document():
    assert supplier_key("Bureau Vallée SARL", None) == supplier_key("BUREAU-VALLEE", None)
    assert supplier_key("X", "73282932000074") == "siret:73282932000074"
    assert document_key("FA-2019/0311") == document_key("fa 2019 0311")
    assert document_key("000123") == "123"


def test_siret_check_digit():
    assert siret_is_valid("73282932000074")
    assert not siret_is_valid("73282932000075")
    assert not siret_is_valid("7328293200007")


def fields(problems):
    return {problem.field for problem in problems}


def test_valid_line_has_no_problem(lot, expense_data):
    problems, duplicates = validate_expense(lot, expense_data())
    assert problems == []
    assert duplicates.warnings == []


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"incurred_on": date(2018, 12, 31)}, "incurred_on"),
        ({"paid_on": date(2020, 7, 1)}, "paid_on"),  # after the payment deadline (end + 6 months)
        ({"paid_on": None}, "paid_on"),
        ({"category": "PARTICIPANTS"}, "category"),  # not in the plan
        ({"category": "PERSONNEL"}, "category"),  # staff costs come from timesheets
        ({"category": "INCONNUE"}, "category"),
        ({"amount_excl_vat": Decimal("-10.00")}, "amount_excl_vat"),
        ({"vat": Decimal("-1.00")}, "vat"),
        ({"allocation_percent": Decimal("0")}, "allocation_percent"),
        ({"allocation_percent": Decimal("100.0001")}, "allocation_percent"),
        ({"supplier_name": ""}, "supplier_name"),
        ({"document_number": "--"}, "document_number"),
        ({"supplier_siret": "12345678901234"}, "supplier_siret"),
    ],
)
def test_rules_refuse(lot, expense_data, overrides, field):
    problems, _ = validate_expense(lot, expense_data(**overrides))
    assert field in fields(problems)


def test_category_covered_by_a_flat_rate_is_refused(make_operation, expense_data):
    operation = make_operation("OP-40", start_date=date(2019, 1, 1), end_date=date(2019, 12, 31))
    make_plan(operation, costs={("PERSONNEL", 2019): "1000", ("FONCTIONNEMENT", 2019): "100"}, flat_rates={"RESTANTS_40": "40"})
    problems, _ = validate_expense(operation, expense_data())
    assert any("taux forfaitaire" in problem.message for problem in problems)
    assert ExpenseRules(operation).categories == []


def test_hl_rsa_like_plan_accepts_no_expense(make_operation, expense_data):
    operation = make_operation("HL-RSA-2023")
    make_plan(operation, costs={("PERSONNEL", 2023): "362500", ("PERSONNEL", 2024): "362500"}, flat_rates={"INDIRECTS_15": "15"})
    problems, _ = validate_expense(operation, expense_data(incurred_on=date(2023, 3, 1), paid_on=date(2023, 3, 2)))
    assert fields(problems) == {"category"}


def test_credit_note_must_name_an_expense_of_the_operation(lot, expense_data):
    original = create_expense(lot, expense_data())
    db.session.commit()
    credit = expense_data(document_number="AV-1", amount_excl_vat=Decimal("-45.80"), vat=Decimal("-9.16"), credit_note_of_id=original.id)
    problems, _ = validate_expense(lot, credit)
    assert problems == []
    note = create_expense(lot, credit)
    db.session.commit()
    assert note.eligible_amount == Decimal("-54.96")
    problems, _ = validate_expense(lot, expense_data(document_number="AV-2", amount_excl_vat=Decimal("-1.00"), credit_note_of_id=999999))
    assert "credit_note_of" in fields(problems)
    problems, _ = validate_expense(lot, expense_data(document_number="AV-3", amount_excl_vat=Decimal("5.00"), credit_note_of_id=original.id))
    assert "amount_excl_vat" in fields(problems)


def test_duplicates_are_warnings_and_double_funding_an_error(lot, make_operation, expense_data):
    other = make_operation("LOT-2019-BIS", start_date=date(2019, 1, 1), end_date=date(2019, 12, 31))
    make_plan(other, costs={("FONCTIONNEMENT", 2019): "1000"}, flat_rates={})
    create_expense(lot, expense_data(allocation_percent=Decimal("60")))
    db.session.commit()
    # Same invoice, other operation, keys 60 + 40 = 100 %: shared through keys, a warning.
    problems, duplicates = validate_expense(other, expense_data(supplier_name="BUREAU VALLEE cahors", document_number="fa 2019 0311", allocation_percent=Decimal("40")))
    assert problems == []
    assert [match.operation_code for match in duplicates.warnings] == ["LOT-2019-ACI"]
    # 60 + 50 = 110 %: double funding, an error.
    problems, duplicates = validate_expense(other, expense_data(allocation_percent=Decimal("50")))
    assert "allocation_percent" in fields(problems)
    assert "110" in str(duplicates.double_funding)
    # Same supplier, amount and date, another document number: a warning.
    problems, duplicates = validate_expense(lot, expense_data(document_number="FA-2019-0999"))
    assert problems == []
    assert "même montant" in duplicates.warnings[0].reason


def test_create_refuses_an_invalid_line(lot, expense_data):
    with pytest.raises(DomainError):
        create_expense(lot, expense_data(category="PARTICIPANTS"))


def test_duplicate_finder_reads_each_supplier_once(lot, expense_data):
    create_expense(lot, expense_data())
    db.session.commit()
    finder = DuplicateFinder(lot)
    finder.load([supplier_key("Bureau Vallée Cahors", None)])
    check = finder.check(expense_data())
    assert check.already_recorded is not None


def test_factory_lines_carry_the_keys_the_rules_give(lot):
    """The test factory keys a line as the services do: "Bureau Vallée SARL" is the supplier
    "bureau vallee" (casefolded, no accent, no legal form), as "BUREAU-VALLEE" is; document
    "F00001" keeps its letter and digits."""
    expense = make_expense(lot, "100.00", incurred_on=date(2019, 3, 4), paid_on=date(2019, 3, 15),
                           supplier="Bureau Vallée SARL")
    assert expense.supplier_key == "nom:bureau vallee" == supplier_key("BUREAU-VALLEE", None)
    assert expense.document_key == document_key(expense.document_number) == expense.document_number
    assert expense.eligible_amount == Decimal("100.00")

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from budget_app.kernel.errors import DomainError
from budget_app.operations.flat_rates import (
    check_flat_rate_choice,
    flat_rate_amounts,
    flat_rate_bases,
)

D = Decimal


def test_seed_operation_indirect_costs_are_15_percent_of_staff_costs():
    # Primer §2: 725 000 € of direct staff costs, 15 % (CPR 54(b)) -> 108 750 €.
    assert flat_rate_amounts({"INDIRECTS_15": D("15")}, {"PERSONNEL": D("725000.00")}) == {"INDIRECTS_15": D("108750.00")}


def test_primer_worked_month():
    # Primer §5: staff 7 280,00 €, indirect 15 % = 1 092,00 €.
    assert flat_rate_amounts({"INDIRECTS_15": D("15")}, {"PERSONNEL": D("7280.00")})["INDIRECTS_15"] == D("1092.00")


def test_lot_partner_operation():
    costs = {"PERSONNEL": D("120000"), "FONCTIONNEMENT": D("30000"), "PRESTATIONS": D("10000")}
    assert flat_rate_amounts({"INDIRECTS_15": D("15")}, costs) == {"INDIRECTS_15": D("18000.00")}


def test_indirect_7_uses_all_direct_costs_but_not_in_kind():
    costs = {"PERSONNEL": D("1000"), "FONCTIONNEMENT": D("500"), "PARTICIPANTS": D("100"), "NATURE": D("999")}
    assert flat_rate_bases({"INDIRECTS_7": D("7")}, costs) == {"INDIRECTS_7": D("1600")}
    assert flat_rate_amounts({"INDIRECTS_7": D("7")}, costs) == {"INDIRECTS_7": D("112.00")}


def test_staff_20_percent_then_indirect_on_it():
    costs = {"FONCTIONNEMENT": D("1000.00"), "PRESTATIONS": D("500.00")}
    amounts = flat_rate_amounts({"PERSONNEL_20": D("20"), "INDIRECTS_15": D("15")}, costs)
    assert amounts == {"PERSONNEL_20": D("300.00"), "INDIRECTS_15": D("45.00")}


def test_rounding_is_half_up_once():
    assert flat_rate_amounts({"INDIRECTS_15": D("15")}, {"PERSONNEL": D("0.10")}) == {"INDIRECTS_15": D("0.02")}  # 0.015


@pytest.mark.parametrize(
    "rates",
    [
        {"INDIRECTS_15": D("15.01")},
        {"INDIRECTS_7": D("8")},
        {"RESTANTS_40": D("41")},
        {"RESTANTS_40": D("40"), "PERSONNEL_20": D("20")},
        {"RESTANTS_40": D("40"), "INDIRECTS_7": D("7")},
        {"INDIRECTS_7": D("7"), "INDIRECTS_15": D("15")},
        {"INDIRECTS_15": D("0")},
        {"UNKNOWN": D("1")},
    ],
)
def test_refused_choices(rates):
    with pytest.raises(DomainError):
        check_flat_rate_choice(rates)


def test_allowed_choices():
    check_flat_rate_choice({"INDIRECTS_15": D("15")})
    check_flat_rate_choice({"INDIRECTS_15": D("10")})
    check_flat_rate_choice({"PERSONNEL_20": D("20"), "INDIRECTS_7": D("7")})
    check_flat_rate_choice({"RESTANTS_40": D("40")})


amounts = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)


@given(amounts, amounts, st.decimals(min_value="0.01", max_value=15, places=2))
def test_flat_amount_is_rate_times_base_to_the_cent(staff, running, rate):
    result = flat_rate_amounts({"INDIRECTS_15": rate}, {"PERSONNEL": staff, "FONCTIONNEMENT": running})["INDIRECTS_15"]
    exact = staff * rate / 100
    assert result.as_tuple().exponent == -2
    assert abs(result - exact) <= D("0.005")
    assert result >= 0

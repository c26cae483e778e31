"""The financing-plan rules and figures, as pure functions (FSE+ primer §1-3)."""
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given
from hypothesis import strategies as st

from budget_app.kernel.siret import siret_is_valid
from budget_app.operations.plans import compute_plan, final_balance_deadline
from budget_app.operations.rules import (
    CostLine,
    FlatRateLine,
    OperationInput,
    OrganisationInput,
    PlanInput,
    ResourceLine,
    check_operation,
    check_organisation,
    check_plan,
)
from budget_app.reporting.progress import elapsed_share, forecast_at_pace

D = Decimal


def seed_operation(**changes):
    values = dict(code="HL-RSA-2023", title="Accompagnement rSa", start_date=date(2023, 1, 1),
                  end_date=date(2024, 12, 31), fse_rate=D("60"), fse_amount=D("500250.00"))
    values.update(changes)
    return OperationInput(**values)


def seed_plan(**changes):
    values = dict(
        costs=[CostLine("PERSONNEL", 2023, D("362500.00")), CostLine("PERSONNEL", 2024, D("362500.00"))],
        flat_rates=[FlatRateLine("INDIRECTS_15", D("15"))],
        resources=[ResourceLine("fse", "FSE+", D("500250.00")), ResourceLine("self", "Autofinancement", D("333500.00"))],
    )
    values.update(changes)
    return PlanInput(**values)


def paths(errors):
    return [found.field for found in errors]


def plain(text):
    return text.replace("\u202f", " ").replace("\xa0", " ")


def test_seed_plan_is_valid_and_its_figures_match_the_action_card():
    assert check_plan(seed_operation(), seed_plan()) == []
    plan = seed_plan()
    figures = compute_plan([(c.category, c.year, c.amount) for c in plan.costs], {"INDIRECTS_15": D("15")},
                           [(r.kind, r.name, r.amount) for r in plan.resources], D("60"), D("500250.00"))
    assert figures.total_cost == D("833750.00")
    assert figures.flat_rate_amounts == {"INDIRECTS_15": D("108750.00")}
    assert figures.fse_max == D("500250.00") and figures.fse_difference == 0
    assert figures.year_grand_totals == {2023: D("416875.00"), 2024: D("416875.00")}  # primer §2, per year
    assert figures.flat_rates["INDIRECTS_15"]["by_year"] == {2023: D("54375.00"), 2024: D("54375.00")}
    assert figures.balanced and figures.effective_rate == D("60.00")


def test_resources_must_equal_costs_to_the_cent():
    plan = seed_plan(resources=[ResourceLine("fse", "FSE+", D("500250.00")), ResourceLine("self", "Auto", D("333499.99"))])
    errors = check_plan(seed_operation(), plan)
    assert paths(errors) == ["plan.resources"]
    message = plain(errors[0].message)
    assert "833 749,99" in message and "833 750,00" in message and "-0,01" in message


def test_fse_above_rate_times_total_is_refused_showing_both_amounts_and_the_gap():
    plan = seed_plan(resources=[ResourceLine("fse", "FSE+", D("500250.01")), ResourceLine("self", "Auto", D("333499.99"))])
    errors = check_plan(seed_operation(fse_amount=D("500250.01")), plan)
    assert paths(errors) == ["operation.fse_amount"]
    message = plain(errors[0].message)
    assert "500 250,01" in message and "500 250,00" in message and "0,01" in message


def test_fse_resource_must_be_the_agreed_amount():
    errors = check_plan(seed_operation(fse_amount=D("400000.00")), seed_plan())
    assert "plan.resources" in paths(errors)


def test_flat_rate_above_its_ceiling_is_refused():
    errors = check_plan(seed_operation(), seed_plan(flat_rates=[FlatRateLine("INDIRECTS_15", D("15.01"))]))
    assert paths(errors) == ["plan.flat_rates[1].rate"]
    assert "15" in errors[0].message


def test_a_lower_rate_than_the_ceiling_is_allowed():
    plan = seed_plan(flat_rates=[FlatRateLine("INDIRECTS_15", D("10"))],
                     resources=[ResourceLine("fse", "FSE+", D("478500.00")), ResourceLine("self", "Auto", D("319000.00"))])
    assert check_plan(seed_operation(fse_amount=D("478500.00")), plan) == []


def test_remaining_costs_40_cannot_be_combined():
    plan = seed_plan(costs=[CostLine("FONCTIONNEMENT", 2023, D("1000"))],
                     flat_rates=[FlatRateLine("RESTANTS_40", D("40")), FlatRateLine("PERSONNEL_20", D("20"))])
    assert "plan.flat_rates" in paths(check_plan(seed_operation(), plan))
    plan = seed_plan(flat_rates=[FlatRateLine("RESTANTS_40", D("40")), FlatRateLine("INDIRECTS_7", D("7"))])
    assert "plan.flat_rates" in paths(check_plan(seed_operation(), plan))


def test_a_category_covered_by_a_flat_rate_cannot_carry_real_costs():
    plan = seed_plan(costs=[CostLine("PERSONNEL", 2023, D("1000")), CostLine("FONCTIONNEMENT", 2023, D("10"))],
                     flat_rates=[FlatRateLine("RESTANTS_40", D("40"))])
    assert "plan.costs[2].category" in paths(check_plan(seed_operation(), plan))
    plan = seed_plan(costs=[CostLine("PERSONNEL", 2023, D("1000")), CostLine("PRESTATIONS", 2023, D("1000"))],
                     flat_rates=[FlatRateLine("PERSONNEL_20", D("20"))])
    assert "plan.costs[1].category" in paths(check_plan(seed_operation(), plan))


def test_start_must_be_before_end():
    assert "operation.end_date" in paths(check_operation(seed_operation(end_date=date(2023, 1, 1))))
    assert "operation.end_date" in paths(check_operation(seed_operation(end_date=date(2022, 12, 31))))


def test_in_kind_contributions_appear_equally_in_costs_and_resources():
    costs = [CostLine("PERSONNEL", 2023, D("1000.00")), CostLine("NATURE", 2023, D("200.00"))]
    good = seed_plan(costs=costs, flat_rates=[], resources=[
        ResourceLine("fse", "FSE+", D("600.00")), ResourceLine("nature", "Locaux mis à disposition", D("200.00")),
        ResourceLine("self", "Auto", D("400.00"))])
    assert check_plan(seed_operation(fse_amount=D("600.00"), fse_rate=D("50")), good) == []
    bad = seed_plan(costs=costs, flat_rates=[], resources=[
        ResourceLine("fse", "FSE+", D("600.00")), ResourceLine("self", "Auto", D("600.00"))])
    errors = check_plan(seed_operation(fse_amount=D("600.00"), fse_rate=D("50")), bad)
    assert paths(errors) == ["plan.resources"] and "nature" in errors[0].message


def test_cost_years_within_the_period_and_one_amount_per_category_and_year():
    plan = seed_plan(costs=[CostLine("PERSONNEL", 2025, D("1")), CostLine("PERSONNEL", 2023, D("1")),
                            CostLine("PERSONNEL", 2023, D("2"))])
    assert paths(check_plan(seed_operation(), plan)) == ["plan.costs[1].year", "plan.costs[3].year"]


def test_unknown_codes_name_their_field():
    plan = seed_plan(costs=[CostLine("VOYAGES", 2023, D("1"))], flat_rates=[FlatRateLine("INDIRECTS_99", D("1"))],
                     resources=[ResourceLine("gift", "X", D("1"))])
    assert paths(check_plan(seed_operation(), plan)) == [
        "plan.costs[1].category", "plan.flat_rates[1].code", "plan.resources[1].kind"]


def test_operation_fields():
    op = seed_operation(code="bad code", fse_rate=D("0"), advance_rate=D("101"), hours_divisor=1600, status="done")
    assert paths(check_operation(op)) == ["operation.code", "operation.fse_rate", "operation.advance_rate",
                                          "operation.hours_divisor", "operation.status"]


def test_siret_luhn():
    assert siret_is_valid("99904600000017")
    assert not siret_is_valid("99904600000018")
    assert not siret_is_valid("9990460000001")
    assert not siret_is_valid("9990460000001A")
    assert siret_is_valid("73282932000074")  # a real-format SIRET with a valid key
    errors = check_organisation(OrganisationInput(name="Asso", kind="association", siret="12345678901234"))
    assert paths(errors) == ["organisation.siret"]
    assert check_organisation(OrganisationInput(name="Département", kind="collectivite", siret=None)) == []


def test_final_balance_deadline_is_six_months_after_the_end():
    assert final_balance_deadline(date(2024, 12, 31)) == date(2025, 6, 30)
    assert final_balance_deadline(date(2019, 8, 31)) == date(2020, 2, 29)


def test_elapsed_time_and_forecast_at_pace():
    start, end = date(2023, 1, 1), date(2024, 12, 31)  # 731 days
    assert elapsed_share(start, end, date(2022, 6, 1)) == 0
    assert elapsed_share(start, end, date(2030, 1, 1)) == 100
    assert elapsed_share(start, end, date(2023, 12, 31)) == D("49.93")  # 365 / 731
    assert forecast_at_pace(D("100000.00"), start, end, date(2023, 12, 31)) == D("200273.97")
    assert forecast_at_pace(D("100000.00"), start, end, date(2025, 3, 1)) == D("100000.00")


amounts = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False, allow_infinity=False)


@given(
    st.lists(st.tuples(st.sampled_from(["PERSONNEL", "FONCTIONNEMENT", "PRESTATIONS", "PARTICIPANTS"]),
                       st.integers(2021, 2027), amounts), max_size=12, unique_by=lambda t: (t[0], t[1])),
    st.sampled_from([{}, {"INDIRECTS_15": D("15")}, {"INDIRECTS_7": D("6.5")}, {"INDIRECTS_25": D("25")},
                     {"RESTANTS_40": D("40")}, {"PERSONNEL_20": D("20"), "INDIRECTS_15": D("15")}]),
)
def test_printed_parts_add_up_to_printed_totals(costs, rates):
    figures = compute_plan(costs, rates, [], D("60"), D("0"))
    assert figures.total_cost == figures.direct_total + figures.flat_total
    assert sum(figures.year_grand_totals.values(), D(0)) == figures.total_cost
    assert sum(figures.year_totals.values(), D(0)) == figures.direct_total
    for flat in figures.flat_rates.values():
        assert sum(flat["by_year"].values(), D(0)) == flat["amount"]
        assert flat["amount"] == flat["amount"].quantize(D("0.01"))
    assert figures.fse_max == (figures.total_cost * 60 / 100).quantize(D("0.01"), rounding=ROUND_HALF_UP)

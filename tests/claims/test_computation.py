"""Golden examples (FSE+ primer §5) and one test per rule of the claim computation."""
from datetime import date
from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from budget_app.kernel.errors import Conflict
from budget_app.marks.services import declare, place_hold
from budget_app.claims.computation import advance_recovery, claim_figures
from budget_app.claims.selection import compute_period
from budget_app.kernel.extensions import db
from tests.expenses.factories import make_expense
from tests.operations.factories import make_plan
from tests.staff.factories import make_staff_line

JANUARY = (date(2023, 1, 1), date(2023, 1, 31))


# -- pure function --------------------------------------------------------------------------

def test_primer_worked_example():
    """Seed operation, one month: staff 7 280,00 €, indirect 15 % = 1 092,00 €,
    total 8 372,00 €, FSE+ 60 % = 5 023,20 € (primer §5)."""
    figures = claim_figures({"PERSONNEL": D("7280.00")}, {"INDIRECTS_15": D("15")}, D("60"), D("500250.00"))
    assert figures.categories == {"PERSONNEL": D("7280.00")}
    assert figures.flat_rates == {"INDIRECTS_15": D("1092.00")}
    assert figures.total == D("8372.00")
    assert figures.fse_asked == D("5023.20")
    assert figures.fse_remaining == D("495226.80")


def test_fse_is_rounded_half_up_once():
    figures = claim_figures({"FONCTIONNEMENT": D("0.25")}, {}, D("50"), D("1000.00"))
    assert figures.fse_asked == D("0.13")  # 0.125 -> 0.13 (half-up, not banker's 0.12)


def test_cap_the_excess_is_shown_not_asked():
    figures = claim_figures({"PERSONNEL": D("10000.00")}, {}, D("60"), D("10000.00"), already_asked=D("8000.00"))
    assert figures.fse_computed == D("6000.00")
    assert figures.fse_asked == D("2000.00")
    assert figures.fse_cap_excess == D("4000.00")
    assert figures.fse_remaining == D("0.00")


def test_category_overrun_offset_within_the_plan_total():
    planned = {"PERSONNEL": D("1000.00"), "FONCTIONNEMENT": D("1000.00")}
    # Staff over its planned amount, running costs under: the total is inside the plan, all funded.
    figures = claim_figures({"PERSONNEL": D("1500.00")}, {}, D("50"), D("1000.00"), plan_total=D("2000.00"),
                            planned_by_category=planned)
    assert figures.category_overruns == {"PERSONNEL": D("500.00")}
    assert figures.over_plan == D("0.00") and figures.fse_asked == D("750.00")
    # Beyond the plan's total, the overrun is no longer offset: not funded.
    figures = claim_figures({"PERSONNEL": D("1500.00")}, {}, D("50"), D("1000.00"), plan_total=D("2000.00"),
                            previous_total=D("1000.00"), planned_by_category=planned)
    assert figures.over_plan == D("500.00")
    assert figures.fse_asked == D("500.00")


def test_flat_rate_replaces_its_category():
    figures = claim_figures({"PERSONNEL": D("100.00"), "FONCTIONNEMENT": D("1000.00")}, {"PERSONNEL_20": D("20")},
                            D("50"), D("10000.00"))
    assert "PERSONNEL" not in figures.categories
    assert figures.flat_rates == {"PERSONNEL_20": D("200.00")}
    assert figures.total == D("1200.00")


def test_advance_recovery_rule():
    # Interim payment = FSE+ due - advance not yet recovered (primer §5.5), never below zero.
    assert advance_recovery(D("5023.20"), D("0.00")) == (D("0.00"), D("5023.20"))
    assert advance_recovery(D("5023.20"), D("2000.00")) == (D("2000.00"), D("3023.20"))
    assert advance_recovery(D("5023.20"), D("9000.00")) == (D("5023.20"), D("0.00"))


amounts = st.decimals(min_value=D("-5000"), max_value=D("50000"), places=2, allow_nan=False, allow_infinity=False)
rate_choices = st.sampled_from([{}, {"INDIRECTS_15": D("15")}, {"INDIRECTS_7": D("7")}, {"INDIRECTS_25": D("25")},
                                {"RESTANTS_40": D("40")}, {"PERSONNEL_20": D("20")},
                                {"PERSONNEL_20": D("20"), "INDIRECTS_15": D("15")}])


@given(
    costs=st.dictionaries(st.sampled_from(["PERSONNEL", "FONCTIONNEMENT", "PRESTATIONS", "PARTICIPANTS", "NATURE"]),
                          amounts),
    rates=rate_choices,
    fse_rate=st.decimals(min_value=D("1"), max_value=D("100"), places=2),
    agreed=st.decimals(min_value=D("0"), max_value=D("100000"), places=2),
    already=st.decimals(min_value=D("0"), max_value=D("150000"), places=2),
)
def test_parts_add_up_and_the_cap_holds(costs, rates, fse_rate, agreed, already):
    figures = claim_figures(costs, rates, fse_rate, agreed, already_asked=already)
    assert sum(figures.categories.values(), D(0)) + sum(figures.flat_rates.values(), D(0)) == figures.total
    # Credit notes are netted in their period: a category keeps its (possibly negative) sum.
    assert all(figures.categories[category] == amount for category, amount in costs.items()
               if category in figures.categories)
    assert figures.fse_asked + figures.fse_cap_excess == figures.fse_computed
    assert figures.fse_asked >= min(D(0), figures.fse_computed)
    assert already + figures.fse_asked <= max(agreed, already)
    for value in (figures.total, figures.fse_asked, *figures.flat_rates.values()):
        assert value == value.quantize(D("0.01"))


# -- over the database ----------------------------------------------------------------------

def test_primer_example_from_cost_lines(claims_world):
    operation = claims_world["operation"]
    make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00"))
    make_staff_line(operation, "4400.00", hours=D("137.5"), rate=D("32.00"), name="Durand")
    result = compute_period(claims_world["operation"], *JANUARY, as_of=date(2023, 2, 15))
    figures = result.figures
    assert figures.categories == {"PERSONNEL": D("7280.00")}
    assert figures.flat_rates == {"INDIRECTS_15": D("1092.00")}
    assert (figures.total, figures.fse_asked) == (D("8372.00"), D("5023.20"))


def _reasons(result):
    return sorted((line.reason, line.amount) for line in result.left_out)


def test_each_left_out_reason(claims_world, monkeypatch):
    operation = claims_world["operation"]
    make_plan(operation, costs={("FONCTIONNEMENT", 2023): "10000.00"}, flat_rates={})  # amendment without flat rate
    make_expense(operation, "100.00")  # counted
    make_expense(operation, "1.00", paid_on=date(2023, 3, 1))  # paid after the claim date
    make_expense(operation, "2.00", paid_on=None)  # not paid
    make_expense(operation, "3.00", complete=False)  # documents missing
    make_staff_line(operation, "4.00", state="submitted")  # timesheet not approved
    suspect = make_expense(operation, "5.00")
    claimed = make_expense(operation, "6.00")
    deleted = make_expense(operation, "7.00")
    from datetime import datetime, timezone

    deleted.deleted_at = datetime.now(timezone.utc)
    db.session.commit()
    from budget_app.claims.models import Claim

    other = Claim(operation_id=operation.id, number=9, period_start=date(2022, 1, 1), period_end=date(2022, 1, 31),
                  state="submitted")
    db.session.add(other)
    db.session.flush()
    declare("expense", [claimed.id], other.id, Conflict(""))
    place_hold("expense", suspect.id)  # as a suspicion does
    db.session.commit()
    monkeypatch.setattr("budget_app.claims.selection.suspected_cost_lines", lambda op_id: {("expense", suspect.id)})
    result = compute_period(operation, *JANUARY, as_of=date(2023, 2, 15), evidence=True)  # what a bilan counts
    assert result.figures.categories == {"FONCTIONNEMENT": D("100.00")}
    assert _reasons(result) == [
        ("already_claimed", D("6.00")), ("incomplete", D("3.00")), ("not_paid", D("1.00")), ("not_paid", D("2.00")),
        ("on_hold", D("5.00")), ("timesheet_not_approved", D("4.00")),
    ]
    # A statement counts the line still missing its documents: 100,00 + 3,00 = 103,00 €.
    statement = compute_period(operation, *JANUARY, as_of=date(2023, 2, 15))
    assert statement.figures.categories == {"FONCTIONNEMENT": D("103.00")}
    assert ("incomplete", D("3.00")) not in _reasons(statement)


def test_outside_eligibility_period(claims_world, make_operation):
    operation = claims_world["operation"]
    operation.start_date = date(2023, 1, 15)
    db.session.commit()
    make_expense(operation, "10.00", incurred_on=date(2023, 1, 10))  # incurred before the start
    make_expense(operation, "20.00", incurred_on=date(2023, 1, 20))
    result = compute_period(operation, *JANUARY, as_of=date(2023, 2, 15))
    assert result.figures.categories.get("FONCTIONNEMENT") == D("20.00")
    assert _reasons(result) == [("outside_eligibility", D("10.00"))]


def test_paid_by_the_claim_date(claims_world):
    operation = claims_world["operation"]
    make_expense(operation, "10.00", paid_on=date(2023, 2, 10))
    assert compute_period(claims_world["operation"], *JANUARY, as_of=date(2023, 2, 9)).figures.total == D("0.00")
    assert compute_period(claims_world["operation"], *JANUARY, as_of=date(2023, 2, 10)).figures.total == D("10.00")


def test_credit_note_is_netted_in_its_period_even_below_zero(claims_world):
    """Primer §9: a credit note counts in the period of its date, even when its category
    goes negative for that period. December: a 100,00 € invoice (outside this January
    statement); January: 30,00 € of costs and a −50,00 € credit note on the invoice:
    30,00 − 50,00 = −20,00 € for January, nothing left out; with 40,00 € more, 20,00 €."""
    operation = claims_world["operation"]
    original = make_expense(operation, "100.00", incurred_on=date(2022, 12, 20))
    make_expense(operation, "30.00")
    make_expense(operation, "-50.00", credit_note_of=original)
    result = compute_period(claims_world["operation"], *JANUARY, as_of=date(2023, 2, 15))
    assert result.figures.categories["FONCTIONNEMENT"] == D("-20.00")
    assert result.figures.total == D("-20.00")
    assert result.left_out == []
    make_expense(operation, "40.00")
    result = compute_period(claims_world["operation"], *JANUARY, as_of=date(2023, 2, 15))
    assert result.figures.categories["FONCTIONNEMENT"] == D("20.00")  # 30 + 40 - 50


@given(st.lists(st.decimals(min_value=D("-500"), max_value=D("500"), places=2).filter(lambda v: v != 0),
                min_size=1, max_size=8))
def test_property_credit_notes_are_netted(claims_world, values):
    """Whatever the mix of costs and credit notes of a period, the period's category is
    their sum: nothing is left out, nothing is clamped (primer §9)."""
    from budget_app.expenses.models import Expense

    db.session.execute(db.delete(Expense))
    db.session.commit()
    operation = claims_world["operation"]
    original = make_expense(operation, "1.00", incurred_on=date(2022, 12, 1))
    for value in values:
        make_expense(operation, value, credit_note_of=original if value < 0 else None, commit=False)
    db.session.commit()
    result = compute_period(claims_world["operation"], *JANUARY, as_of=date(2023, 2, 15))
    amount = result.figures.categories.get("FONCTIONNEMENT", D("0.00"))
    assert result.left_out == []
    assert amount == sum((v for v in values), D(0))

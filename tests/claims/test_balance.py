"""The figures over an operation's whole life (primer §5, §9): cumulated figures on
retained amounts, the final balance to the cent, the effective rate; and a property test
over random sequences of bilans, reductions and credit notes."""
from datetime import date
from decimal import ROUND_HALF_UP
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from budget_app.marks.services import declared_in
from budget_app.claims import control, lifecycle, payments, selection
from budget_app.claims.computation import claim_figures
from budget_app.claims.models import Claim, ClaimLine
from budget_app.expenses.models import Expense
from budget_app.kernel.errors import DomainError
from budget_app.kernel.extensions import db
from budget_app.kernel.formatting import today_in_paris
from budget_app.operations.fse_rates import effective, stated
from budget_app.operations.models import Organisation
from budget_app.operations.plans import current_figures
from budget_app.operations.unit_lines import add_unit_line
from budget_app.units.services import attach_evidence as attach_unit_evidence
from budget_app.units.services import record_units
from tests.expenses.factories import make_expense
from tests.operations.factories import make_plan
from budget_app.staff import imports as staff_imports
from budget_app.staff.models import StaffCostLine
from tests.staff.factories import attach_evidence, make_staff_line

from .factories import declare


def _through(operation, controller, periods, today=date(2025, 1, 15), decide=None):
    """Create, submit and check each bilan of ``periods`` ((start, end, final) triples). An
    interim bilan with nothing to declare is not submitted: the next one starts where it did."""
    done = []
    carried = None
    for start, end, final in periods:
        claim = lifecycle.create_draft(operation, carried or start, end, final=final)
        try:
            lifecycle.submit_claim(claim, today=today)
        except DomainError as refused:
            assert "Aucune dépense" in str(refused)
            lifecycle.delete_draft(claim)
            carried = carried or start
            continue
        carried = None
        if decide:
            decide(claim)
        control.finish_control(claim, controller)
        db.session.commit()
        done.append(claim)
    return done


def test_final_balance_is_rounded_once_over_all_bilans(claims_world):
    """Two months of staff at 100,01 € + 15 % = 15,0015 -> 15,00; total 115,01 € a month.
    Interim bilan: 60 % × 115,01 = 69,006 -> 69,01 €. Claimed bilan by bilan, the final one
    would also ask 69,01 (total 138,02). The final balance is min(agreed, 60 % × 230,02 =
    138,012 -> 138,01) − 69,01 = 69,00 €: over the two bilans, 138,01 € to the cent."""
    operation = claims_world["operation"]
    make_staff_line(operation, "100.01", month=date(2023, 1, 1))
    make_staff_line(operation, "100.01", month=date(2023, 2, 1), name="Durand")
    interim, final = _through(operation, claims_world["controller"], [
        (date(2023, 1, 1), date(2023, 1, 31), False), (date(2023, 2, 1), date(2024, 12, 31), True)])
    assert (interim.fse_asked, interim.fse_due) == (D("69.01"), D("69.01"))
    assert (final.total_eligible, final.fse_asked, final.fse_due) == (D("115.01"), D("69.00"), D("69.00"))
    assert interim.fse_due + final.fse_due == D("138.01")


def test_cumulated_figures_use_retained_amounts_after_the_check(claims_world):
    """Plan total 833 750,00 €, agreed FSE+ 6 000,00 €. Interim bilan: staff 10 000,00 € +
    1 500,00 € = 11 500,00 €, asked min(6 900,00, 6 000,00) = 6 000,00; the check keeps
    5 000,00 € of staff: 5 750,00 € retained, FSE+ due 3 450,00. The final bilan (staff
    2 000,00 + 300,00 = 2 300,00 €) cumulates the retained 5 750,00 and the due 3 450,00,
    not the declared ones: min(6 000,00, 60 % × 8 050,00 = 4 830,00) − 3 450,00 = 1 380,00 €
    (on the declared figures it would have asked 0,00)."""
    operation = claims_world["operation"]
    operation.fse_amount = D("6000.00")
    db.session.commit()
    make_staff_line(operation, "10000.00", month=date(2023, 1, 1))
    make_staff_line(operation, "2000.00", month=date(2023, 2, 1), name="Durand")

    def reduce_first(claim):
        if claim.kind == "interim":
            control.decide_line(claim, claim.lines.one(), "reduced", claims_world["controller"],
                                amount=D("5000.00"), reason="staff_time")

    interim, final = _through(operation, claims_world["controller"], [
        (date(2023, 1, 1), date(2023, 1, 31), False), (date(2023, 2, 1), date(2024, 12, 31), True)],
        decide=reduce_first)
    assert (interim.fse_asked, interim.total_retained, interim.fse_due) == (D("6000.00"), D("5750.00"), D("3450.00"))
    declared = selection.declared_figures(final)
    assert (declared.fse_already_asked, declared.fse_asked) == (D("3450.00"), D("1380.00"))
    assert final.fse_due == D("1380.00")


def test_over_plan_is_computed_on_retained_amounts(make_operation, make_user):
    """Plan 1 000,00 € of running costs, no flat rate, 50 %, agreed 500,00 €. Interim
    bilan: 900,00 € declared, 400,00 € retained. Final bilan: 600,00 € declared. On the
    retained figures the cumulated cost is 1 000,00 €, within the plan: nothing over the
    plan (on the declared ones, 500,00 € would be). FSE+ of the final bilan:
    min(500,00, 50 % × 1 000,00) − 200,00 = 300,00 €."""
    controller = make_user("controller")
    organisation = Organisation(name="Association", kind="association")
    operation = make_operation("OP-PLAN", organisation=organisation, fse_rate=D("50"), fse_amount=D("500.00"),
                               members=[controller])
    make_plan(operation, costs={("FONCTIONNEMENT", 2023): "1000.00"}, flat_rates={})
    declare(controller, operation)
    make_expense(operation, "900.00", incurred_on=date(2023, 1, 10), paid_on=date(2023, 1, 15))
    make_expense(operation, "600.00", incurred_on=date(2023, 3, 10), paid_on=date(2023, 3, 15))

    def reduce(claim):
        if claim.kind == "interim":
            control.decide_line(claim, claim.lines.one(), "reduced", controller, amount=D("400.00"),
                                reason="not_justified")

    interim, final = _through(operation, controller, [
        (date(2023, 1, 1), date(2023, 1, 31), False), (date(2023, 2, 1), date(2024, 12, 31), True)],
        decide=reduce)
    declared = selection.declared_figures(final)
    assert declared.over_plan == D("0.00")
    assert (interim.fse_due, final.fse_due) == (D("200.00"), D("300.00"))


def test_effective_rate_when_the_agreement_fixes_the_amount(claims_world):
    """Plan total 833 750,00 €, agreement: FSE+ 500 000,00 € (not 60 % × total = 500 250,00).
    Rate used = 500 000 / 833 750 = 59,9700 % (four decimals shown). The primer's month:
    8 372,00 × 500 000 / 833 750 = 5 020,6897 -> 5 020,69 €. The whole plan gives exactly
    500 000,00 €; 80 % of it (667 000,00 €) gives 400 000,00 €: underspend lowers FSE+ in
    proportion."""
    operation = claims_world["operation"]
    operation.fse_amount = D("500000.00")
    operation.fse_amount_fixed = True
    db.session.commit()
    make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00"))
    make_staff_line(operation, "4400.00", hours=D("137.5"), rate=D("32.00"), name="Durand")
    figures = selection.compute_period(operation, date(2023, 1, 1), date(2023, 1, 31), as_of=date(2023, 2, 15)).figures
    assert (figures.total, figures.fse_rate, figures.fse_asked) == (D("8372.00"), D("59.9700"), D("5020.69"))
    rate = effective(D("500000.00"), D("833750.00"))
    assert rate.of(D("833750.00")) == D("500000.00") and rate.of(D("667000.00")) == D("400000.00")
    final = claim_figures({"PERSONNEL": D("725000.00")}, {"INDIRECTS_15": D("15")}, rate, D("500000.00"),
                          plan_total=D("833750.00"), final=True)
    assert final.fse_asked == D("500000.00")


def test_the_primer_month_with_the_stated_rate():
    """Primer §5: 7 280,00 + 1 092,00 = 8 372,00 €, FSE+ 60 % = 5 023,20 €."""
    figures = claim_figures({"PERSONNEL": D("7280.00")}, {"INDIRECTS_15": D("15")}, stated(D("60")), D("500250.00"))
    assert (figures.total, figures.fse_asked, figures.fse_rate) == (D("8372.00"), D("5023.20"), D("60.0000"))


# ---- property: over random lives of an operation ------------------------------------------

_codes = iter(range(10**6))

MONTHS = [date(2021 + index // 12, index % 12 + 1, 1) for index in range(48)]
costs = st.lists(st.tuples(st.integers(0, 47), st.integers(1, 90000)), min_size=1, max_size=12)
credit_notes = st.lists(st.tuples(st.integers(0, 11), st.integers(1, 100), st.integers(0, 47), st.booleans()),
                        max_size=5)
splits = st.lists(st.integers(1, 46), min_size=2, max_size=3, unique=True)
decisions = st.lists(st.sampled_from(["kept", "kept", "reduced", "excluded"]), min_size=60, max_size=60)
# Method B months (CPR 55(2)(b)): (month index, hours in hundredths, at most the contract's 151,67 h).
staff_months = st.lists(st.tuples(st.integers(0, 47), st.integers(1, 15167)), max_size=4, unique_by=lambda pair: pair[0])
# Unit costs (CPR 53(1)(b)): (month index, units delivered in hundredths); lump sums (53(1)(c)):
# (month index, achieved or not).
unit_deliveries = st.lists(st.tuples(st.integers(0, 47), st.integers(1, 2000)), max_size=4)
lump_sums = st.lists(st.tuples(st.integers(0, 47), st.booleans()), max_size=2)


@settings(max_examples=30)
@given(costs=costs, notes=credit_notes, splits=splits, choices=decisions,
       agreed=st.integers(100000, 256800), shortfalls=st.lists(st.integers(-5000, 5000), min_size=3, max_size=3),
       months=staff_months, units=unit_deliveries, lumps=lump_sums)
def test_property_fse_due_over_all_bilans(app, make_operation, make_user, costs, notes, splits, choices, agreed,
                                          shortfalls, months, units, lumps):
    """On a 48-month operation (two or three interim bilans, then the final one) with
    running costs, credit notes (some entered after the check of the bilan holding their
    invoice), reductions and exclusions at random: the FSE+ due over all bilans equals
    min(agreed, rate × retained total within the plan's total), and no cost line is in two
    bilans (each live line is in exactly one). Staff months under method B (2 400,00 € /
    151,67 h = 15,82 €/h) are hours × 15,82 € rounded once, and are declared like any line.
    Each interim is then paid its payment expected ± up to 50,00 € (never below zero; an
    excess confirmed): the final settlement is what remains, Σ received + final settlement =
    Σ FSE+ due (primer §5.5).
    Units delivered at 12,35 € (outside the flat-rate base: 200 planned = 2 470,00 €) count
    units × 12,35 € rounded once; lump sums of 300,00 € (inside the base: + 7 % = 21,00 €)
    count when achieved and are never declared otherwise. Plan total = 6 420,00 + 2 470,00 +
    300,00 + 21,00 = 9 211,00 €."""
    code = f"P{next(_codes)}"
    controller = make_user("controller", email=f"{code.lower()}@example.org")
    organisation = Organisation(name=f"Association {code}", kind="association")
    operation = make_operation(code, organisation=organisation, start_date=date(2021, 1, 1),
                               end_date=date(2024, 12, 31), fse_rate=D("60"), fse_amount=D(agreed) / 100,
                               members=[controller])
    # 4 × (1 000,00 € of running costs + 500,00 € of staff) + 7 % = 6 420,00 €; 60 % = 3 852,00 €.
    plan_costs = {("FONCTIONNEMENT", year): "1000.00" for year in range(2021, 2025)}
    plan_costs.update({("PERSONNEL", year): "500.00" for year in range(2021, 2025)})
    make_plan(operation, costs=plan_costs, flat_rates={"INDIRECTS_7": "7"})
    declare(controller, operation, signed_on=date(2020, 12, 1))
    if months:
        number = f"B-{code}"
        staff = ("Matricule;Nom;Prénom;Méthode;Année;Coût mensuel chargé (méthode B);"
                 "Heures mensuelles du contrat (méthode B)\n"
                 + "".join(f"{number};Roux;Léa;méthode B;{year};2 400,00;151,67\n" for year in range(2021, 2025)))
        staff_imports.import_staff(operation, staff.encode())
        sheets = "Matricule;Mois;Heures sur l'opération;Heures travaillées\n" + "".join(
            f"{number};{MONTHS[month]:%Y-%m};{D(hours) / 100};151.67\n" for month, hours in months)
        staff_imports.import_timesheets(operation, sheets.encode(), approved=True)
        db.session.commit()
        attach_evidence(operation)
        by_hand = {MONTHS[month]: (D(hours) / 100 * D("15.82")).quantize(D("0.01"), rounding=ROUND_HALF_UP)
                   for month, hours in months}
        assert {line.month: line.amount for line in db.session.scalars(
            select(StaffCostLine).where(StaffCostLine.operation_id == operation.id))} == by_hand
    unit_line = add_unit_line(operation, "unit", 2021, "PRESTATIONS", "heure d'atelier", D("12.35"), D("200"))
    lump_line = add_unit_line(operation, "lump_sum", 2021, "FONCTIONNEMENT", "bilan d'étape remis", D("300.00"),
                              in_flat_rate_base=True)
    records = []
    for month, hundredths in units:
        records.append(record_units(operation, unit_line.id, MONTHS[month].replace(day=28), quantity=D(hundredths) / 100))
    for month, achieved in lumps:
        records.append(record_units(operation, lump_line.id, MONTHS[month].replace(day=28), achieved=achieved))
    for record in records:
        attach_unit_evidence(record, "preuve.pdf", b"%PDF-1.4\n%%EOF\n")
    db.session.commit()
    assert [record.amount for record in records[:len(units)]] == [
        (D(hundredths) / 100 * D("12.35")).quantize(D("0.01"), rounding=ROUND_HALF_UP) for _month, hundredths in units]
    assert current_figures(operation).total_cost == D("9211.00")
    invoices = []
    for month, amount in costs:
        invoices.append((month, make_expense(operation, D(amount) / 100, incurred_on=MONTHS[month].replace(day=10),
                                             paid_on=MONTHS[month].replace(day=20), commit=False)))
    db.session.commit()
    remaining = {expense.id: expense.eligible_amount for _month, expense in invoices}
    pending_notes = []
    for index, percent, month, late in notes:
        invoice_month, invoice = invoices[index % len(invoices)]
        amount = (remaining[invoice.id] * percent / 100).quantize(D("0.01"))
        if amount <= 0:
            continue
        remaining[invoice.id] -= amount
        note_month = max(invoice_month, month)
        pending_notes.append((late, invoice, -amount, MONTHS[note_month].replace(day=12)))
    for late, invoice, amount, day in pending_notes:
        if not late:
            make_expense(operation, amount, incurred_on=day, paid_on=day, credit_note_of=invoice, commit=False)
    db.session.commit()

    ends = sorted(MONTHS[index + 1] for index in splits)  # interim bilans end on a month's eve
    periods, start = [], operation.start_date
    for first_of_next in ends:
        end = date.fromordinal(first_of_next.toordinal() - 1)
        periods.append((start, end, False))
        start = first_of_next
    periods.append((start, operation.end_date, True))
    choice = iter(choices)

    def decide(claim):
        for line in claim.lines.order_by(ClaimLine.position):
            wanted = next(choice, "kept")
            if line.declared_amount < 0:
                wanted = "kept"
            if wanted == "reduced" and line.declared_amount > D("0.01"):
                control.decide_line(claim, line, "reduced", controller, amount=(line.declared_amount / 2).quantize(D("0.01")),
                                    reason="not_justified")
            elif wanted == "excluded":
                control.decide_line(claim, line, "excluded", controller, reason="ineligible")
        if claim.kind == "interim":
            # Credit notes entered after this bilan's check, on its lines, dated in its period.
            for late, invoice, amount, day in pending_notes:
                if late and declared_in("expense", [invoice.id]).get(invoice.id) == claim.id:
                    make_expense(operation, amount, incurred_on=min(day, claim.period_end), paid_on=claim.period_end,
                                 credit_note_of=invoice)

    bilans = _through(operation, controller, periods, decide=decide)
    retained_total = sum((claim.total_retained for claim in bilans), D("0"))
    plan_total = D("9211.00")
    # By hand: 60 % of what the bilans retained (at most the plan), half-up to the cent once.
    by_hand = (min(retained_total, plan_total) * 60 / 100).quantize(D("0.01"), rounding=ROUND_HALF_UP)
    expected = min(operation.fse_amount, by_hand)
    assert sum((claim.fse_due for claim in bilans), D("0")) == expected
    # Each line in exactly one bilan, and its snapshot in that bilan only.
    lines = db.session.execute(select(ClaimLine.expense_id, ClaimLine.claim_id)
                               .join(Claim, Claim.id == ClaimLine.claim_id)
                               .where(Claim.operation_id == operation.id, ClaimLine.expense_id.is_not(None))).all()
    assert len(lines) == len({expense_id for expense_id, _claim in lines})
    ids = db.session.scalars(select(Expense.id).where(Expense.operation_id == operation.id)).all()
    attached = {expense_id: declared_in("expense", [expense_id]).get(expense_id) for expense_id in ids}
    assert all(attached[expense_id] == claim_id for expense_id, claim_id in lines)
    assert None not in attached.values()  # nothing fell between two bilans
    assert db.session.scalar(select(func.count()).select_from(Expense)
                             .where(Expense.operation_id == operation.id)) == len(lines)
    staff_lines = db.session.execute(select(ClaimLine.staff_cost_line_id, ClaimLine.claim_id)
                                     .join(Claim, Claim.id == ClaimLine.claim_id)
                                     .where(Claim.operation_id == operation.id,
                                            ClaimLine.staff_cost_line_id.is_not(None))).all()
    assert sorted(line_id for line_id, _claim in staff_lines) == sorted(db.session.scalars(
        select(StaffCostLine.id).where(StaffCostLine.operation_id == operation.id)))
    staff_ids = [line_id for line_id, _claim in staff_lines]
    assert declared_in("staff_cost_line", staff_ids) == dict(staff_lines)
    unit_lines = dict(db.session.execute(select(ClaimLine.unit_record_id, ClaimLine.claim_id)
                                         .where(ClaimLine.unit_record_id.in_([record.id for record in records]))).all())
    counted = [record.id for record in records if record.achieved is not False]
    assert sorted(unit_lines) == sorted(counted)  # every unit and achieved deliverable, once
    assert declared_in("unit_record", [record.id for record in records]) == unit_lines
    received = D("0")
    for claim, delta in zip([claim for claim in bilans if claim.kind == "interim"], shortfalls):
        expected = payments.expected_payment(claim)
        amount = max(D("0.00"), expected + D(delta) / 100)
        payments.record_payment(claim, today_in_paris(), amount, overpayment=amount > expected)
        received += amount
    db.session.commit()
    final = bilans[-1]
    assert final.kind == "final"
    assert received + payments.expected_payment(final) == sum((claim.fse_due for claim in bilans), D("0"))

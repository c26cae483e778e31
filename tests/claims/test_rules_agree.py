"""Each selection rule is written twice (``claims.reasons.Rule``): the condition that leaves
a line out, read by the bilan's computation (``reason_of``: a line is included when its
reason is NULL), and the positive form, read by the submission, the exports, the unit sums
and the kept figures of the dashboard (``kept_by``: the AND of every ``kept``). With SQL's
three-valued logic the two agree only if, on every row, NULLs included, « no left-out
condition is TRUE » ⇔ « every kept condition is TRUE »; else a bilan's page total would
differ from the lines its submission attaches (money silently lost or added).

Operation 2023-01-01 → 2023-06-30, payment deadline 2023-12-30 (end + 6 months), the rows
worked by hand (bilan of 2023-01-01 → 2023-03-31, as of 2023-04-15):

- expense paid_on NULL: « paid_on < start OR paid_on > deadline » is NULL (not TRUE), then
  « paid_on IS NULL OR paid_on > as_of » is TRUE → reason not_paid; kept: « paid_on >= start »
  is NULL → the AND is not TRUE → not kept. Agree.
- expense paid on 2022-12-31 (before the start): reason outside_payment_period, not kept.
- expense paid on 2023-04-16 (after as_of, before the deadline): reason not_paid, not kept.
- expense incurred on 2023-07-01 (after the end): reason outside_eligibility, not kept; with
  ``incurred_checked`` (kept figures) the scope itself keeps incurred_on within the
  realisation period, so the row is never read.
- PARTICIPANTS expense, sub-category NULL, under RESTANTS_40: covered (a NULL sub-category
  is covered, « subcategory IS NULL OR subcategory NOT IN (...) ») → reason
  covered_by_flat_rate, not kept; sub-category REMUNERATION: declared at real cost.
- staff month, salary paid_on NULL (a line from before the column): « paid_on > deadline »
  and « paid_on > as_of » are NULL (not TRUE) → no reason; kept « paid_on IS NULL OR ... »
  is TRUE → kept. Agree (primer §9: such a month counts).
- staff month 2023-02 with no signed timesheet, ``staff_evidence_from`` 2023-04-01: the
  month needs none (« month < since » TRUE) → no reason, kept; the same month with no date
  (evidence always required): reason staff_month_evidence, not kept.
- unit record, achieved NULL (a unit cost counted by quantity): « achieved IS FALSE » is
  FALSE → no reason; kept « achieved IS NULL OR achieved IS TRUE » → kept. achieved False:
  reason deliverable_not_achieved, not kept.

Each rule alone must agree too (a caller may read a part of them): the expense's
"outside_payment_period" did not on paid_on NULL (no reason, yet not kept); its positive
form now keeps a NULL date, which "not_paid" leaves out (the explicit regression example).

Then, at the level of behaviour: a draft bilan's counts and sums (``compute_period``) equal
the count and sum of the lines its submission attaches (``included_*``).
"""
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal as D
from itertools import count
from types import SimpleNamespace

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Date, and_, case, false, literal, select, true

from budget_app.claims.models import Claim
from budget_app.claims.reasons import kept_by, reason_of
from budget_app.claims.selection import (
    Scope, compute_period, expense_rules, included_expenses_query, included_staff_query, included_units,
    staff_rules,
)
from budget_app.claims.unit_selection import unit_rules, unit_scope
from budget_app.expenses.models import Expense
from budget_app.kernel.dates import month_start
from budget_app.kernel.extensions import db
from budget_app.kernel.money import ZERO
from budget_app.marks.models import LineMark
from budget_app.operations.plans import payment_deadline
from budget_app.operations.unit_lines import add_unit_line, claim_category
from budget_app.staff.models import Person, StaffAssignment, StaffCostLine, StaffDocument, Timesheet
from budget_app.units.models import UnitRecord
from tests.expenses.factories import make_expense
from tests.operations.factories import make_plan

START, END = date(2023, 1, 1), date(2023, 6, 30)
DEADLINE = date(2023, 12, 30)
PERIODS = [(START, date(2023, 3, 31)), (date(2023, 4, 1), END), (START, END)]
AS_OF = [date(2023, 3, 31), date(2023, 4, 15), END, DEADLINE, date(2024, 1, 1)]
RATES = [{"INDIRECTS_15": "15"}, {"RESTANTS_40": "40"}, {"PERSONNEL_20": "20"},
         {"PERSONNEL_20": "20", "RESTANTS_40": "40"}]


def _around(*days):
    return sorted({day + timedelta(days=shift) for day in days for shift in (-1, 0, 1)})


DAYS = _around(START, date(2023, 3, 31), date(2023, 4, 15), END, DEADLINE)
MONTHS = [date(2022, 12, 1), START, date(2023, 2, 1), date(2023, 3, 1), date(2023, 4, 1), date(2023, 6, 1),
          date(2023, 7, 1)]
MARKS = st.sampled_from([None, "declared", "held"])

expenses = st.lists(st.fixed_dictionaries({
    "incurred_on": st.sampled_from(DAYS), "paid_on": st.none() | st.sampled_from(DAYS),
    "complete": st.booleans(),
    "category": st.sampled_from(["FONCTIONNEMENT", "PRESTATIONS", "PARTICIPANTS", "NATURE"]),
    "subcategory": st.sampled_from([None, "REMUNERATION", "AUTRES"]), "mark": MARKS,
}), max_size=6)
staff_lines = st.lists(st.fixed_dictionaries({
    "month": st.sampled_from(MONTHS), "state": st.sampled_from(["draft", "submitted", "approved", "locked"]),
    "paid_on": st.none() | st.sampled_from(DAYS), "fixed_share": st.booleans(),
    "month_document": st.booleans(), "year_document": st.booleans(), "mark": MARKS,
}), max_size=5)
unit_records = st.lists(st.fixed_dictionaries({
    "delivered_on": st.sampled_from(DAYS), "achieved": st.sampled_from([None, True, False]),
    "complete": st.booleans(), "mark": MARKS,
}), max_size=4)


@dataclass
class World:
    operation: object
    rates: dict
    claim: object
    period: tuple
    as_of: date


_codes = count(1)


def _mark(line_type, line_id, kind):
    if kind is not None:
        db.session.add(LineMark(line_type=line_type, line_id=line_id, kind=kind,
                                bilan_id=90_000 + line_id if kind == "declared" else None))


def _document(assignment, kind, first, last):
    number = next(_codes)
    db.session.add(StaffDocument(
        assignment_id=assignment.id, kind=kind, first_month=first, last_month=last, original_name=f"{kind}.pdf",
        stored_name=f"rules-{number:08d}", content_type="application/pdf", size=10, sha256=f"{number:064d}",
        uploaded_at=datetime.now(timezone.utc)))


def build(make_operation, rates, evidence_from, period, as_of, expense_rows, staff_rows, unit_rows) -> World:
    db.session.rollback()  # an earlier example's failure leaves nothing pending
    operation = make_operation(f"RULES-{next(_codes)}", start_date=START, end_date=END,
                               staff_evidence_from=evidence_from)
    assert payment_deadline(operation) == DEADLINE
    make_plan(operation, costs={("PERSONNEL", 2023): "100000.00", ("FONCTIONNEMENT", 2023): "50000.00"},
              flat_rates=rates)
    for row in expense_rows:
        subcategory = row["subcategory"] if row["category"] == "PARTICIPANTS" else None  # PARTICIPANTS only
        expense = make_expense(operation, "100.00", category=row["category"], incurred_on=row["incurred_on"],
                               paid_on=row["paid_on"], complete=row["complete"], subcategory=subcategory,
                               commit=False)
        db.session.flush()
        _mark("expense", expense.id, row["mark"])
    for index, row in enumerate(staff_rows):
        person = Person(registration_number=f"R{next(_codes):07d}", last_name=f"Agent{index}", first_name="Claire")
        fixed = D("50") if row["fixed_share"] else None
        assignment = StaffAssignment(operation_id=operation.id, person=person,
                                     method="fixed_share" if fixed else "hourly", fixed_percent=fixed)
        timesheet = Timesheet(assignment=assignment, month=row["month"], hours_on_operation=D("10"),
                              hours_worked=D("10"), state=row["state"])
        line = StaffCostLine(operation_id=operation.id, timesheet=timesheet, person=person, month=row["month"],
                             fixed_percent=fixed, amount=D("1000.00") + index, computation="test",
                             paid_on=row["paid_on"])
        db.session.add_all([person, assignment, timesheet, line])
        db.session.flush()
        if row["month_document"]:
            _document(assignment, "payslip" if fixed else "timesheet_signed", row["month"], row["month"])
        if row["year_document"]:
            year = row["month"].year
            _document(assignment, "mission_letter" if fixed else "contract", date(year, 1, 1), date(year, 12, 1))
        _mark("staff_cost_line", line.id, row["mark"])
    if unit_rows:
        plan_line = add_unit_line(operation, "lump_sum", 2023, "FONCTIONNEMENT", "diagnostic", D("500.00"), None,
                                  "le diagnostic")
        db.session.flush()
        for index, row in enumerate(unit_rows):
            achieved = row["achieved"]
            record = UnitRecord(operation_id=operation.id, plan_line_id=plan_line.id,
                                delivered_on=row["delivered_on"], achieved=achieved,
                                quantity=D("2") if achieved is None else None, rate=D("500.00"),
                                amount=D("0.00") if achieved is False else D("500.00") + index,
                                category=claim_category(plan_line.category, plan_line.in_flat_rate_base),
                                description="diagnostic",
                                is_complete=row["complete"])
            db.session.add(record)
            db.session.flush()
            _mark("unit_record", record.id, row["mark"])
    claim = Claim(operation=operation, number=1, period_start=period[0], period_end=period[1], state="draft",
                  kind="interim")
    db.session.add(claim)
    db.session.commit()
    return World(operation, {code: D(rate) for code, rate in rates.items()}, claim, period, as_of)


def _disagreeing(model, where, rules, join=None):
    """The rows (id, reason, kept) where « reason IS NULL » and « kept, NULL read as
    false » differ, for the rules together and for each rule alone (a caller may read a
    part of them: the kept figures leave "not_paid" to a group of their own): none expected."""
    found = []
    for part in [rules, *[[rule] for rule in rules]]:
        reason = reason_of(part)
        kept = case((kept_by(part), true()), else_=false())
        query = select(model.id, reason, kept)
        if join is not None:
            query = query.join(*join)
        rows = db.session.execute(query.where(*where)).all()
        found += [(row[0], part[0].reason if len(part) == 1 else row[1], row[2])
                  for row in rows if (row[1] is None) != bool(row[2])]
    return found


def _parameters(operation):
    """The operation's dates as SQL columns, as the kept figures read them
    (``reporting.kept_figures``: ``staff_evidence_from`` NULL is read as date.min)."""
    def day(value):
        return literal(value, Date)

    return select(literal(operation.id).label("op_id"), day(operation.start_date).label("start_date"),
                  day(operation.end_date).label("end_date"), day(payment_deadline(operation)).label("deadline"),
                  day(month_start(operation.start_date)).label("first_month"),
                  day(operation.staff_evidence_from or date.min).label("evidence_from")).subquery("p")


def assert_rules_agree(world: World) -> None:
    operation, rates, as_of = world.operation, world.rates, world.as_of
    timesheet_join = (Timesheet, Timesheet.id == StaffCostLine.timesheet_id)
    for evidence in (True, False):
        # Every row of the operation, not only a bilan's scope: the forms agree everywhere.
        expenses = [Expense.operation_id == operation.id]
        assert _disagreeing(Expense, expenses, expense_rules(operation, as_of, rates, evidence=evidence)) == []
        staff = [StaffCostLine.operation_id == operation.id]
        for staff_as_of in (as_of, None):
            assert _disagreeing(StaffCostLine, staff, staff_rules(operation, rates, evidence, staff_as_of),
                                timesheet_join) == []
        units = [UnitRecord.operation_id == operation.id]
        assert _disagreeing(UnitRecord, units, unit_rules(operation, evidence)) == []
    # ``incurred_checked``: only where the scope keeps incurred_on within the realisation
    # period (the kept figures), with the operation's dates as columns, as they read them.
    p = _parameters(operation)
    columns = SimpleNamespace(id=p.c.op_id, start_date=p.c.start_date, end_date=p.c.end_date,
                              staff_evidence_from=p.c.evidence_from)
    within = [Expense.operation_id == operation.id,
              and_(Expense.incurred_on >= p.c.start_date, Expense.incurred_on <= p.c.end_date)]
    checked = expense_rules(columns, as_of, rates, incurred_checked=True, deadline=p.c.deadline)
    assert _disagreeing(Expense, within, checked, (p, p.c.op_id == Expense.operation_id)) == []
    column_staff = staff_rules(columns, rates, evidence=True, as_of=None, deadline=p.c.deadline,
                               first_month=p.c.first_month)
    query_staff = _disagreeing(StaffCostLine, [StaffCostLine.operation_id == operation.id,
                                               Timesheet.id == StaffCostLine.timesheet_id],
                               column_staff, (p, p.c.op_id == StaffCostLine.operation_id))
    assert query_staff == []


def assert_the_page_is_what_the_submission_attaches(world: World) -> None:
    """A draft bilan's counts and sums are those of the lines its submission attaches."""
    operation, (start, end) = world.operation, world.period
    computation = compute_period(operation, start, end, as_of=world.as_of, claim=world.claim)
    attached_expenses = db.session.scalars(included_expenses_query(operation, start, end, computation)).all()
    attached_staff = db.session.scalars(included_staff_query(operation, start, end, computation)).all()
    attached_units = db.session.scalars(included_units(operation, start, end, computation)).all()
    assert computation.expense_count == len(attached_expenses)
    assert computation.staff_count == len(attached_staff)
    assert computation.unit_count == len(attached_units)
    expected: dict = {}
    for category, amount in ([(line.category, line.eligible_amount) for line in attached_expenses]
                             + [("PERSONNEL", line.amount) for line in attached_staff]
                             + [(record.category, record.amount) for record in attached_units]):
        expected[category] = expected.get(category, ZERO) + amount
    categories = computation.figures.categories
    for category in set(categories) | set(expected):
        assert categories.get(category, ZERO) == expected.get(category, ZERO), category
    # And every line of the scope is either attached or left out with a reason.
    scope = Scope(operation, start, end, catch_up=True)
    in_scope = (db.session.scalar(select(db.func.count()).select_from(Expense).where(*scope.expenses()))
                + db.session.scalar(select(db.func.count()).select_from(StaffCostLine).where(*scope.staff()))
                + db.session.scalar(select(db.func.count()).select_from(UnitRecord).where(*unit_scope(scope))))
    left_out = sum(lines for lines, _total in computation.left_out_totals.values())
    assert len(attached_expenses) + len(attached_staff) + len(attached_units) + left_out == in_scope


ROW = {"incurred_on": START, "paid_on": None, "complete": True, "category": "PARTICIPANTS", "subcategory": None,
       "mark": None}
STAFF = {"month": date(2023, 2, 1), "state": "approved", "paid_on": None, "fixed_share": False,
         "month_document": False, "year_document": True, "mark": None}
UNIT = {"delivered_on": START, "achieved": None, "complete": True, "mark": None}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rates=st.sampled_from(RATES), evidence_from=st.sampled_from([None, date(2023, 4, 1)]),
       period=st.sampled_from(PERIODS), as_of=st.sampled_from(AS_OF), expense_rows=expenses,
       staff_rows=staff_lines, unit_rows=unit_records)
# Regression (found by this test): an expense with no payment date. "outside_payment_period"
# alone read NULL as "not kept" but gave no reason; read without "not_paid" (the kept
# figures), its two forms disagreed. Now its positive form keeps a NULL date (not_paid says why).
@example(rates=RATES[0], evidence_from=None, period=PERIODS[0], as_of=date(2023, 3, 31),
         expense_rows=[{**ROW, "category": "FONCTIONNEMENT", "complete": False}], staff_rows=[], unit_rows=[])
# The golden rows of the docstring, by hand.
@example(rates=RATES[1], evidence_from=date(2023, 4, 1), period=PERIODS[0], as_of=date(2023, 4, 15),
         expense_rows=[ROW, {**ROW, "paid_on": date(2022, 12, 31)}, {**ROW, "paid_on": date(2023, 4, 16)},
                       {**ROW, "incurred_on": date(2023, 7, 1), "paid_on": START},
                       {**ROW, "subcategory": "REMUNERATION", "paid_on": START}],
         staff_rows=[STAFF, {**STAFF, "month": date(2023, 4, 1), "year_document": False}],
         unit_rows=[UNIT, {**UNIT, "achieved": False}, {**UNIT, "achieved": True, "complete": False}])
@example(rates=RATES[3], evidence_from=None, period=PERIODS[2], as_of=date(2024, 1, 1),
         expense_rows=[{**ROW, "mark": "declared"}, {**ROW, "paid_on": START, "mark": "held"}],
         staff_rows=[{**STAFF, "mark": "held"}], unit_rows=[{**UNIT, "mark": "declared"}, {**UNIT, "mark": "held"}])
def test_reason_and_kept_agree_on_every_row(claims_world, make_operation, rates, evidence_from, period, as_of,
                                            expense_rows, staff_rows, unit_rows):
    world = build(make_operation, rates, evidence_from, period, as_of, expense_rows, staff_rows, unit_rows)
    assert_rules_agree(world)
    assert_the_page_is_what_the_submission_attaches(world)

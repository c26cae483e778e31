"""The operations table (home page, operations list, envelope page) reads its figures in
a bounded number of queries (issue 27), and they are those of ``operation_progress`` to
the cent."""
from datetime import date
from decimal import Decimal as D

from sqlalchemy import event

from budget_app.claims import control, holds, lifecycle
from budget_app.kernel.extensions import db
from budget_app.reporting.figure_watch import EVERY, bump
from budget_app.reporting.overview import overviews
from budget_app.reporting.progress import operation_progress
from tests.expenses.factories import make_expense
from tests.operations.factories import make_plan
from tests.staff.factories import make_staff_line

TODAY = date(2023, 6, 1)
SHOWN = ("planned_total", "realised_total", "consumed_percent", "elapsed_percent", "pace_gap", "pace_warning",
         "final_deadline", "deadline_passed")


def assert_same_as_progress(operations, today=TODAY):
    found = overviews(operations, today, D("15"))
    for operation in operations:
        progress = operation_progress(operation, today, D("15"))
        assert {name: getattr(found[operation.id], name) for name in SHOWN} == \
            {name: getattr(progress, name) for name in SHOWN}, operation.code
    return found


def test_figures_equal_the_per_operation_computation(claims_world, make_operation):
    """Three operations at once, each with its own rates, dates and lines:
    - OP-20 (PERSONNEL_20): 1 000,00 of running costs + 20 % = 1 200,00 realised of 12 000,00
      planned (10 000,00 + 2 000,00): 10,00 %; its staff line never counts;
    - the seed operation: a checked January bilan (2 880,00 reduced to 2 400,00, + 15 % =
      2 760,00) and February's 1 000,00 of staff (+ 150,00): 3 910,00; an unpaid invoice,
      an incomplete one and a held one (500,00) are left out;
    - OP-LATE, which starts after today: nothing realised, no pace warning."""
    seed = claims_world["operation"]
    op20 = make_operation("OP-20")
    make_plan(op20, costs={("FONCTIONNEMENT", 2023): "10000.00"}, flat_rates={"PERSONNEL_20": "20"})
    make_expense(op20, "1000.00", incurred_on=date(2023, 1, 10), paid_on=date(2023, 1, 20))
    make_staff_line(op20, "5000.00", month=date(2023, 1, 1))
    late = make_operation("OP-LATE", start_date=date(2023, 9, 1), payment_deadline=date(2025, 3, 31))
    make_plan(late)
    make_expense(late, "300.00", incurred_on=date(2023, 9, 10), paid_on=date(2023, 9, 20))
    make_staff_line(seed, "2880.00", month=date(2023, 1, 1))
    make_staff_line(seed, "1000.00", month=date(2023, 2, 1), name="Durand")
    make_expense(seed, "70.00", incurred_on=date(2023, 2, 10), paid_on=None)
    make_expense(seed, "80.00", incurred_on=date(2023, 2, 10), complete=False)
    held = make_expense(seed, "500.00", incurred_on=date(2023, 2, 10), paid_on=date(2023, 2, 20))
    holds.place_hold(seed, "expense", held.id, "Vérification du fournisseur")
    claim = lifecycle.create_draft(seed, date(2023, 1, 1), date(2023, 1, 31))
    lifecycle.submit_claim(claim, today=date(2023, 2, 15))
    control.decide_line(claim, claim.lines.one(), "reduced", claims_world["controller"], amount=D("2400.00"),
                        reason="staff_time")
    control.finish_control(claim, claims_world["controller"])
    db.session.commit()
    found = assert_same_as_progress([seed, op20, late])
    assert found[op20.id].realised_total == D("1200.00") and found[op20.id].consumed_percent == D("10.00")
    assert found[seed.id].realised_total == D("3910.00")
    assert found[late.id].realised_total == D("0") and not found[late.id].pace_warning
    assert_same_as_progress([seed, op20, late], today=date(2025, 7, 1))


def _queries_of_home(app, client):
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        page = client.get("/")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert page.status_code == 200
    return len(statements), page.get_data(as_text=True)


def _operations(make_operation, first, last):
    for number in range(first, last):
        operation = make_operation(f"OP-{number:03d}")
        make_plan(operation, costs={("FONCTIONNEMENT", 2023): "10000.00"},
                  flat_rates={"PERSONNEL_20": "20"} if number % 2 else {"INDIRECTS_15": "15"})
        make_expense(operation, "1000.00", incurred_on=date(2023, 1, 10), paid_on=date(2023, 1, 20))
        make_staff_line(operation, "500.00", month=date(2023, 1, 1))


def _every_operation_changed():
    """As after a write on every operation: the kept figures no longer hold."""
    bump(db.session.connection(), EVERY)
    db.session.commit()


def test_home_page_queries_do_not_grow_with_the_operations(app, client, login, make_user, make_operation):
    """The home page of an admin (who sees every operation): the same number of queries
    with 3 operations as with 30 (two kinds of flat rates among them), whether it reads the
    kept figures or computes them all again after a write on every operation; reading
    them takes fewer queries than computing them."""
    admin = make_user("admin")
    login(client, admin)
    counts = {}
    for first, last in ((0, 3), (3, 30)):
        _operations(make_operation, first, last)
        client.get("/")  # the first request of a session loads what later ones keep
        client.get("/")  # the new operations' figures are kept from the second one
        _every_operation_changed()
        computed, page = _queries_of_home(app, client)
        kept, page = _queries_of_home(app, client)
        assert page.count('data-testid="total"') == last
        counts[last] = (computed, kept)
    assert counts[30] == counts[3]
    assert counts[3][1] < counts[3][0]

"""The kept figures under concurrency (PostgreSQL): a reader never waits for a writer nor
keeps figures that miss a write under way, and readers computing the same figures at once
all answer (``reporting.kept_figures``: the rows another transaction holds are skipped)."""
from datetime import date
from decimal import Decimal as D

from sqlalchemy import select
from sqlalchemy.orm import Session

from budget_app.expenses.models import Expense
from budget_app.kernel.extensions import db
from budget_app.kernel.formatting import today_in_paris
from budget_app.reporting import kept_figures
from budget_app.reporting.figure_watch import EVERY, bump
from budget_app.reporting.kept_models import PendingFigureState
from tests.expenses.factories import make_expense
from tests.operations.factories import make_plan
from tests.races import in_parallel, postgres_only

TODAY = date(2023, 6, 1)


def _rates(operation):
    return {rate.code: rate.rate for rate in operation.current_plan.flat_rates}


@postgres_only
def test_a_write_under_way_is_neither_waited_for_nor_kept(app, make_operation):
    """OP-R keeps 100,00; a writer adds 50,00 and has not committed: the reader reads
    100,00 at once, keeps nothing; once the writer commits, 150,00."""
    operation = make_operation("OP-R")
    make_plan(operation, costs={("FONCTIONNEMENT", 2023): "1000.00"}, flat_rates={})
    make_expense(operation, "100.00", incurred_on=date(2023, 1, 10), paid_on=date(2023, 1, 20))
    for _ in range(2):  # made, then kept
        kept_figures.pending_sums([operation], _rates, TODAY)
        db.session.commit()
    bump(db.session.connection(), EVERY)  # stale: the next read computes them again
    db.session.commit()
    writer = Session(bind=db.engine)
    try:
        model = db.session.get(Expense, db.session.scalar(select(Expense.id)))
        copy = {column.key: getattr(model, column.key) for column in Expense.__table__.columns if column.key != "id"}
        copy.update(document_number="R-2", document_key="r2", eligible_amount=D("50.00"), amount_excl_vat=D("50.00"))
        writer.add(Expense(**copy))
        writer.flush()  # its bump holds the operation's row until it commits
        state = db.session.get(PendingFigureState, operation.id)
        generation = state.figures_generation
        assert kept_figures.pending_sums([operation], _rates, TODAY) == {operation.id: {"FONCTIONNEMENT": D("100.00")}}
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(PendingFigureState, operation.id).figures_generation == generation
        writer.commit()
    finally:
        writer.close()
    assert kept_figures.pending_sums([operation], _rates, TODAY) == {operation.id: {"FONCTIONNEMENT": D("150.00")}}


@postgres_only
def test_home_pages_computing_the_same_figures_at_once_all_answer(app, make_user, make_operation):
    """Six home pages at once, every operation's figures to compute again: all 200, and
    the figures kept are right."""
    admin = make_user("admin")
    operations = []
    for number in range(4):
        operation = make_operation(f"OP-{number}")
        make_plan(operation, costs={("FONCTIONNEMENT", 2023): "1000.00"}, flat_rates={})
        make_expense(operation, f"{number + 1}00.00", incurred_on=date(2023, 1, 10), paid_on=date(2023, 1, 20))
        operations.append(operation)
    kept_figures.pending_sums(operations, _rates, TODAY)  # the states made
    db.session.commit()
    bump(db.session.connection(), EVERY)
    db.session.commit()
    responses = in_parallel(app, admin, [lambda client: client.get("/")] * 6)
    assert [response.status_code for response in responses] == [200] * 6
    found, checked = kept_figures.differences(operations, _rates, today_in_paris())
    assert found == [] and checked == 4

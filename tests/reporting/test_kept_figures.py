"""The figures the operations table keeps per operation (``reporting.kept_figures``) are,
after every kind of write, those a full computation gives to the cent: each write bumps
its operation's generation in its own transaction (``reporting.figure_watch``), so the
kept figures are never read once they no longer hold."""
from datetime import date, timedelta
from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from budget_app.claims import holds, lifecycle
from budget_app.claims.figures import plan_context
from budget_app.expenses.models import Expense
from budget_app.expenses.rules import ExpenseData
from budget_app.expenses.services import create_expense, create_expenses, delete_expense, update_expense
from budget_app.kernel.extensions import db
from budget_app.reporting import kept_figures
from budget_app.reporting.kept_models import PendingFigureState
from budget_app.reporting.overview import overviews
from budget_app.reporting.progress import operation_progress
from budget_app.staff import lifecycle as staff_lifecycle
from budget_app.staff.models import StaffDocument, Timesheet
from budget_app.operations.unit_lines import add_unit_line
from budget_app.units import services as unit_services
from budget_app.units.models import UnitRecord
from tests.expenses.factories import PDF, make_expense
from tests.operations.factories import make_plan
from tests.staff.factories import make_staff_line

TODAY = date(2023, 6, 1)


def rates_of(operation):
    return plan_context(operation)["rates"]


def assert_kept_right(operations, today=TODAY):
    """The kept figures (read first, as the home page does) equal a full computation, the
    operations table equals ``operation_progress``; then they are kept (committed)."""
    kept = kept_figures.pending_sums(operations, rates_of, today)
    fresh = kept_figures.compute_all(operations, rates_of, today)
    assert kept == {op.id: fresh[op.id].sums for op in operations}
    found = overviews(operations, today, D("15"))
    for operation in operations:
        assert found[operation.id].realised_total == operation_progress(operation, today, D("15")).realised_total
    db.session.commit()
    kept_figures.pending_sums(operations, rates_of, today)  # a new operation's are kept from its second read
    db.session.commit()
    states = db.session.scalars(select(PendingFigureState).where(
        PendingFigureState.operation_id.in_([op.id for op in operations]))).all()
    assert len(states) == len(operations)
    assert all(kept_figures._holds(state, today) for state in states)
    return kept


def data(amount, paid_on=date(2023, 2, 20), number="A-1", category="FONCTIONNEMENT"):
    return ExpenseData(incurred_on=date(2023, 2, 10), paid_on=paid_on, supplier_name="Papeterie du Velay",
                       document_number=number, label="Fournitures", category=category, amount_excl_vat=D(amount))


def test_every_kind_of_write_changes_the_kept_figures(claims_world, make_operation):
    """A hand-worked sequence on the seed operation (INDIRECTS_15) and OP-B
    (PERSONNEL_20): after each write, the kept figures are those of a full computation.
    E.g. OP-B with a complete line of 1 000,00 paid on 20 January keeps FONCTIONNEMENT
    1 000,00; a credit note of -200,00 brings it to 800,00; held, the line leaves 0,00 -
    200,00 = -200,00 (the credit note still counts)."""
    seed, officer = claims_world["operation"], claims_world["officer"]
    other = make_operation("OP-B")
    make_plan(other, costs={("FONCTIONNEMENT", 2023): "10000.00"}, flat_rates={"PERSONNEL_20": "20"})
    operations = [seed, other]
    assert_kept_right(operations)

    line = make_expense(other, "1000.00", incurred_on=date(2023, 1, 10), paid_on=date(2023, 1, 20))
    assert assert_kept_right(operations)[other.id] == {"FONCTIONNEMENT": D("1000.00")}
    make_expense(other, "-200.00", incurred_on=date(2023, 2, 10), paid_on=date(2023, 2, 20), credit_note_of=line)
    assert assert_kept_right(operations)[other.id] == {"FONCTIONNEMENT": D("800.00")}
    holds.place_hold(other, "expense", line.id, "Vérification du fournisseur")  # a mark (ORM)
    db.session.commit()
    assert assert_kept_right(operations)[other.id] == {"FONCTIONNEMENT": D("-200.00")}
    holds.release_hold(other, "expense", line.id, "Vérifié")
    db.session.commit()
    assert assert_kept_right(operations)[other.id] == {"FONCTIONNEMENT": D("800.00")}

    # The service's entry, change and deletion (an entered line has no documents yet:
    # completed by hand, as attaching them would).
    entered = create_expense(other, data("300.00"), user=officer)
    entered.is_complete = True
    db.session.commit()
    assert assert_kept_right(operations)[other.id] == {"FONCTIONNEMENT": D("1100.00")}
    update_expense(entered, data("350.00"), entered.version)
    entered.is_complete = True
    db.session.commit()
    assert assert_kept_right(operations)[other.id] == {"FONCTIONNEMENT": D("1150.00")}
    delete_expense(entered, "Saisie en double", user=officer)
    db.session.commit()
    assert assert_kept_right(operations)[other.id] == {"FONCTIONNEMENT": D("800.00")}
    # An import (bulk INSERT), made complete by a bulk UPDATE, then one paid later in bulk.
    ids = create_expenses(other, [data("10.00", number="I-1"), data("20.00", number="I-2")], user=officer)
    db.session.execute(update(Expense).where(Expense.id.in_(ids)).values(is_complete=True))
    db.session.commit()
    assert assert_kept_right(operations)[other.id] == {"FONCTIONNEMENT": D("830.00")}
    db.session.execute(update(Expense).where(Expense.id == ids[0]).values(paid_on=date(2023, 7, 1)))
    db.session.commit()
    assert assert_kept_right(operations)[other.id] == {"FONCTIONNEMENT": D("820.00")}
    # The calendar: on 1 July the line paid that day counts.
    assert assert_kept_right(operations, today=date(2023, 7, 1))[other.id] == {"FONCTIONNEMENT": D("830.00")}
    assert assert_kept_right(operations)[other.id] == {"FONCTIONNEMENT": D("820.00")}

    # Staff: a line, its timesheet sent back to draft (guarded UPDATE: the line goes), its
    # evidence removed.
    staff = make_staff_line(seed, "2880.00", month=date(2023, 1, 1))
    assert assert_kept_right(operations)[seed.id]["PERSONNEL"] == D("2880.00")
    second = make_staff_line(seed, "1000.00", month=date(2023, 2, 1), name="Durand")
    assert assert_kept_right(operations)[seed.id]["PERSONNEL"] == D("3880.00")
    staff_lifecycle.change_state(db.session.get(Timesheet, second.timesheet_id), "reopen", claims_world["admin"])
    db.session.commit()
    assert assert_kept_right(operations)[seed.id]["PERSONNEL"] == D("2880.00")
    db.session.execute(delete(StaffDocument).where(StaffDocument.assignment_id == staff.timesheet.assignment_id,
                                                   StaffDocument.kind == "contract"))
    db.session.commit()
    assert assert_kept_right(operations)[seed.id].get("PERSONNEL") is None
    make_staff_line(seed, "500.00", month=date(2023, 1, 1), name="Petit")

    # A bilan submitted (marks declared in bulk), then withdrawn (released in bulk).
    claim = lifecycle.create_draft(seed, date(2023, 1, 1), date(2023, 1, 31))
    lifecycle.submit_claim(claim, today=date(2023, 2, 15))
    db.session.commit()
    assert assert_kept_right(operations)[seed.id].get("PERSONNEL") is None
    lifecycle.withdraw_claim(claim, "Erreur de période")
    db.session.commit()
    assert assert_kept_right(operations)[seed.id]["PERSONNEL"] == D("500.00")

    # The operation: a shorter realisation period leaves February's lines out; a new
    # plan whose flat rate covers the running costs leaves them out too.
    other.end_date = date(2023, 1, 31)
    db.session.commit()
    assert assert_kept_right(operations)[other.id] == {"FONCTIONNEMENT": D("1000.00")}  # 20 January's line only
    make_plan(other, costs={("FONCTIONNEMENT", 2023): "10000.00"}, flat_rates={"RESTANTS_40": "40"})
    assert assert_kept_right(operations)[other.id] == {}


ACTIONS = st.lists(st.tuples(
    st.sampled_from(["expense", "import", "amount", "complete", "delete", "hold", "release", "staff",
                     "reopen", "day", "unit", "unit_evidence", "unit_withdraw"]),
    st.integers(min_value=1, max_value=500_000),  # cents
    st.integers(min_value=0, max_value=200),  # days after 1 January 2023
), min_size=1, max_size=8)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=ACTIONS)
def test_kept_figures_follow_any_sequence_of_writes(claims_world, make_operation, actions):
    """Any sequence of writes of every kind (unit records too), on two operations, and days
    moving back and forth: the kept figures stay those of a full computation, to the cent."""
    seed, officer = claims_world["operation"], claims_world["officer"]
    operations = [seed]
    today = TODAY
    line = next(iter(seed.current_plan.unit_lines), None) or add_unit_line(
        seed, "unit", 2023, "PRESTATIONS", "heure d'atelier", D("37.50"), D("200"), "émargement")
    for step, (action, cents, days) in enumerate(actions):
        amount, day = D(cents) / 100, date(2023, 1, 1) + timedelta(days=days)
        live = db.session.scalars(select(Expense).where(Expense.operation_id == seed.id,
                                                        Expense.deleted_at.is_(None)).order_by(Expense.id)).all()
        target = live[cents % len(live)] if live else None
        held = holds.live_hold(seed, "expense", target.id) if target is not None else None
        if action == "expense":
            make_expense(seed, str(amount), incurred_on=date(2023, 1, 5), paid_on=day, complete=bool(cents % 3))
        elif action == "import":
            rows = [data(str(amount), paid_on=day, number=f"H-{step}-{n}-{cents}") for n in range(3)]
            create_expenses(seed, rows, user=officer)
            db.session.execute(update(Expense).where(Expense.document_number.like(f"H-{step}-%-{cents}"))
                               .values(is_complete=True))
        elif target is not None and held is None and action == "amount":
            target.eligible_amount = target.amount_excl_vat = amount
        elif target is not None and held is None and action == "complete":
            target.is_complete = not target.is_complete
        elif target is not None and held is None and action == "delete":
            delete_expense(target, "Erreur", user=officer)
        elif target is not None and held is None and action == "hold":
            holds.place_hold(seed, "expense", target.id, "Vérification")
        elif target is not None and held is not None and action == "release":
            holds.release_hold(seed, "expense", target.id, "Vérifié")
        elif action == "staff":
            make_staff_line(seed, str(amount), month=date(2023, 1 + days % 12, 1), name=f"P{step}{cents}")
        elif action == "reopen":
            sheet = db.session.scalar(select(Timesheet).where(Timesheet.state == "approved").order_by(Timesheet.id))
            if sheet is not None:
                staff_lifecycle.change_state(sheet, "reopen", claims_world["admin"])
        elif action == "day":
            today = day
        elif action == "unit":
            record = unit_services.record_units(seed, line.id, day, quantity=amount)
            if cents % 2:
                unit_services.attach_evidence(record, "emargement.pdf", PDF)
        elif action in ("unit_evidence", "unit_withdraw"):
            records = db.session.scalars(select(UnitRecord).where(
                UnitRecord.operation_id == seed.id, UnitRecord.deleted_at.is_(None),
                UnitRecord.is_complete.is_(action == "unit_withdraw")).order_by(UnitRecord.id)).all()
            if records and action == "unit_evidence":
                unit_services.attach_evidence(records[cents % len(records)], "emargement.pdf", PDF)
            elif records:
                unit_services.withdraw_record(records[cents % len(records)], "saisi par erreur")
        db.session.commit()
        assert_kept_right(operations, today)


def test_rebuild_figures_keeps_them_and_verify_finds_a_wrong_one(app, runner, make_operation):
    """``flask reporting rebuild-figures`` keeps every operation's figures (here OP-C's
    FONCTIONNEMENT 120,00); ``--verify`` finds none wrong, then the one figure changed
    behind the watch's back (115,00 kept instead of 120,00), exit status 1."""
    operation = make_operation("OP-C")
    make_plan(operation, costs={("FONCTIONNEMENT", 2023): "1000.00"}, flat_rates={})
    make_expense(operation, "120.00", incurred_on=date(2023, 1, 10), paid_on=date(2023, 1, 20))
    result = runner.invoke(args=["reporting", "rebuild-figures", "--today", "2023-06-01"])
    assert result.exit_code == 0, result.output
    assert "pour 1 opération(s)" in result.output
    from budget_app.reporting.kept_models import PendingFigure

    kept = db.session.scalars(select(PendingFigure).where(PendingFigure.operation_id == operation.id)).all()
    assert [(row.category, row.amount) for row in kept] == [("FONCTIONNEMENT", D("120.00"))]
    result = runner.invoke(args=["reporting", "rebuild-figures", "--verify", "--today", "2023-06-01"])
    assert result.exit_code == 0 and "1 opération(s) vérifiée(s)" in result.output and ": 0 écart(s)" in result.output
    db.session.execute(update(PendingFigure).where(PendingFigure.operation_id == operation.id)
                       .values(amount=D("115.00")))
    db.session.commit()
    result = runner.invoke(args=["reporting", "rebuild-figures", "--verify", "--today", "2023-06-01"])
    assert result.exit_code == 1
    assert "Écart : OP-C, FONCTIONNEMENT : conservé 115,00 €, calculé 120,00 €." in result.output.replace("\u202f", " ").replace("\xa0", " ")
    result = runner.invoke(args=["reporting", "rebuild-figures", "--today", "bad"])
    assert result.exit_code == 1 and "Erreur" in result.output

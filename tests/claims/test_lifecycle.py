"""Claim lifecycle: transition table, freezing at submission, CSF, payment, audit."""
import threading
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from budget_app.marks.models import LineMark
from budget_app.claims import control, lifecycle, payments, selection
from budget_app.claims.models import Advance, Claim, ClaimLine
from budget_app.expenses.models import Expense
from budget_app.kernel.audit.models import AuditEntry
from budget_app.kernel.errors import Conflict, DomainError
from budget_app.kernel.extensions import db
from budget_app.staff.lifecycle import change_state
from budget_app.staff.models import Timesheet
from tests.expenses.factories import make_expense
from tests.staff.factories import make_staff_line

from ..conftest import ON_POSTGRES

JANUARY = (date(2023, 1, 1), date(2023, 1, 31))


@pytest.fixture
def january(claims_world):
    operation = claims_world["operation"]
    make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00"))
    make_staff_line(operation, "4400.00", hours=D("137.5"), rate=D("32.00"), name="Durand")
    claim = lifecycle.create_draft(claims_world["operation"], *JANUARY)
    db.session.commit()
    return claim


def test_submit_freezes_lines_and_totals(claims_world, january):
    lifecycle.submit_claim(january, claims_world["officer"], today=date(2023, 2, 15))
    db.session.commit()
    assert january.state == "submitted"
    assert (january.total_eligible, january.fse_asked) == (D("8372.00"), D("5023.20"))
    lines = db.session.scalars(select(ClaimLine).where(ClaimLine.claim_id == january.id)).all()
    assert sorted(line.declared_amount for line in lines) == [D("2880.00"), D("4400.00")]
    assert {ts.state for ts in db.session.scalars(select(Timesheet))} == {"locked"}
    actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "claims")))
    assert {"claim_submit", "claim_frozen"} <= actions
    # Later edits to an attached line are refused: the rule is the claims domain's, the staff
    # domain asks it.
    sheet = lines[0].staff_cost_line.timesheet
    with pytest.raises(DomainError, match="bilan n° 1"):
        change_state(sheet, "reopen", claims_world["officer"])
    db.session.rollback()
    # A statement of the same month finds nothing left to declare; no second bilan over it.
    result = selection.compute_period(claims_world["operation"], *JANUARY)
    assert result.figures.total == D("0.00")
    assert {line.reason for line in result.left_out} == {"already_claimed"}
    with pytest.raises(DomainError, match="doit commencer le 01/02/2023"):
        lifecycle.create_draft(claims_world["operation"], *JANUARY)


def test_transition_table_refuses_other_moves(claims_world, january):
    with pytest.raises(DomainError):
        payments.record_payment(january, date(2023, 3, 1), D("1.00"))
    with pytest.raises(DomainError):
        lifecycle.reopen_claim(january, "motif")
    lifecycle.submit_claim(january, today=date(2023, 2, 15))
    with pytest.raises(DomainError, match="motif"):
        lifecycle.withdraw_claim(january, "  ")


def test_withdraw_detaches_lines(claims_world, january):
    lifecycle.submit_claim(january, today=date(2023, 2, 15))
    db.session.commit()
    lifecycle.withdraw_claim(january, "Erreur de période")
    db.session.commit()
    claim = db.session.get(Claim, january.id)
    assert claim.state == "draft" and claim.total_eligible is None
    assert db.session.scalar(select(db.func.count()).select_from(ClaimLine)) == 0
    assert {ts.state for ts in db.session.scalars(select(Timesheet))} == {"approved"}
    assert [c.reason for c in claim.state_changes] == [None, "Erreur de période"]
    note = db.session.scalar(select(AuditEntry.note).where(AuditEntry.action == "claim_withdraw"))
    assert note == "Erreur de période"


def test_csf_line_by_line_then_payment(claims_world, january):
    operation = claims_world["operation"]
    db.session.add(Advance(operation=operation, paid_on=date(2023, 1, 5), amount=D("1000.00")))
    db.session.commit()
    lifecycle.submit_claim(january, today=date(2023, 2, 15))
    db.session.commit()
    controller = claims_world["controller"]
    # Ordered by month then name: Durand (4 400,00) then Martin (2 880,00).
    second, first = january.lines.order_by(ClaimLine.position).all()
    with pytest.raises(DomainError, match="motif"):
        control.decide_line(january, first, "reduced", controller, amount=D("2000.00"))
    with pytest.raises(DomainError):
        control.decide_line(january, first, "reduced", controller, amount=D("3000.00"), reason="staff_time")
    control.decide_line(january, first, "reduced", controller, amount=D("2400.00"), reason="staff_time",
                         comment="100 h justifiées sur 120")
    control.decide_line(january, second, "excluded", controller, reason="not_justified")
    control.decide_line(january, second, "kept", controller)
    retained = control.finish_control(january, controller)
    db.session.commit()
    # 2 400 + 4 400 = 6 800; indirect 15 % = 1 020; total 7 820; FSE+ 60 % = 4 692.
    assert retained.flat_rates == {"INDIRECTS_15": D("1020.00")}
    assert (january.total_retained, january.fse_due) == (D("7820.00"), D("4692.00"))
    assert january.fse_asked - january.fse_due == D("331.20")
    assert january.advance_recovered == D("1000.00")
    assert payments.expected_payment(january) == D("3692.00")
    with pytest.raises(DomainError):
        control.decide_line(january, first, "kept", controller)
    lifecycle.reopen_claim(january, "Pièce retrouvée", claims_world["admin"])
    assert january.state == "submitted" and january.fse_due is None
    control.finish_control(january, controller)
    payments.record_payment(january, date.today(), D("3692.00"), "VIR-2023-04")
    db.session.commit()
    assert january.state == "paid"
    assert operation.last_payment_date == date.today()
    assert payments.operation_position(operation)["advance_outstanding"] == D("0.00")


def test_controller_without_daci_is_refused(claims_world, january, make_user):
    lifecycle.submit_claim(january, today=date(2023, 2, 15))
    other = make_user("controller", operations=["HL-RSA-2023"])
    with pytest.raises(DomainError, match="DACI"):
        control.decide_line(january, january.lines.first(), "kept", other)
    with pytest.raises(DomainError, match="DACI"):
        control.finish_control(january, other)


def test_controller_refused_when_alerts_say_so(claims_world, january, monkeypatch):
    lifecycle.submit_claim(january, today=date(2023, 2, 15))
    monkeypatch.setattr(control, "controller_may_check", lambda user, op: DomainError("Pas de DACI valide."))
    line = january.lines.first()
    with pytest.raises(DomainError, match="DACI"):
        control.decide_line(january, line, "kept", claims_world["controller"])


def test_concurrent_moves_of_one_claim_only_one_wins(claims_world, january):
    """The state guard: the UPDATE matches only the state read."""
    stale = db.session.get(Claim, january.id)
    lifecycle.submit_claim(january, today=date(2023, 2, 15))
    db.session.commit()
    db.session.execute(text("SELECT 1"))
    stale.state = "draft"  # as another request read it before the submission
    from sqlalchemy.orm import attributes

    attributes.set_committed_value(stale, "state", "draft")
    with pytest.raises(DomainError):
        lifecycle.submit_claim(stale, today=date(2023, 2, 15))
    db.session.rollback()


@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL row locks (two connections)")
def test_two_submissions_at_the_same_moment_on_postgres(app, claims_world):
    """The same bilan submitted from two connections at once: one wins, the other is
    refused and changes nothing; its lines are attached once."""
    operation = claims_world["operation"]
    for index in range(50):
        make_expense(claims_world["operation"], "10.00", commit=False)
    db.session.commit()
    first = lifecycle.create_draft(operation, *JANUARY)
    db.session.commit()
    first_id = first.id
    ids = ("one", "two")
    barrier = threading.Barrier(2)
    outcome = {}
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])

    def submit(name):
        claim_id = first_id
        with app.app_context():
            with Session(engine) as session:
                db.session.registry.set(session)  # the services use db.session
                try:
                    claim = session.get(Claim, claim_id)
                    selection.compute_period(operation=claim.operation, start=claim.period_start,
                                            end=claim.period_end)
                    barrier.wait(timeout=10)
                    lifecycle.submit_claim(claim, today=date(2023, 2, 15))
                    session.commit()
                    outcome[name] = "ok"
                except Conflict:
                    session.rollback()
                    outcome[name] = "conflict"
                finally:
                    db.session.registry.clear()

    threads = [threading.Thread(target=submit, args=(name,)) for name in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    engine.dispose()
    assert sorted(outcome.values()) == ["conflict", "ok"]
    db.session.expire_all()
    assert db.session.get(Claim, first_id).state == "submitted"
    attached = db.session.scalars(select(LineMark.bilan_id).where(LineMark.released_at.is_(None)).distinct()).all()
    assert attached == [first_id]
    assert db.session.scalar(select(db.func.count()).select_from(ClaimLine)) == 50


def test_cumulated_fse_never_exceeds_the_agreed_amount(claims_world):
    """Agreed FSE+ 6 000,00 €; 5 000,00 € of staff a month + 15 % = 5 750,00 €, × 60 % =
    3 450,00 € a month. Interim bilan (January): 3 450,00 €. Final bilan (February to the
    end, two months): min(6 000,00, 60 % × 17 250,00 = 10 350,00) − 3 450,00 = 2 550,00 €;
    the 4 350,00 € above the agreed amount are shown, not asked."""
    operation = claims_world["operation"]
    operation.fse_amount = D("6000.00")
    db.session.commit()
    operation = claims_world["operation"]
    for month in (1, 2, 3):
        make_staff_line(operation, "5000.00", month=date(2023, month, 1))
    asked = []
    for start, end, final in ((date(2023, 1, 1), date(2023, 1, 31), False),
                              (date(2023, 2, 1), date(2024, 12, 31), True)):
        claim = lifecycle.create_draft(operation, start, end, final=final)
        lifecycle.submit_claim(claim, today=date(2023, 6, 1))
        db.session.commit()
        asked.append((claim.fse_asked, selection.declared_figures(claim).fse_cap_excess))
    assert asked == [(D("3450.00"), D("0.00")), (D("2550.00"), D("4350.00"))]
    assert payments.operation_position(operation)["remaining"] == D("0.00")

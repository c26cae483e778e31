"""A bilan's submission locks its timesheets and its withdrawal unlocks them through the
timesheets' table, one guarded UPDATE for all and one audit entry per sheet (the unlock
was a bare UPDATE that left no trace)."""
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select, update

from budget_app.claims import lifecycle
from budget_app.kernel.audit.models import AuditEntry
from budget_app.kernel.errors import Conflict
from budget_app.kernel.extensions import db
from budget_app.staff.lifecycle import TIMESHEETS
from budget_app.staff.models import Timesheet
from tests.staff.factories import make_staff_line


def _entries(action):
    return sorted(db.session.scalars(select(AuditEntry.object_id).where(
        AuditEntry.object_type == "timesheets", AuditEntry.action == action)))


def test_submit_and_withdraw_leave_one_audited_move_per_timesheet(claims_world):
    operation = claims_world["operation"]
    lines = [make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00")),
             make_staff_line(operation, "4400.00", hours=D("137.5"), rate=D("32.00"), name="Durand")]
    sheet_ids = sorted(str(line.timesheet_id) for line in lines)
    claim = lifecycle.create_draft(operation, date(2023, 1, 1), date(2023, 1, 31))
    lifecycle.submit_claim(claim, today=date(2023, 2, 15))
    db.session.commit()
    assert _entries("lock") == sheet_ids
    lifecycle.withdraw_claim(claim, "Erreur de période")
    db.session.commit()
    assert {sheet.state for sheet in db.session.scalars(select(Timesheet))} == {"approved"}
    assert _entries("unlock") == sheet_ids
    unlock = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "unlock")).all()
    assert {(entry.before["state"], entry.after["state"]) for entry in unlock} == {("locked", "approved")}


def test_a_bulk_move_is_all_or_nothing_when_someone_moved_a_sheet_first(claims_world):
    """Two sheets read as approved; one is moved by someone else meanwhile: the bulk lock
    refuses (Conflict) and neither is locked."""
    operation = claims_world["operation"]
    first = make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00")).timesheet
    second = make_staff_line(operation, "4400.00", hours=D("137.5"), rate=D("32.00"), name="Durand").timesheet
    db.session.execute(update(Timesheet).where(Timesheet.id == second.id).values(state="draft")
                       .execution_options(synchronize_session=False))
    with pytest.raises(Conflict):
        with db.session.begin_nested():
            TIMESHEETS.move_all([first, second], TIMESHEETS.by_action("approved", "lock"))
    db.session.commit()
    states = dict(db.session.execute(select(Timesheet.id, Timesheet.state)).all())
    assert states == {first.id: "approved", second.id: "draft"}

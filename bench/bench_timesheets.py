"""Timesheets benchmark: a bilan's timesheets locked at submission and unlocked at its
withdrawal (the bulk moves), 5 000 sheets.

Prints, measured in the same run, the ratio of the bulk move through the timesheets' table
(``move_all_sheets``: one guarded UPDATE, one audit entry per sheet) against
- the floor of what it must write: a bare UPDATE plus a bare INSERT of the same audit rows
  (target <= 2x);
- the bare UPDATE the unlock used to be (no table, no audit: the audit entries are the price);
- the same moves made one sheet at a time (``move``, what the lock used to do; measured on
  500 sheets and scaled).

    .venv/bin/python bench/bench_timesheets.py          # SQLite file in a temporary directory
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/budget_bench .venv/bin/python bench/bench_timesheets.py
    BENCH_SHEETS=1000 ...                               # fewer sheets for a quick run
"""
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHEETS = int(os.environ.get("BENCH_SHEETS", "5000"))

from bench_claims import _database  # noqa: E402 (the same database, SQLite or BENCH_DATABASE_URL)


def build():
    """SHEETS approved timesheets (one person per sheet, January 2023) of one operation."""
    from sqlalchemy import insert, select

    from budget_app.kernel.extensions import db
    from budget_app.operations.models import Operation, Organisation
    from budget_app.staff.models import Person, StaffAssignment, Timesheet

    organisation = Organisation(name="Banc d'essai", kind="association")
    operation = Operation(code="BENCH-TS", title="Banc d'essai des fiches de temps", organisation=organisation,
                          start_date=date(2023, 1, 1), end_date=date(2024, 12, 31), fse_rate=Decimal("60"),
                          fse_amount=Decimal("500000.00"), status="running")
    db.session.add(operation)
    db.session.flush()
    db.session.execute(insert(Person), [
        {"registration_number": f"B{index:06d}", "last_name": "Banc", "first_name": "Essai", "function": "Agent"}
        for index in range(SHEETS)])
    people = db.session.scalars(select(Person.id).order_by(Person.id)).all()
    db.session.execute(insert(StaffAssignment), [
        {"operation_id": operation.id, "person_id": person, "method": "hourly"} for person in people])
    assignments = db.session.scalars(select(StaffAssignment.id).order_by(StaffAssignment.id)).all()
    db.session.execute(insert(Timesheet), [
        {"assignment_id": assignment, "month": date(2023, 1, 1), "hours_on_operation": Decimal("100"),
         "hours_worked": Decimal("151.67"), "state": "approved", "version": 1} for assignment in assignments])
    db.session.commit()


def _timed(function, rounds):
    """Median time of ``function`` (each run rolled back, so every round starts alike)."""
    from budget_app.kernel.extensions import db

    times = []
    for _ in range(rounds):
        db.session.rollback()
        begin = time.perf_counter()
        function()
        db.session.flush()
        times.append(time.perf_counter() - begin)
        db.session.rollback()
    return statistics.median(times)


def main():
    from flask_migrate import upgrade
    from sqlalchemy import select, update

    from budget_app import create_app
    from budget_app.kernel import migrations
    from budget_app.kernel.extensions import db
    from budget_app.staff.lifecycle import move, move_all_sheets
    from budget_app.staff.models import Timesheet

    with tempfile.TemporaryDirectory() as directory:
        app = create_app({"SQLALCHEMY_DATABASE_URI": _database(Path(directory)), "SECRET_KEY": "bench-" + "x" * 40,
                          "TESTING": True})
        with app.app_context():
            migrations.bind(app)
            upgrade(directory=str(ROOT / "migrations"))
            build()

            def bare():  # the old unlock: one UPDATE, no table, no audit (here both ways)
                for source, target in (("approved", "locked"), ("locked", "approved")):
                    db.session.execute(update(Timesheet).where(Timesheet.state == source)
                                       .values(state=target, version=Timesheet.version + 1)
                                       .execution_options(synchronize_session=False))

            def floor():  # the same writes, built by hand: UPDATE, then one INSERT of the entries
                from datetime import datetime, timezone

                from sqlalchemy import insert

                from budget_app.kernel.audit.models import AuditEntry

                ids = db.session.scalars(select(Timesheet.id)).all()
                for source, target in (("approved", "locked"), ("locked", "approved")):
                    db.session.execute(update(Timesheet).where(Timesheet.state == source)
                                       .values(state=target, version=Timesheet.version + 1)
                                       .execution_options(synchronize_session=False))
                    now = datetime.now(timezone.utc)
                    db.session.execute(insert(AuditEntry.__table__), [
                        {"occurred_at": now, "actor": "cli:bench", "user_id": None, "action": "lock",
                         "object_type": "timesheets", "object_id": str(sheet_id), "before": {"state": source},
                         "after": {"state": target}, "note": None} for sheet_id in ids])

            def bulk():
                sheets = db.session.scalars(select(Timesheet)).all()
                move_all_sheets(sheets, "lock")
                move_all_sheets(sheets, "unlock")

            sample = min(SHEETS, 500)  # one at a time is slow: measured on a sample, scaled

            def one_by_one():
                sheets = db.session.scalars(select(Timesheet).limit(sample)).all()
                for action in ("lock", "unlock"):
                    for sheet in sheets:
                        move(sheet, action)

            baseline = _timed(bare, rounds=5)
            written = _timed(floor, rounds=5)
            measured = _timed(bulk, rounds=5)
            single = _timed(one_by_one, rounds=1) * SHEETS / sample
            print(f"{SHEETS} fiches verrouillées puis déverrouillées ({db.engine.dialect.name}) : "
                  f"par la table, une entrée d'audit par fiche {measured * 1000:.0f} ms ; "
                  f"UPDATE + INSERT nus des mêmes entrées {written * 1000:.0f} ms, "
                  f"ratio {measured / written:.2f} (cible <= 2) ; "
                  f"UPDATE nu sans audit {baseline * 1000:.0f} ms, ratio {measured / baseline:.1f} ; "
                  f"une fiche à la fois (mesuré sur {sample}) {single * 1000:.0f} ms, {single / measured:.1f} fois plus lent")
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()

"""Participants benchmarks (issue 23), each against a baseline measured in the same run:

- the indicator table (EECO01-17, EECR01-06 by sex) of an operation of 50 000
  participants vs a bare SQL GROUP BY computing the same counts (target <= 1.5x);
- the import of 10 000 participants (XLSX: parse, check, encrypt, write, commit) vs
  openpyxl's read-only parse of the same workbook (target <= 1.5x), in three alternated
  rounds; the ratio of the fastest of each, the median of the rounds' ratios, and the
  ratio in this process's processor time (a shared machine inflates wall-clock time; on
  PostgreSQL the server's share is in the wall-clock ratio only).

    .venv/bin/python bench/bench_participants.py
    BENCH_PARTICIPANTS=5000 BENCH_IMPORT_ROWS=1000 ...     # a quick run
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/budget_bench_participants ...
"""
import io
import os
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PARTICIPANTS = int(os.environ.get("BENCH_PARTICIPANTS", "50000"))
IMPORT_ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "10000"))
STATUSES = ("chomeur", "inactif", "emploi")
SITUATIONS = ("recherche", "formation", "emploi", "inconnue", None)

BARE_SQL = """
SELECT sex, {sums} FROM participants
WHERE operation_id = :operation AND complete AND {column} IS NOT NULL AND {column} >= :start AND {column} <= :end
GROUP BY sex
"""
BARE_OUTPUTS = [
    "TRUE", "employment_status = 'chomeur'",
    "employment_status = 'chomeur' AND (unemployment_months >= 12 OR (age_at_entry < 25 AND unemployment_months >= 6))",
    "employment_status = 'inactif'", "employment_status = 'emploi'", "age_at_entry < 18",
    "age_at_entry BETWEEN 18 AND 29", "age_at_entry >= 55", "education_level BETWEEN 0 AND 2",
    "education_level BETWEEN 3 AND 4", "education_level BETWEEN 5 AND 8", "disability = 'oui'",
    "third_country = 'oui'", "foreign_background = 'oui'", "homeless = 'oui'", "rural",
]
BARE_EXITS = ["employment_status = 'inactif' AND exit_situation = 'recherche'", "exit_situation = 'formation'",
              "qualification = 'oui'", "employment_status IN ('chomeur', 'inactif') AND exit_situation = 'emploi'"]
BARE_FOLLOW_UP = ["employment_status IN ('chomeur', 'inactif') AND employed_6m = 'oui'",
                  "employment_status = 'emploi' AND improved_6m = 'oui'"]


def _rows(operation_id, count):
    for n in range(count):
        status = STATUSES[n % 3]
        entry = date(2023, 1, 1) + timedelta(days=n % 700)
        exit_ = entry + timedelta(days=90 + n % 200) if n % 4 else None
        yield {
            "operation_id": operation_id, "code": f"P-B{n:07d}", "sex": "FHX"[n % 3] if n % 10 else "F",
            "entry_date": entry, "age_at_entry": 16 + n % 50, "employment_status": status,
            "unemployment_months": n % 30 if status == "chomeur" else None, "education_level": n % 9,
            "disability": ("oui", "non", "refus")[n % 3], "third_country": ("non", "oui")[n % 2],
            "foreign_background": "non", "homeless": ("non", "oui")[n % 5 == 0], "rural": bool(n % 2),
            "exit_date": exit_, "exit_situation": SITUATIONS[n % 5] if exit_ else None,
            "qualification": "oui" if exit_ and n % 7 == 0 else None,
            "employed_6m": "oui" if exit_ and n % 3 else None, "improved_6m": None,
            "follow_up_date": exit_ + timedelta(days=182) if exit_ else None, "complete": n % 17 != 0,
            "recorded_at": datetime(2024, 1, 1, tzinfo=timezone.utc), "version": 1,
        }


def _workbook(rows: int) -> bytes:
    from openpyxl import Workbook

    from budget_app.participants.answers import COLUMNS

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Participants")
    sheet.append(list(COLUMNS.values()))
    for n in range(rows):
        status = ("chômeur", "inactif", "en emploi")[n % 3]
        sheet.append(["", f"Bench-{n:05d}", "Fictif", f"{1 + n % 28:02d}/0{1 + n % 9}/19{60 + n % 40}", "Brioude",
                      "FH"[n % 2], "01/03/2023", status, str(n % 20) if n % 3 == 0 else "", str(n % 9), "non", "non",
                      "refus", "non", "oui", "", "", "", "", "", "", ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _median(function, runs=3):
    times = []
    for _ in range(runs):
        begin = time.perf_counter()
        function()
        times.append(time.perf_counter() - begin)
    return statistics.median(times)


def _timed(function):
    """(wall time, processor time of this process) of one call."""
    begin, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - begin, time.process_time() - cpu


def main():
    from flask_migrate import upgrade
    from openpyxl import load_workbook
    from sqlalchemy import insert, text

    from budget_app import create_app
    from budget_app.kernel import migrations
    from budget_app.kernel.extensions import db
    from budget_app.operations.models import Operation, Organisation
    from budget_app.participants.imports import import_participants
    from budget_app.participants.indicators import indicator_table
    from budget_app.participants.models import Participant

    directory = tempfile.mkdtemp()
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{directory}/bench.sqlite3"
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                      "BUDGET_APP_UPLOAD_DIR": f"{directory}/uploads", "IMPORT_MAX_ROWS": 100_000})
    with app.app_context():
        migrations.bind(app)  # Flask-Migrate is bound on demand (kernel/migrations.py)
        upgrade(directory=str(ROOT / "migrations"))
        organisation = Organisation(name="O", kind="collectivite")
        operations = [Operation(code=code, title="Bench", organisation=organisation, start_date=date(2023, 1, 1),
                                end_date=date(2024, 12, 31), fse_rate=Decimal("50"), fse_amount=Decimal("1000"),
                                status="running") for code in ("BENCH-IND", "BENCH-IMP")]
        db.session.add_all(operations)
        db.session.commit()
        counted, imported = operations
        rows = list(_rows(counted.id, PARTICIPANTS))
        for start in range(0, len(rows), 5000):
            db.session.execute(insert(Participant.__table__), rows[start:start + 5000])
        db.session.commit()
        period = {"operation": counted.id, "start": date(2023, 1, 1), "end": date(2024, 12, 31)}

        def bare():
            for column, conditions in (("entry_date", BARE_OUTPUTS), ("exit_date", BARE_EXITS),
                                       ("follow_up_date", BARE_FOLLOW_UP)):
                sums = ", ".join(f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)" for condition in conditions)
                db.session.execute(text(BARE_SQL.format(sums=sums, column=column)), period).all()

        def ours():
            indicator_table(counted.id, period["start"], period["end"])

        bare(), ours()  # warm the caches of both
        baseline, measured = _median(bare, 5), _median(ours, 5)
        print(f"indicators over {PARTICIPANTS} participants: {measured * 1000:.1f} ms vs bare SQL GROUP BY "
              f"{baseline * 1000:.1f} ms: ratio {measured / baseline:.2f} (target <= 1.5)")

        content = _workbook(IMPORT_ROWS)

        def parse():
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
            for sheet in workbook.worksheets:
                for _row in sheet.iter_rows(values_only=True):
                    pass
            workbook.close()

        def clear():
            db.session.execute(text("DELETE FROM participant_identities"))
            db.session.execute(text("DELETE FROM participants WHERE operation_id = :id"), {"id": imported.id})
            db.session.commit()

        def run_import():
            import_participants(db.session.get(Operation, imported.id), content, filename="bench.xlsx")
            db.session.commit()

        # Alternately, so a busy machine slows both alike; the previous round's participants
        # are deleted before each import, outside the time measured.
        rounds = []
        for _ in range(3):
            clear()
            rounds.append((*_timed(parse), *_timed(run_import)))
        (read, read_cpu), (measured, measured_cpu) = (min(r[0] for r in rounds), min(r[1] for r in rounds)), \
            (min(r[2] for r in rounds), min(r[3] for r in rounds))
        print("  rounds (read, import):", ", ".join(f"{r[0]:.2f}/{r[2]:.2f}" for r in rounds))
        print(f"import of {IMPORT_ROWS} participants: {measured:.2f} s vs openpyxl read-only parse "
              f"{read:.2f} s: ratio {measured / read:.2f} (target <= 1.5)")
        print("  median of the rounds' ratios: %.2f" % statistics.median(r[2] / r[0] for r in rounds))
        # The machine is shared: processor time is what a preempted run does not inflate. On
        # SQLite all the work is in this process; on PostgreSQL the server's share is not counted.
        print(f"  processor time of this process: read {read_cpu:.2f} s, import {measured_cpu:.2f} s, "
              f"ratio {measured_cpu / read_cpu:.2f}")


if __name__ == "__main__":
    main()

"""National volumes (issue 27): the same pages at 20 000 expense lines, then at national
volume (``national.py``: 300 operations, 3 million lines, 10 000 staff-months, 2 000
users), in one run on one database; prints each page's ratio (target <= 1.5).

Like with like: the 20 000 lines are the measured operation's (BENCH-0000, a large
operation: twice the national average of 10 000); the national load adds the other 2.98
million lines to the 299 other operations. The measured pages read the same lines in both
runs, so the ratio is what the nation around them costs (table and index size, the other
operations' rows), which is what the issue asks. Spreading the first 20 000 lines over the
300 operations instead (``BENCH_LAYOUT=spread``, the first design) gave the measured
operation 67 lines, then 10 000: that ratio measured an operation 150 times larger, not
national volume (the bilan computation read 1.2-4.5x). How the bilan computation grows with
the operation's own lines is printed apart: its per-line cost, and the export's computation
(every left-out line listed) beside the page's (the first 500, counts and totals per reason
in the database).

Pages, each a full HTTP GET through the app as an admin (who sees every operation), except
the bilan computation (``compute_period`` of a bilan over the whole period as the bilan
page draws it: its first ``LEFT_OUT_SHOWN`` + 1 left-out lines, and every left-out line's
count and total per reason; then as the exports do, listing every left-out line):
- the expense list of one operation: first page, a page filtered by category and period,
  a far page (90 % of the way down, by its keyset cursor);
- the home dashboard (every operation's row);
- an envelope page (its operations' rows).
Both read the figures kept per operation (``reporting.kept_figures``); a load of lines
bumps every operation it touches, so the first view after it computes them again: that
time is printed apart ("first view"), the ratio is the median of the views that follow.

    .venv/bin/python bench/bench_national.py                  # full volume (make bench)
    BENCH_SCALE=0.01 .venv/bin/python bench/bench_national.py  # 1 %: seconds
    BENCH_DATABASE_URL=postgresql+psycopg://... (an existing empty database); SQLite file otherwise.
    BENCH_LAYOUT=spread  # the first design: the 20 000 lines spread over every operation
"""
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from budget_app import create_app  # noqa: E402
from budget_app.kernel.extensions import db  # noqa: E402
from national import END, START, counts, generate_lines, generate_world  # noqa: E402

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
BASE_LINES = 20_000
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
SPREAD = os.environ.get("BENCH_LAYOUT", "same") == "spread"


def median_time(action, runs=RUNS):
    """The medians of ``runs`` timings (elapsed, and this process's CPU time: the machine is
    shared) after a first one (its elapsed time, returned apart: for the home page and the
    envelope page, the first view after a load computes the kept figures again)."""
    started = time.perf_counter()
    action()
    first = time.perf_counter() - started
    times, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        action()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(times), first, statistics.median(cpu)


def far_cursor(operation_id):
    from budget_app.expenses.listing import encode_cursor
    from budget_app.expenses.models import Expense

    total = db.session.scalar(select(func.count(Expense.id)).where(Expense.operation_id == operation_id))
    row = db.session.execute(
        select(Expense.incurred_on, Expense.id).where(Expense.operation_id == operation_id)
        .order_by(Expense.incurred_on.desc(), Expense.id.desc()).offset(int(total * 0.9)).limit(1)
    ).one()
    return encode_cursor(row[0], row[1])


def reference_work():
    """A fixed piece of pure Python (no database): timed in both phases, it tells how much
    the machine's load changed between them (other jobs on a shared machine)."""
    return sum(index * index % 7 for index in range(300_000))


def lines_of(operation_id) -> int:
    from budget_app.expenses.models import Expense

    return db.session.scalar(select(func.count(Expense.id)).where(Expense.operation_id == operation_id))


def measure(client, operation):
    from budget_app.claims.report import LEFT_OUT_SHOWN
    from budget_app.claims.selection import compute_period

    base = f"/operations/{operation.code}/depenses"
    pages = {
        "expense list, first page": base,
        "expense list, filtered": f"{base}?category=PRESTATIONS&start=2023-04-01&end=2023-06-30",
        "expense list, far page": f"{base}?apres={far_cursor(operation.id)}",
        "home dashboard": "/",
        "envelope page": f"/enveloppes/{operation.envelope.code}",
    }
    results = {}
    for name, url in pages.items():
        def get(url=url):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        results[name] = median_time(get)

    def bilan(limit=LEFT_OUT_SHOWN + 1):
        compute_period(operation, START, END, evidence=True, list_left_out=True, left_out_limit=limit)
        db.session.rollback()

    results["bilan computation"] = median_time(bilan)
    results["bilan, every left-out line"] = median_time(lambda: bilan(None))
    results["reference work (no database)"] = median_time(reference_work)
    return results


def settle():
    """What autovacuum / ANALYZE do in production after a bulk load."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in ("expenses", "expense_month_totals", "staff_cost_lines", "timesheets", "pending_figure_states"):
                connection.exec_driver_sql(f"VACUUM ANALYZE {table}")
    else:
        db.session.execute(db.text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()


def main():
    from flask_migrate import upgrade

    from budget_app.accounts.models import User
    from budget_app.accounts.passwords import hash_password
    from budget_app.accounts.sessions import start_session
    from budget_app.kernel import migrations
    from budget_app.operations.models import Operation

    workdir = Path(tempfile.mkdtemp(prefix="bench-national-"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'bench.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789",
                      "WTF_CSRF_ENABLED": False, "BUDGET_APP_UPLOAD_DIR": str(workdir / "uploads"),
                      "RATELIMIT_ENABLED": False})
    n = counts(SCALE)
    with app.app_context():
        migrations.bind(app)
        upgrade()
        started = time.perf_counter()
        ids = generate_world(SCALE, hash_password("correct horse battery staple"))
        measured, others = (ids, ids) if SPREAD else (ids[:1], ids[1:])
        generate_lines(measured, 0, min(BASE_LINES, n["lines"]))
        settle()
        print(f"database: {db.engine.dialect.name}; scale {SCALE}: {n['operations']} operations, "
              f"{n['lines']} lines, {n['staff_months']} staff-months, {n['users']} users")
        admin = db.session.scalar(select(User).where(User.role == "admin").order_by(User.id))
        token = start_session(admin)
        db.session.commit()
        client = app.test_client()
        with client.session_transaction() as session:
            session.update({"_user_id": str(admin.id), "_fresh": True, "sid": token})
        operation = db.session.get(Operation, ids[0])
        small_lines = lines_of(ids[0])
        small = measure(client, operation)
        generated = time.perf_counter()
        generate_lines(others, BASE_LINES, max(0, n["lines"] - BASE_LINES))
        settle()
        print(f"generated {max(0, n['lines'] - BASE_LINES)} more lines in {time.perf_counter() - generated:.0f} s "
              f"(whole set-up {time.perf_counter() - started:.0f} s)")
        large = measure(client, operation)
        large_lines = lines_of(ids[0])
        print(f"layout: {'spread' if SPREAD else 'same'}; the measured operation holds {small_lines} lines, "
              f"then {large_lines}")
        print(f"pages at 20 000 lines vs {n['lines']} lines (median of {RUNS}; then the first view after "
              f"each load, which computes the changed operations' kept figures again):")
        for name in small:
            (low, low_first, low_cpu), (high, high_first, high_cpu) = small[name], large[name]
            print(f"  {name:28s} {low * 1000:8.1f} ms  {high * 1000:8.1f} ms  ratio {high / low:.2f}  "
                  f"({'no target' if name.startswith('reference') else 'target <= 1.5'}; CPU {low_cpu * 1000:.1f} / {high_cpu * 1000:.1f} ms, "
                  f"ratio {high_cpu / max(low_cpu, 1e-6):.2f})   "
                  f"first view {low_first * 1000:.0f} ms / {high_first * 1000:.0f} ms")
        print("  (the reference work's ratio is the machine's load between the two phases, not the app's)")
        per_line = large["bilan, every left-out line"][0] / max(1, large_lines) * 1e6
        print(f"bilan computation listing every left-out line: {per_line:.1f} µs per line of the operation")
        db.session.remove()
        db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())

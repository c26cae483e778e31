"""Claims benchmark: 100 000 cost lines in one month of one operation.

Prints ratios against baselines measured in the same run:
- claim XLSX export vs a bare openpyxl write-only dump of the same rows (target <= 1.2x);
- peak memory (max RSS) of the export process, `flask statements export` in a child process
  (target <= 150 MB);
- claim computation vs a bare SQL aggregate of the same sums (target <= 1.5x).

    .venv/bin/python bench/bench_claims.py            # SQLite file in a temporary directory
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/budget_bench .venv/bin/python bench/bench_claims.py
    BENCH_LINES=20000 ...                             # fewer lines for a quick run
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from serving import fresh_postgres_database  # noqa: E402  (bench/, beside this file)

LINES = int(os.environ.get("BENCH_LINES", "100000"))
CODE = "BENCH-CLAIMS"
START, END = date(2023, 1, 1), date(2023, 1, 31)


def _paired(baseline, measured, rounds):
    """Median times of two functions run alternately, so a busy machine slows both alike."""
    times = ([], [])
    for _ in range(rounds):
        for index, function in enumerate((baseline, measured)):
            begin = time.perf_counter()
            function()
            times[index].append(time.perf_counter() - begin)
    return statistics.median(times[0]), statistics.median(times[1])


def _database(workdir: Path) -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        fresh_postgres_database(url)
        return url
    return f"sqlite:///{workdir / 'bench.sqlite3'}"


def build(app):
    from sqlalchemy import insert

    from budget_app.expenses.models import Expense
    from budget_app.kernel.extensions import db
    from budget_app.operations.models import Operation, Organisation

    organisation = Organisation(name="Département (banc d'essai)", kind="collectivite")
    operation = Operation(code=CODE, title="Banc d'essai des demandes", organisation=organisation,
                          start_date=date(2023, 1, 1), end_date=date(2024, 12, 31), fse_rate=Decimal("60"),
                          fse_amount=Decimal("900000000.00"), status="running")
    db.session.add(operation)
    db.session.commit()
    categories = ("FONCTIONNEMENT", "PRESTATIONS", "PARTICIPANTS")
    rows = []
    for index in range(LINES):
        amount = Decimal(1000 + index % 9000) / 100
        rows.append({
            "operation_id": operation.id, "category": categories[index % 3],
            "incurred_on": START + timedelta(days=index % 31), "paid_on": date(2023, 2, 5),
            "supplier_name": f"Fournisseur {index % 500}", "supplier_key": f"fournisseur {index % 500}",
            "document_number": f"F{index:06d}", "document_key": f"f{index:06d}",
            "label": f"Dépense n° {index} du mois", "amount_excl_vat": amount, "vat": Decimal("0.00"),
            "vat_recoverable": False, "allocation_percent": Decimal("100"), "eligible_amount": amount,
            "is_complete": True, "version": 1,
        })
        if len(rows) == 10000:
            db.session.execute(insert(Expense), rows)
            rows = []
    if rows:
        db.session.execute(insert(Expense), rows)
    db.session.commit()
    return operation


def bare_aggregate(operation):
    from sqlalchemy import func, select

    from budget_app.expenses.models import Expense
    from budget_app.kernel.extensions import db

    return db.session.execute(
        select(Expense.category, func.sum(Expense.eligible_amount))
        .where(Expense.operation_id == operation.id, Expense.incurred_on >= START, Expense.incurred_on <= END)
        .group_by(Expense.category)
    ).all()


def bare_dump(operation, path):
    """openpyxl write-only, the same rows and columns as the Dépenses sheet, no styles."""
    from openpyxl import Workbook
    from sqlalchemy import select

    from budget_app.claims import exports, report
    from budget_app.expenses.models import Expense
    from budget_app.kernel.extensions import db

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Dépenses")
    sheet.append([title for title, _kind, _width in exports.EXPENSE_COLUMNS])
    query = (
        select(*report.EXPENSE_FIELDS, Expense.eligible_amount)
        .where(Expense.operation_id == operation.id, Expense.incurred_on >= START, Expense.incurred_on <= END)
        .order_by(Expense.category, Expense.incurred_on, Expense.id)
    )
    for row in db.session.execute(query.execution_options(yield_per=report.BATCH)):
        (category, label, supplier, siret, number, incurred, paid, excl, vat, key, eligible, presented) = row
        sheet.append([category, label, supplier, siret, number, incurred, paid, excl, vat, excl + vat, key / 100,
                      eligible, presented, None])
    workbook.save(path)


def export_claim(operation, path):
    from budget_app.claims import exports, report

    claim_report = report.build_report(operation, START, END)
    exports.write_xlsx(claim_report, path)
    return claim_report


PEAK_PROBE = """
import resource, sys
from flask.cli import main
from budget_app.claims import selection
sys.argv = ["flask"] + sys.argv[1:]
try:
    main()
except SystemExit as exit_:
    if exit_.code:
        raise
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def export_peak_memory(database_url, workdir, month="2023-01"):
    """Max RSS (MiB) of `flask statements export` run as its own process (what cron runs)."""
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789"}
    result = subprocess.run(
        [sys.executable, "-c", PEAK_PROBE, "--app", "budget_app", "statements", "export", CODE, "--month", month,
         "-o", str(workdir / f"cli-{month}.xlsx")],
        check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    return int(result.stderr.strip().splitlines()[-1]) / 1024  # KiB -> MiB on Linux


def main():
    from flask_migrate import upgrade

    from budget_app.kernel import migrations

    from budget_app import create_app
    from budget_app.claims import selection
    from budget_app.kernel.extensions import db

    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        database_url = _database(workdir)
        app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench-" + "x" * 40,
                          "TESTING": True})
        with app.app_context():
            migrations.bind(app)  # Flask-Migrate is bound on demand (kernel/migrations.py)
            upgrade(directory=str(ROOT / "migrations"))
            begin = time.perf_counter()
            operation = build(app)
            print(f"{LINES} lignes créées en {time.perf_counter() - begin:.1f} s ({db.engine.dialect.name})")

            sums = bare_aggregate(operation)
            computation = selection.compute_period(operation, START, END, as_of=date(2023, 3, 1))
            bare_sql, computed = _paired(lambda: bare_aggregate(operation),
                                         lambda: selection.compute_period(operation, START, END,
                                                                         as_of=date(2023, 3, 1)), rounds=9)
            assert sum(amount for _c, amount in sums) == computation.figures.total, "the two sums differ"
            print(f"calcul de la demande : {computed * 1000:.0f} ms ; agrégat SQL nu : {bare_sql * 1000:.0f} ms ; "
                  f"ratio {computed / bare_sql:.2f} (cible <= 1.5)")

            dump, export = _paired(lambda: bare_dump(operation, workdir / "bare.xlsx"),
                                   lambda: export_claim(operation, workdir / "claim.xlsx"), rounds=3)
            print(f"export XLSX de la demande : {export:.2f} s ; écriture openpyxl nue : {dump:.2f} s ; "
                  f"ratio {export / dump:.2f} (cible <= 1.2)")
            db.session.remove()
            db.engine.dispose()
        peak = export_peak_memory(database_url, workdir)
        empty = export_peak_memory(database_url, workdir, month="2023-02")  # same process, no line
        print(f"mémoire maximale du processus d'export : {peak:.0f} Mo (cible <= 150) ; "
              f"même commande sur un mois sans ligne : {empty:.0f} Mo (l'export ajoute {peak - empty:.0f} Mo)")
        if os.environ.get("BENCH_DATABASE_URL"):
            from sqlalchemy import create_engine, text
            from sqlalchemy.engine import make_url

            admin = create_engine(make_url(database_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(database_url).database}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()

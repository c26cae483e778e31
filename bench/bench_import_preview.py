"""Import preview benchmark (issue 21): files built to exhaust the machine inside the
50 000-row cap are previewed about as fast as a plain file, in bounded memory.

Each file is previewed through the web (upload, read, check every row, look-alikes,
render the first page) in a child process of its own, which reports its time and its
peak resident memory. Printed, against the plain files measured in the same run:
- 50 000 look-alike rows (same supplier, amount and date) vs 50 000 plain rows (CSV):
  time ratio (target <= 2), peak memory (target <= 300 MB);
- an XLSX whose <dimension> claims 16 384 columns vs the same plain XLSX: time ratio
  (target <= 2), peak memory (target <= 300 MB);
- a 12 MB CSV of separators vs the plain CSV: time ratio (target <= 2).

    .venv/bin/python bench/bench_import_preview.py
    BENCH_ROWS=5000 ...                               # fewer rows for a quick run
"""
import csv
import io
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROWS = int(os.environ.get("BENCH_ROWS", "50000"))
HEADER = ["Date", "Date de paiement", "Fournisseur", "SIRET", "N° de pièce", "Libellé", "Catégorie",
          "Montant HT", "TVA", "TVA récupérable", "Affectation (%)"]
START = date(2019, 1, 1)


def plain_rows(count):
    for number in range(count):
        incurred = START + timedelta(days=number % 365)
        yield [incurred.strftime("%d/%m/%Y"), "31/12/2019", f"Fournisseur {number}", "", f"FA-{number}",
               f"Fournitures n° {number}", "FONCTIONNEMENT", f"{100 + number % 900},{number % 100:02d}", "0,00",
               "non", "100"]


def look_alike_rows(count):
    """Every row looks like every other: same supplier, amount and date, another invoice."""
    for number in range(count):
        yield ["15/03/2019", "31/03/2019", "Papeterie du Lot", "", f"FA-{number}", f"Fournitures n° {number}",
               "FONCTIONNEMENT", "120,00", "0,00", "non", "100"]


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        writer.writerows(rows)


def write_xlsx(path, rows, forged=False):
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Dépenses")
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    if forged:
        # The file claims 16 384 columns (A to XFD) in its <dimension>.
        buffer = io.BytesIO()
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
            for entry in source.infolist():
                data = source.read(entry.filename)
                if entry.filename.startswith("xl/worksheets/sheet"):
                    text = data.decode()
                    if "<dimension" in text:
                        text = re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:XFD%d"' % (ROWS + 1), text)
                    else:
                        text = re.sub(r"(<worksheet[^>]*>)", r'\1<dimension ref="A1:XFD%d"/>' % (ROWS + 1), text, count=1)
                    data = text.encode()
                target.writestr(entry, data)
        Path(path).write_bytes(buffer.getvalue())


def write_separators(path, size=12_000_000):
    """A header, then lines of nothing but separators (12 MB)."""
    line = ";" * 4095 + "\n"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(";".join(HEADER) + "\n")
        handle.write(line * (size // len(line)))


def child(path):
    """Preview ``path`` through the web in this process; print time and peak memory."""
    from flask_migrate import upgrade

    from budget_app import create_app
    from budget_app.accounts.assignments import assign
    from budget_app.accounts.services import create_user
    from budget_app.accounts.sessions import start_session
    from budget_app.kernel import migrations
    from budget_app.kernel.extensions import db
    from budget_app.operations.models import Operation, Organisation, PlanCost, PlanVersion

    directory = tempfile.mkdtemp(prefix="bench-preview-")
    app = create_app({"SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789", "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory}/bench.sqlite3",
                      "BUDGET_APP_UPLOAD_DIR": f"{directory}/uploads"})
    with app.app_context():
        migrations.bind(app)
        upgrade()
        officer = create_user("bench@example.org", "finance_officer", "correct horse battery staple")
        operation = Operation(code="BENCH", title="Bench", organisation=Organisation(name="O", kind="association"),
                              start_date=START, end_date=date(2019, 12, 31), fse_rate=Decimal("50"),
                              fse_amount=Decimal("100000000.00"), status="running")
        version = PlanVersion(number=1)
        version.costs = [PlanCost(category="FONCTIONNEMENT", year=2019, amount=Decimal("100000000"))]
        operation.plan_versions.append(version)
        db.session.add(operation)
        db.session.flush()
        assign(officer.id, operation.id)
        db.session.commit()
        token = start_session(officer)
        db.session.commit()
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"], session["sid"] = str(officer.id), True, token
        content = Path(path).read_bytes()
        started = time.perf_counter()
        response = client.post("/operations/BENCH/depenses/import", content_type="multipart/form-data",
                               data={"file": (io.BytesIO(content), Path(path).name)})
        elapsed = time.perf_counter() - started
        page = response.data
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(json.dumps({"seconds": elapsed, "peak_mb": peak, "status": response.status_code, "page_bytes": len(page),
                      "preview": b'data-testid="import-preview"' in page}))


def measure(path):
    output = subprocess.run([sys.executable, __file__, "--child", str(path)], check=True, capture_output=True,
                            text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main():
    directory = Path(tempfile.mkdtemp(prefix="bench-import-preview-"))
    files = {
        "plain CSV": directory / "plain.csv",
        "look-alike CSV": directory / "look-alike.csv",
        "plain XLSX": directory / "plain.xlsx",
        "forged-dimension XLSX": directory / "forged.xlsx",
        "separators CSV": directory / "separators.csv",
    }
    write_csv(files["plain CSV"], plain_rows(ROWS))
    write_csv(files["look-alike CSV"], look_alike_rows(ROWS))
    write_xlsx(files["plain XLSX"], plain_rows(ROWS))
    write_xlsx(files["forged-dimension XLSX"], plain_rows(ROWS), forged=True)
    write_separators(files["separators CSV"])
    results = {}
    for name, path in files.items():
        results[name] = measure(path)
        result = results[name]
        print(f"  {name:22s} {path.stat().st_size / 1e6:6.1f} MB  {result['seconds']:6.2f} s  "
              f"peak {result['peak_mb']:6.0f} MB  HTTP {result['status']}  page {result['page_bytes'] / 1e3:.0f} kB"
              f"{'  (preview)' if result['preview'] else ''}")
    for name, baseline in (("look-alike CSV", "plain CSV"), ("forged-dimension XLSX", "plain XLSX"),
                           ("separators CSV", "plain CSV")):
        ratio = results[name]["seconds"] / results[baseline]["seconds"]
        print(f"{ROWS} rows: {name} vs {baseline}: time ratio {ratio:.2f} (target <= 2), "
              f"peak {results[name]['peak_mb']:.0f} MB (target <= 300), "
              f"page size ratio {results[name]['page_bytes'] / results[baseline]['page_bytes']:.2f}")
    for path in files.values():
        path.unlink()
    directory.rmdir()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
    else:
        main()

"""Evidence-pack benchmark: a submitted claim whose lines hold 2 000 documents of 200 KB;
and a staff-only final bilan of 24 people × 24 months with their evidence (each person's
contract for 2023 and 2024 and 24 signed timesheets: 624 documents of 200 KB).

Prints ratios against baselines measured in the same run:
- writing the pack (``claims.pack.write_pack``: XLSX, PDF, CSV, the documents hashed and
  stored, timesheets, manifest) to a file as ``bilans pack`` does, and streaming it as the web
  download does (``claims.pack_stream.stream_pack``), each vs `zip -0 -r` of the same
  document files (target <= 1.3x), in elapsed time and in CPU time (the latter does not
  depend on what else the machine runs); the XLSX, PDF and CSVs are made in each run;
- peak memory (max RSS) of `flask bilans pack` run as its own process (target <= 120 MB).

    .venv/bin/python bench/bench_pack.py
    BENCH_DOCUMENTS=400 .venv/bin/python bench/bench_pack.py      # a quick run
    BENCH_PART=staff .venv/bin/python bench/bench_pack.py         # the staff bilan alone
"""
import hashlib
import os
import resource
import shutil
import statistics
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

DOCUMENTS = int(os.environ.get("BENCH_DOCUMENTS", "2000"))
PART = os.environ.get("BENCH_PART", "all")  # all | documents | staff
PEOPLE, MONTHS = 24, 24
STAFF_CODE = "BENCH-STAFF"
DOCUMENT_BYTES = 200 * 1024
WRITTEN = 5  # files the pack writes beside the documents (see ``write_pack``)
CODE = "BENCH-PACK"
START, END = date(2023, 1, 1), date(2023, 1, 31)
SECRET = "bench-secret-key-0123456789abcdef0123456789"


def build(upload_dir: Path, code=CODE, documents=DOCUMENTS):
    """An operation, ``documents`` / 2 complete expenses with an invoice and a proof of
    payment each (random bytes behind a PDF header: nothing to compress), a submitted claim."""
    from sqlalchemy import insert, select

    from budget_app.claims import lifecycle
    from budget_app.expenses.models import Expense, SupportingDocument
    from budget_app.kernel.extensions import db
    from budget_app.operations.models import Operation, Organisation

    organisation = Organisation(name="Association (banc d'essai)", kind="association")
    operation = Operation(code=code, title="Banc d'essai du dossier de preuves", organisation=organisation,
                          start_date=date(2023, 1, 1), end_date=date(2024, 12, 31), fse_rate=Decimal("60"),
                          fse_amount=Decimal("900000000.00"), status="running")
    db.session.add(operation)
    db.session.commit()
    expenses = documents // 2
    db.session.execute(insert(Expense), [{
        "operation_id": operation.id, "category": "FONCTIONNEMENT", "incurred_on": START + timedelta(days=i % 31),
        "paid_on": date(2023, 2, 5), "supplier_name": f"Fournisseur {i % 50}", "supplier_key": f"f{i % 50}",
        "document_number": f"F{i:06d}", "document_key": f"f{i:06d}", "label": f"Dépense n° {i}",
        "amount_excl_vat": Decimal("100.00"), "vat": Decimal("0.00"), "vat_recoverable": False,
        "allocation_percent": Decimal("100"), "eligible_amount": Decimal("100.00"), "is_complete": True, "version": 1,
    } for i in range(expenses)])
    ids = db.session.scalars(select(Expense.id).where(Expense.operation_id == operation.id).order_by(Expense.id)).all()
    rows = []
    for index, expense_id in enumerate(ids):
        for kind in ("invoice", "payment"):
            data = b"%PDF-1.4\n" + os.urandom(DOCUMENT_BYTES - 9)
            stored = f"{code}-{index:06d}{kind[0]}{os.urandom(8).hex()}.pdf"
            (upload_dir / stored).write_bytes(data)
            rows.append({"expense_id": expense_id, "kind": kind, "original_name": f"{kind}-{index}.pdf",
                         "stored_name": stored, "content_type": "application/pdf", "size": len(data),
                         "sha256": hashlib.sha256(data).hexdigest()})
    db.session.execute(insert(SupportingDocument), rows)
    db.session.commit()
    claim = lifecycle.create_draft(operation, START, END)
    lifecycle.submit_claim(claim, today=date(2023, 3, 1))
    db.session.commit()
    return claim


def build_staff(upload_dir: Path, code=STAFF_CODE):
    """24 hourly people × 24 months (2023-2024) approved, each month's signed timesheet and
    each year's contract attached (random bytes behind a PDF header), a final bilan submitted."""
    from sqlalchemy import insert, select

    from budget_app.claims import lifecycle
    from budget_app.kernel.audit.models import utcnow
    from budget_app.kernel.extensions import db
    from budget_app.operations.models import Operation, Organisation
    from budget_app.staff.models import Person, StaffAssignment, StaffCostLine, StaffDocument, Timesheet
    from tests.operations.factories import make_plan

    organisation = Organisation(name="Département (banc d'essai)", kind="collectivite")
    operation = Operation(code=code, title="Banc d'essai des pièces du personnel", organisation=organisation,
                          start_date=date(2023, 1, 1), end_date=date(2024, 12, 31), fse_rate=Decimal("60"),
                          fse_amount=Decimal("500250.00"), status="running")
    db.session.add(operation)
    db.session.commit()
    make_plan(operation)
    months = [date(2023 + index // 12, index % 12 + 1, 1) for index in range(MONTHS)]
    documents = []
    for number in range(PEOPLE):
        person = Person(registration_number=f"B{number:04d}", last_name=f"Agent {number}", first_name="Banc")
        assignment = StaffAssignment(operation_id=operation.id, person=person, method="hourly")
        db.session.add(assignment)
        db.session.flush()
        sheets = db.session.execute(insert(Timesheet).returning(Timesheet.id), [{
            "assignment_id": assignment.id, "month": month, "hours_on_operation": Decimal("100"),
            "hours_worked": Decimal("140"), "state": "approved", "version": 1} for month in months]).scalars().all()
        db.session.execute(insert(StaffCostLine), [{
            "operation_id": operation.id, "timesheet_id": sheet_id, "person_id": person.id, "month": month,
            "hours": Decimal("100"), "hourly_rate": Decimal("24.00"), "amount": Decimal("2400.00"),
            "computation": "100 h × 24,00 €/h = 2 400,00 €"} for sheet_id, month in zip(sheets, months)])
        covered = [("contract", date(2023, 1, 1), date(2023, 12, 1)), ("contract", date(2024, 1, 1), date(2024, 12, 1))]
        covered += [("timesheet_signed", month, month) for month in months]
        for kind, first, last in covered:
            data = b"%PDF-1.4\n" + os.urandom(DOCUMENT_BYTES - 9)
            stored = f"{code}-{number:03d}-{kind[0]}{first:%Y%m}{os.urandom(6).hex()}.pdf"
            (upload_dir / stored).write_bytes(data)
            documents.append({"assignment_id": assignment.id, "kind": kind, "first_month": first, "last_month": last,
                              "original_name": f"{kind}-{first:%Y-%m}.pdf", "stored_name": stored,
                              "content_type": "application/pdf", "size": len(data),
                              "sha256": hashlib.sha256(data).hexdigest(), "uploaded_at": utcnow()})
    db.session.execute(insert(StaffDocument), documents)
    db.session.commit()
    claim = lifecycle.create_draft(operation, operation.start_date, operation.end_date, final=True)
    lifecycle.submit_claim(claim, today=date(2025, 3, 1))
    db.session.commit()
    assert claim.lines.count() == PEOPLE * MONTHS, claim.lines.count()
    return claim, len(documents)


def fresh(claim, *rest):
    """The claim in a new session, what was built collected: the pack starts as in a process
    of its own (``bilans pack``, a worker), not beside the objects the bench made."""
    import gc

    from budget_app.claims.models import Claim
    from budget_app.kernel.extensions import db

    claim_id = claim.id
    db.session.remove()
    gc.collect()
    claim = db.session.get(Claim, claim_id)
    return (claim, *rest) if rest else claim


def _cpu() -> float:
    """CPU seconds of this process (all its threads) and of its finished children (zip)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def zip_baseline(upload_dir: Path, target: Path, code=CODE):
    """The same document files, stored (-0) as the pack stores them."""
    target.unlink(missing_ok=True)
    subprocess.run(["zip", "-0", "-r", "-q", str(target), "."], cwd=upload_dir / code, check=True)


def write_pack(claim, target: Path, files=None):
    from budget_app.claims.pack import write_pack as pack

    target.unlink(missing_ok=True)
    result = pack(claim, target)
    # The documents and what the pack writes: bilan.xlsx, bilan.pdf, lignes.csv, the
    # timesheets' CSV and the participants' indicator table.
    assert result.complete and result.files == (DOCUMENTS if files is None else files) + WRITTEN, result


def stream_pack(claim, target: Path, files):
    """The web download's path (``pack_stream.stream_pack``: the pack written by a thread of
    its own, handed over in pieces), read to the end into a file as a client would."""
    from flask import current_app

    from budget_app.claims.pack_stream import stream_pack as stream

    with target.open("wb") as out:
        for piece in stream(current_app._get_current_object(), claim.id):
            out.write(piece)
    with zipfile.ZipFile(target) as archive:  # a whole pack: every file and the manifest
        assert len(archive.namelist()) == (DOCUMENTS if files is None else files) + WRITTEN + 1


def compare(upload_dir: Path, workdir: Path, claim, code: str, files: int, what: str):
    """The pack (written to a file as ``bilans pack`` does, and streamed as the web download
    is) vs `zip -0 -r` of the same files, alternately three times, medians."""
    (upload_dir / code).mkdir()
    for path in upload_dir.glob(f"{code}-*.pdf"):  # the baseline's folder: the same files, hard links
        os.link(path, upload_dir / code / path.name)
    runs = (lambda: zip_baseline(upload_dir, workdir / "zip.zip", code),
            lambda: write_pack(claim, workdir / "pack.zip", files),
            lambda: stream_pack(claim, workdir / "stream.zip", files))
    times, cpu = tuple([] for _ in runs), tuple([] for _ in runs)
    for _ in range(3):  # alternately, so a busy machine slows each alike
        for index, run in enumerate(runs):
            begin, used = time.perf_counter(), _cpu()
            run()
            times[index].append(time.perf_counter() - begin)
            cpu[index].append(_cpu() - used)
    baseline, zip_cpu = statistics.median(times[0]), statistics.median(cpu[0])
    for index, how in ((1, "dossier de preuves (fichier)"), (2, "dossier de preuves (téléchargement en flux)")):
        measured, pack_cpu = statistics.median(times[index]), statistics.median(cpu[index])
        print(f"{what} : {how} {measured:.2f} s ; zip -0 -r des mêmes pièces : {baseline:.2f} s ; "
              f"ratio {measured / baseline:.2f} (cible <= 1.3) ; temps processeur (utilisateur + système) "
              f"{pack_cpu:.2f} s / {zip_cpu:.2f} s : ratio {pack_cpu / zip_cpu:.2f} (indépendant de la charge)")


PEAK_PROBE = """
import resource, sys
from flask.cli import main
sys.argv = ["flask"] + sys.argv[1:]
try:
    main()
except SystemExit as exit_:
    if exit_.code:
        raise
# The peak of this process's own memory (VmHWM, kB): ru_maxrss would also count the pages
# of the bench process it was forked from (Linux keeps ru_maxrss across execve).
try:
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(peak, file=sys.stderr)
"""


def cli_pack(database_url, upload_dir, target, code=CODE):
    """Max RSS (MiB) and wall time of `flask bilans pack` as its own process."""
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": SECRET,
           "BUDGET_APP_UPLOAD_DIR": str(upload_dir)}
    begin = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", PEAK_PROBE, "--app", "budget_app", "bilans", "pack", code, "1", "-o", str(target)],
        check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    return int(result.stderr.strip().splitlines()[-1]) / 1024, time.perf_counter() - begin


def main():
    if not shutil.which("zip"):
        sys.exit("zip is not installed (apt-get install zip): no baseline")
    from flask_migrate import upgrade

    from budget_app.kernel import migrations

    from budget_app import create_app
    from budget_app.kernel.extensions import db

    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        upload_dir = workdir / "uploads"
        upload_dir.mkdir()
        database_url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SECRET, "TESTING": True,
                          "BUDGET_APP_UPLOAD_DIR": str(upload_dir)})
        with app.app_context():
            migrations.bind(app)  # Flask-Migrate is bound on demand (kernel/migrations.py)
            upgrade(directory=str(ROOT / "migrations"))
            if PART in ("all", "staff"):
                begin = time.perf_counter()
                staff_claim, files = fresh(*build_staff(upload_dir))
                print(f"bilan final de {PEOPLE} personnes × {MONTHS} mois : {files} pièces du personnel de "
                      f"{DOCUMENT_BYTES // 1024} Ko créées en {time.perf_counter() - begin:.1f} s")
                compare(upload_dir, workdir, staff_claim, STAFF_CODE, files, "pièces du personnel")
            if PART == "staff":
                return
            begin = time.perf_counter()
            claim = build(upload_dir)
            build(upload_dir, code="BENCH-MINI", documents=2)
            claim = fresh(claim)
            print(f"{DOCUMENTS} pièces de {DOCUMENT_BYTES // 1024} Ko créées en {time.perf_counter() - begin:.1f} s")
            compare(upload_dir, workdir, claim, CODE, DOCUMENTS, "dépenses")
            db.session.remove()
            db.engine.dispose()
        peak, wall = cli_pack(database_url, upload_dir, workdir / "cli.zip")
        small, _wall = cli_pack(database_url, upload_dir, workdir / "mini.zip", code="BENCH-MINI")
        print(f"mémoire maximale de `flask bilans pack` : {peak:.0f} Mo (cible <= 120) ; la même commande pour "
              f"une demande de 2 pièces : {small:.0f} Mo (les {DOCUMENTS} pièces ajoutent {peak - small:.0f} Mo) ; "
              f"durée de la commande, démarrage compris : {wall:.2f} s")


if __name__ == "__main__":
    main()

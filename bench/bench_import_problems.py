"""Import benchmark (issue 13): a file of 20 000 bad rows must be refused fast, with a
bounded page (first 200 problems listed, the others counted).

Prints, against baselines measured in the same run:
- the whole web request (upload, check, render the refusal) vs ``check_file`` alone on
  the same bytes (target <= 1.5x: rendering the report adds little);
- the size of the refusal page vs the page for a file of 100 bad rows, whose 200 problems
  are all listed (target <= 1.1x: the page is bounded).

    .venv/bin/python bench/bench_import_problems.py
    BENCH_ROWS=5000 ...                               # fewer rows for a quick run
"""
import io
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

ROWS = int(os.environ.get("BENCH_ROWS", "20000"))
HEADER = "Date;Date de paiement;Fournisseur;SIRET;N° de pièce;Libellé;Catégorie;Montant HT;TVA;TVA récupérable;Affectation (%)\n"
BAD = "99/99/2019;15/03/2019;Bureau;;FA-{n};Fournitures;FONCTIONNEMENT;abc;49,16;non;100\n"


def main():
    from flask_migrate import upgrade

    from budget_app import create_app
    from budget_app.accounts.services import create_user
    from budget_app.accounts.sessions import start_session
    from budget_app.expenses.imports import check_file
    from budget_app.kernel.extensions import db
    from budget_app.operations.models import Operation, Organisation

    directory = tempfile.mkdtemp()
    app = create_app({"SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False, "LOGIN_FAILURE_DELAY_SECONDS": 0,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory}/bench.sqlite3",
                      "BUDGET_APP_UPLOAD_DIR": f"{directory}/uploads"})
    with app.app_context():
        upgrade()
        operation = Operation(code="BENCH", title="Bench", organisation=Organisation(name="O", kind="collectivite"),
                              start_date=date(2019, 1, 1), end_date=date(2019, 12, 31), fse_rate=Decimal("50"),
                              fse_amount=Decimal("1000"), status="running")
        db.session.add(operation)
        user = create_user("bench@example.org", "finance_officer", "correct horse battery staple",
                           operation_codes=["BENCH"])
        db.session.commit()
        token = start_session(user)
        db.session.commit()
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"], session["sid"] = str(user.id), token
        content = (HEADER + "".join(BAD.format(n=n) for n in range(ROWS))).encode()
        small = (HEADER + "".join(BAD.format(n=n) for n in range(100))).encode()

        def post(data):
            return client.post("/operations/BENCH/depenses/import", content_type="multipart/form-data",
                               data={"file": (io.BytesIO(data), "depenses.csv")})

        def check():
            with app.test_request_context():
                check_file(db.session.get(Operation, operation.id), content)

        times = ([], [])
        for _ in range(3):
            for index, function in enumerate((check, lambda: post(content))):
                begin = time.perf_counter()
                function()
                times[index].append(time.perf_counter() - begin)
        baseline, measured = statistics.median(times[0]), statistics.median(times[1])
        big_page, small_page = len(post(content).data), len(post(small).data)
    print(f"{ROWS} bad rows: web refusal {measured:.2f} s vs check alone {baseline:.2f} s: "
          f"ratio {measured / baseline:.2f} (target <= 1.5)")
    print(f"refusal page {big_page} bytes vs 100 bad rows {small_page} bytes: ratio {big_page / small_page:.2f} "
          f"(target <= 1.1)")


if __name__ == "__main__":
    main()

"""Login benchmark (issue 26, point 7): what a login costs beyond its password hash.

Measured in the same run, alternately so that a busy machine slows all alike:
- one argon2id verification at the configured cost (ARGON2_* settings: the baseline);
- POST /connexion of a finance officer (the whole request: form, lookup, verification,
  session row, audit entry, redirect);
- POST /connexion of an anti-fraud referent (the password step: the verification, and
  opening the referent's private key with a key derived from the password);
- POST /signalement, an anonymous filing (its follow-up secret's light hash, the content
  key sealed for the referents, the recovery key and the reporter).

Prints the p50 of each and their ratios to the baseline (target: login <= 1.5x).

    .venv/bin/python bench/bench_login.py          # SQLite file in a temporary directory
    BENCH_ROUNDS=15 ...                            # more rounds on a busy machine
"""
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "9"))
PASSWORD = "banc d'essai de la connexion 2026"


def main():
    from flask_migrate import upgrade

    from budget_app import create_app
    from budget_app.accounts.passwords import verify_hash
    from budget_app.accounts.services import create_user
    from budget_app.kernel import migrations
    from budget_app.kernel.extensions import db

    with tempfile.TemporaryDirectory() as directory:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(directory) / 'login.sqlite3'}",
                          "SECRET_KEY": "bench-" + "x" * 40, "WTF_CSRF_ENABLED": False,
                          "BUDGET_APP_UPLOAD_DIR": str(Path(directory) / "uploads"),
                          # the bench files more alerts from one address than the public limits allow
                          "ALERT_REPORTS_PER_ADDRESS": "10000 per hour", "ALERT_REPORTS_TOTAL": "10000 per hour"})
        assert not app.config.get("TESTING"), "the configured argon2 cost, not the tests' one"
        with app.app_context():
            migrations.bind(app)
            upgrade(directory=str(ROOT / "migrations"))
            officer = create_user("officer@bench.invalid", "finance_officer", PASSWORD)
            create_user("referent@bench.invalid", "antifraud_referent", PASSWORD)
            db.session.commit()
            stored = officer.password_hash
            config = {key: app.config[key] for key in ("ARGON2_TIME_COST", "ARGON2_MEMORY_COST_KIB", "ARGON2_PARALLELISM")}

        def verify():
            with app.app_context():
                assert verify_hash(stored, PASSWORD)

        def login(email, expected):
            def run():
                client = app.test_client()
                response = client.post("/connexion", data={"email": email, "password": PASSWORD})
                assert response.status_code == 302 and expected in response.headers["Location"], response.status_code
            return run

        def file():
            response = app.test_client().post("/signalement", data={
                "kind": "fraud", "facts": "Heures facturées deux fois.", "identity": "anonymous",
                "operation_text": "Chantier d'insertion"})
            assert response.status_code == 200 and b"SIG-" in response.data, response.status_code

        measured = {"verify": verify, "officer": login("officer@bench.invalid", "/"),
                    "referent": login("referent@bench.invalid", "/connexion/"), "filing": file}
        for function in measured.values():  # warm: imports, first connection, caches
            function()
        times = {name: [] for name in measured}
        for _ in range(ROUNDS):
            for name, function in measured.items():
                begin = time.perf_counter()
                function()
                times[name].append(time.perf_counter() - begin)
        p50 = {name: statistics.median(values) for name, values in times.items()}
        print(f"argon2id {config}: one verification p50 {p50['verify'] * 1000:.0f} ms (baseline)")
        for name, label in (("officer", "login, finance officer"), ("referent", "login, referent (password step)"),
                            ("filing", "filing an alert (public form)")):
            print(f"{label}: p50 {p50[name] * 1000:.0f} ms ; ratio {p50[name] / p50['verify']:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()

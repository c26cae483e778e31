"""Load test, in production mode on 127.0.0.1: Debian's nginx with the site file of
deploy/nginx/budget-app.conf in front of two gunicorn servers (BENCH_WORKERS workers each,
default 2), sharing PostgreSQL, Redis and one upload folder (tests/production/cluster.py, as
the two-servers test; both servers on this machine, so a folder stands for the bucket);
``BENCH_MODE=direct`` is one gunicorn (BENCH_WORKERS, default 4) behind a simulated proxy
(X-Forwarded-For). An operation with 20 000 expense lines, simulated people in threads, each
waiting 1-3 s between actions as people do. Through nginx, each person connects from their
own loopback address (127.x.y.z), which nginx passes on: the per-address throttles count
them apart as they would count people.

- finance officers: expense list, filtered list, claim computation, XLSX export of a claim,
  expense creation with a small PDF;
- anonymous reporters: the public form, and filings within the throttle (each filing from a
  new address; a budget per run keeps the bench under the hourly total of 60). A filing is
  timed alone (its form's GET is a « formulaire public »), as a creation is;
- the referent: the alerts dashboard and an alert.

Prints requests/s, errors, p50/p95/p99 per kind, the one-user p50 of each kind measured in
the same run, and each p95 as a ratio of the trivial endpoint's (`GET /sante`); then a run
without waiting (saturation) and a 50-user step; checks that every expense and alert
created is in the database; prints each worker's RSS after the runs (target <= 120 MB), with its PSS and USS.
Targets: zero 5xx, nothing lost, p95 <= 300 ms per page kind and <= 3 s for exports.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/budget_bench_load \\
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/bench_load.py
    BENCH_SECONDS=20 BENCH_LINES=5000 ...      # a quick run
    BENCH_MODE=direct ...                      # one gunicorn, no nginx
"""
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from http.client import HTTPConnection
from pathlib import Path
from tempfile import TemporaryDirectory
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent

from serving import fresh_postgres_database, start_gunicorn, wait_until_up  # noqa: E402  (bench/, beside this file)
from tests.production.cluster import NGINX, Cluster  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/budget_bench_load")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
MODE = os.environ.get("BENCH_MODE", "nginx")
WORKERS = int(os.environ.get("BENCH_WORKERS", "2" if MODE == "nginx" else "4"))
TOTAL_WORKERS = 2 * WORKERS if MODE == "nginx" else WORKERS
LINES = int(os.environ.get("BENCH_LINES", "20000"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "60"))
PORT = int(os.environ.get("BENCH_PORT", "8765"))  # direct mode; nginx listens on a free port
CODE = "HL-RSA-2023"
PASSWORD = "banc d'essai de charge 2026"
OPS = f"/operations/{CODE}"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
EXPORTS = {"export XLSX"}
# Public filings per run, 59 in all: under ALERT_REPORTS_TOTAL (60 per hour); most of them in
# the 20-user run, whose filing p95 is compared with /sante's.
FILING_BUDGETS = {"1 user": 9, "20 users": 34, "saturation": 9, "50 users": 7}


def setup(env: dict, uploads: Path) -> None:
    from sqlalchemy import insert, text

    fresh_postgres_database(DATABASE_URL)
    flask = [str(BIN / "flask"), "--app", "budget_app"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    # The seed operation, with running costs in its plan so that expenses can be recorded.
    extra = "".join(f'[[plan.costs]]\ncategory = "{category}"\nyear = {year}\namount = 50000.00\n\n'
                    for category in ("FONCTIONNEMENT", "PRESTATIONS", "PARTICIPANTS") for year in (2023, 2024))
    plan = (ROOT / "fixtures" / "hl-rsa-2023.toml").read_text(encoding="utf-8")
    plan = plan.replace("[[plan.flat_rates]]", extra + "[[plan.flat_rates]]").replace(
        "amount = 333500.00", "amount = 453500.00").replace("500250.00", "680250.00")
    (uploads.parent / "plan.toml").write_text(plan, encoding="utf-8")
    loaded = subprocess.run([*flask, "operations", "load", str(uploads.parent / "plan.toml")], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    if loaded.returncode:
        raise SystemExit(loaded.stdout + loaded.stderr)

    import pyotp

    from budget_app import create_app
    from budget_app.accounts import second_factor
    from budget_app.accounts.services import create_user
    from budget_app.claims import lifecycle
    from budget_app.expenses.models import Expense
    from budget_app.kernel.extensions import db
    from budget_app.operations.models import Operation
    from tests.alerts.factories import file_alert

    app = create_app({"SQLALCHEMY_DATABASE_URI": DATABASE_URL, "BUDGET_APP_UPLOAD_DIR": str(uploads),
                      "SECRET_KEY": env["SECRET_KEY"], "ALERT_KEY": env["BUDGET_APP_ALERT_KEY"]})
    with app.app_context():
        operation = db.session.scalar(db.select(Operation).filter_by(code=CODE))
        create_user("officer@bench.invalid", "finance_officer", PASSWORD, operation_codes=[CODE])
        referent = create_user("referent@bench.invalid", "antifraud_referent", PASSWORD)
        # The referent's second factor, enrolled as its page does (required for the role).
        TOTP["secret"] = second_factor.start_enrolment(referent)
        second_factor.confirm_enrolment(referent, pyotp.TOTP(TOTP["secret"]).now())
        referent.totp_last_counter = None
        categories = ("FONCTIONNEMENT", "PRESTATIONS", "PARTICIPANTS")
        rows = []
        for index in range(LINES):
            amount = Decimal(1000 + index % 9000) / 100
            day = date(2023, 1, 1) + timedelta(days=index % 700)
            rows.append({
                "operation_id": operation.id, "category": categories[index % 3], "incurred_on": day,
                "paid_on": day + timedelta(days=10), "supplier_name": f"Fournisseur {index % 500}",
                "supplier_key": f"fournisseur {index % 500}", "document_number": f"F{index:06d}",
                "document_key": f"f{index:06d}", "label": f"Dépense n° {index}", "amount_excl_vat": amount,
                "vat": Decimal("0.00"), "vat_recoverable": False, "allocation_percent": Decimal("100"),
                "eligible_amount": amount, "is_complete": True, "version": 1,
            })
        for start in range(0, len(rows), 5000):
            db.session.execute(insert(Expense), rows[start:start + 5000])
        lifecycle.create_draft(operation, date(2023, 1, 1), date(2023, 6, 30))
        db.session.commit()
        file_alert(operation=operation, attachments=[("preuve.pdf", PDF)])
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        db.engine.dispose()


class User:
    """One simulated person: a keep-alive connection, cookies, a client address (through
    nginx, the connection's source address; directly, X-Forwarded-For)."""

    def __init__(self, kind: str, address: str):
        self.kind, self.cookies = kind, {}
        self.move(address)

    def move(self, address: str) -> None:
        """A new person at ``address``: a new connection from there."""
        self.address = address
        if getattr(self, "connection", None) is not None:
            self.connection.close()
        self.connection = self.connect()

    def connect(self):
        source = (self.address, 0) if MODE == "nginx" else None
        return HTTPConnection("127.0.0.1", PORT, timeout=60, source_address=source)

    def request(self, method, path, body=None, content_type=None):
        headers = {"X-Forwarded-Proto": "https", "Referer": f"https://127.0.0.1:{PORT}{path}",
                   "Host": f"127.0.0.1:{PORT}"}
        if MODE == "direct":
            headers["X-Forwarded-For"] = self.address
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        for attempt in range(2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                break
            except (ConnectionError, OSError):
                self.connection.close()
                self.connection = self.connect()
                if attempt:
                    return 599, b""
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                cookie_name, _, rest = value.partition("=")
                self.cookies[cookie_name] = rest.split(";", 1)[0]
        return response.status, data

    def csrf_page(self, path) -> tuple[int, str]:
        status, page = self.request("GET", path)
        found = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
        return status, found.group(1).decode() if found else ""

    def csrf(self, path) -> str:
        return self.csrf_page(path)[1]

    def post_form(self, path, fields, files=()):
        if not files:
            return self.request("POST", path, urlencode(fields).encode(), "application/x-www-form-urlencoded")
        boundary = uuid.uuid4().hex
        parts = []
        for key, value in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
        for key, filename, content in files:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; filename="{filename}"\r\n'
                         f'Content-Type: application/pdf\r\n\r\n'.encode() + content + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request("POST", path, b"".join(parts), f"multipart/form-data; boundary={boundary}")

    def login(self, email):
        token = self.csrf("/connexion")
        status, _ = self.post_form("/connexion", {"csrf_token": token, "email": email, "password": PASSWORD})
        assert status == 302, f"login of {email}: {status}"
        if email.startswith("referent"):  # then the second factor's code
            import pyotp

            token = self.csrf("/connexion/code")
            status, _ = self.post_form("/connexion/code", {"csrf_token": token,
                                                           "code": pyotp.TOTP(TOTP["secret"]).now()})
            assert status == 302, f"second factor of {email}: {status}"


class Run:
    def __init__(self):
        self.times = defaultdict(list)
        self.errors = defaultdict(int)
        self.server_errors = 0
        self.lock = threading.Lock()
        self.created_expenses = 0
        self.created_alerts = 0

    def record(self, kind, seconds, ok, status):
        with self.lock:
            self.times[kind].append(seconds)
            if not ok:
                self.errors[kind] += 1
            if status >= 500:
                self.server_errors += 1


FILINGS = {"left": 0}
FILINGS_LOCK = threading.Lock()
# Loopback addresses other than 127.0.0.1 (nginx's own), or documentation addresses.
ADDRESSES = iter(f"127.{n // 62500 + 1}.{n // 250 % 250}.{n % 250 + 1}" if MODE == "nginx"
                 else f"198.51.{n // 250}.{n % 250 + 1}" for n in range(1000000))
ADDRESS_LOCK = threading.Lock()


def next_address():
    with ADDRESS_LOCK:
        return next(ADDRESSES)


def timed(run, kind, action, expected):
    if expected is None:  # the action times what it does itself
        return action()
    begin = time.perf_counter()
    status, data = action()
    run.record(kind, time.perf_counter() - begin, status in expected, status)
    return status, data


def officer_actions(user, run):
    def create():
        token = user.csrf(f"{OPS}/depenses/nouvelle")  # the form's GET, not timed
        number = uuid.uuid4().hex[:10]
        day = date(2024, 1, 1) + timedelta(days=random.randrange(300))
        # A different supplier, day and amount each time: not a possible duplicate.
        fields = {"csrf_token": token, "incurred_on": day.isoformat(), "paid_on": (day + timedelta(days=5)).isoformat(),
                  "supplier_name": f"Papeterie {number}", "supplier_siret": "", "document_number": f"B-{number}",
                  "label": f"Charge {number}", "category": "FONCTIONNEMENT",
                  "amount_excl_vat": f"{random.randrange(1000, 99999) / 100:.2f}".replace(".", ","),
                  "vat": "0,00", "allocation_percent": "100"}
        status, data = timed(run, "création", lambda: user.post_form(
            f"{OPS}/depenses/nouvelle", fields, [("invoice", "facture.pdf", PDF)]), {302})
        if status == 302:
            with run.lock:
                run.created_expenses += 1
        return status, data

    return [
        ("liste", lambda: user.request("GET", f"{OPS}/depenses"), {200}),
        ("liste filtrée", lambda: user.request(
            "GET", f"{OPS}/depenses?category=PRESTATIONS&supplier=Fournisseur+12&sort=montant"), {200}),
        ("calcul", lambda: user.request("GET", f"{OPS}/demandes/?month=2023-03"), {200}),
        ("export XLSX", lambda: user.request("GET", f"{OPS}/demandes/1/export.xlsx"), {200}),
        ("création", create, None),  # timed inside: the POST alone
    ]


def reporter_actions(user, run):
    def file_report():
        with FILINGS_LOCK:
            if FILINGS["left"] <= 0:  # the run's budget is spent: the form only
                return timed(run, "formulaire public", lambda: user.request("GET", "/signalement"), {200})
            FILINGS["left"] -= 1
        user.move(next_address())  # a new reporter, from a new address
        user.cookies.clear()
        token = timed(run, "formulaire public", lambda: user.csrf_page("/signalement"), {200})[1]
        fields = {"csrf_token": token, "kind": "fraud", "operation_id": "", "operation_text": "Chantier du banc",
                  "facts": "Faits constatés lors du banc d'essai", "persons": "", "dates": "", "identity": "anonymous"}
        status, data = timed(run, "signalement", lambda: user.post_form(
            "/signalement", fields, [("attachments", "preuve.pdf", PDF)]), {200})
        if status == 200 and b'data-testid="reference"' in data:
            with run.lock:
                run.created_alerts += 1
        return status, data

    return [
        ("formulaire public", lambda: user.request("GET", "/signalement"), {200}),
        ("signalement", file_report, None),  # timed inside: the POST alone
    ]


def referent_actions(user, run, reference):
    return [
        ("signalements", lambda: user.request("GET", "/referent/signalements"), {200}),
        ("signalement (lecture)", lambda: user.request("GET", f"/referent/signalements/{reference}"), {200}),
    ]


TOTP = {}  # the referent's second-factor secret
REFERENT_SESSION = {}  # logged in once (a code is accepted once per 30 s), then the cookies reused


def make_user(kind):
    user = User(kind, next_address())
    if kind == "officer":
        user.login("officer@bench.invalid")
    elif kind == "referent" and REFERENT_SESSION:
        user.cookies = dict(REFERENT_SESSION)
    elif kind == "referent":
        user.login("referent@bench.invalid")
        REFERENT_SESSION.update(user.cookies)
    return user


def actions_for(user, run, reference):
    actions = {"officer": officer_actions, "reporter": reporter_actions}.get(user.kind)
    found = actions(user, run) if actions else referent_actions(user, run, reference)
    found.append(("santé (référence)", lambda: user.request("GET", "/sante"), {200}))
    return found


def simulate(users: int, seconds: int, wait: bool, reference: str, filings: int) -> tuple[Run, float]:
    run = Run()
    FILINGS["left"] = filings
    kinds = ["officer", "reporter", "referent"]
    mix = [kinds[0]] * (users // 2) + [kinds[1]] * (users * 2 // 5) + [kinds[2]] * 1
    mix += [kinds[0]] * (users - len(mix))
    people = [make_user(kind) for kind in mix]
    deadline = time.perf_counter() + seconds

    def live(user):
        rng = random.Random(id(user))
        actions = actions_for(user, run, reference)
        while time.perf_counter() < deadline:
            kind, action, expected = rng.choice(actions)
            timed(run, kind, action, expected)
            if wait:
                time.sleep(rng.uniform(1, 3))

    threads = [threading.Thread(target=live, args=(user,)) for user in people]
    begin = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return run, time.perf_counter() - begin


def one_user_p50(reference) -> tuple[dict, Run]:
    """Each kind alone, after a warm-up that reaches every worker (templates, first imports)."""
    warm, run = Run(), Run()
    for kind in ("officer", "referent", "reporter"):  # the referent's pages load the cryptography first
        user = make_user(kind)
        for (name, warming, expected), (_, action, _) in zip(actions_for(user, warm, reference),
                                                             actions_for(user, run, reference)):
            if name == "signalement":  # no warm-up: the hourly budget
                FILINGS["left"] = FILING_BUDGETS["1 user"]
                for _ in range(FILING_BUDGETS["1 user"]):
                    timed(run, name, action, expected)
                continue
            for _ in range(2 * TOTAL_WORKERS):
                timed(warm, name, warming, expected)
            for _ in range(7):
                timed(run, name, action, expected)
    run.created_expenses += warm.created_expenses
    return {kind: statistics.median(values) for kind, values in run.times.items()}, run


def quantile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(title, run, elapsed, alone=None):
    total = sum(len(values) for values in run.times.values())
    print(f"\n{title}: {total} requests in {elapsed:.0f} s = {total / elapsed:.1f} req/s, "
          f"{sum(run.errors.values())} errors, {run.server_errors} 5xx")
    base = quantile(run.times["santé (référence)"], 0.95) if run.times.get("santé (référence)") else None
    print(f"  {'kind':<24}{'n':>6}{'err':>5}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'1-user p50':>12}"
          f"{'p95/santé':>11}  target")
    for kind in sorted(run.times):
        values = run.times[kind]
        p95 = quantile(values, 0.95)
        target = 3000 if kind in EXPORTS else 300
        single = f"{alone[kind] * 1000:.0f}" if alone and kind in alone else "-"
        ratio = f"{p95 / base:.1f}x" if base else "-"
        print(f"  {kind:<24}{len(values):>6}{run.errors[kind]:>5}{quantile(values, 0.5) * 1000:>9.0f}"
              f"{p95 * 1000:>9.0f}{quantile(values, 0.99) * 1000:>9.0f}{single:>12}{ratio:>11}  "
              f"p95 <= {target} ms {'ok' if p95 * 1000 <= target else 'MISSED'}")
    if base and run.times.get("signalement"):
        ratio = quantile(run.times["signalement"], 0.95) / base
        print(f"  alert filing p95 = {ratio:.1f}x /sante's p95 (target <= 2x: {'ok' if ratio <= 2 else 'MISSED'})")


def worker_rss(master_pid) -> list[tuple[int, int, int]]:
    """Each worker's (RSS, PSS, USS) in MB: resident, its proportional share of pages shared
    with other processes, and its own (private) pages (``/proc/<pid>/smaps_rollup``)."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    sizes = []
    for pid in children:
        fields = {}
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            name, _, value = line.partition(":")
            fields[name] = int(value.split()[0])
        private = fields["Private_Clean"] + fields["Private_Dirty"]
        sizes.append((fields["Rss"] // 1024, fields["Pss"] // 1024, private // 1024))
    return sizes


def main():
    from cryptography.fernet import Fernet

    with TemporaryDirectory() as workdir:
        uploads = Path(workdir) / "uploads"
        env = {**os.environ, "DATABASE_URL": DATABASE_URL, "BUDGET_APP_UPLOAD_DIR": str(uploads),
               "SECRET_KEY": "bench-load-secret-key-0123456789abcdef", "REDIS_URL": REDIS_URL,
               "BUDGET_APP_ALERT_KEY": Fernet.generate_key().decode(), "BUDGET_APP_PROXY_COUNT": "1",
               "RATELIMIT_KEY_PREFIX": f"bench-{uuid.uuid4().hex}"}
        print(f"Setting up {LINES} expense lines on {DATABASE_URL.rsplit('@', 1)[-1]} ...", flush=True)
        setup(env, uploads)
        before = count_rows()
        masters, stop = serve(env, Path(workdir), uploads)
        try:
            reference = alert_reference()
            alone, single = one_user_p50(reference)
            served = (f"nginx, 2 gunicorn -w {WORKERS}" if MODE == "nginx" else f"gunicorn -w {WORKERS} (direct)")
            print(f"{served}, PostgreSQL, Redis; {LINES} expense lines; one-user p50 measured first "
                  f"(a filing's: {alone['signalement'] / alone['santé (référence)']:.1f}x /sante's).")
            run, elapsed = simulate(20, SECONDS, True, reference, FILING_BUDGETS["20 users"])
            report(f"20 users, {SECONDS} s, 1-3 s between actions", run, elapsed, alone)
            saturation, elapsed_s = simulate(20, max(10, SECONDS // 3), False, reference, FILING_BUDGETS["saturation"])
            report("Saturation: 20 users without waiting", saturation, elapsed_s, alone)
            step, elapsed_50 = simulate(50, max(10, SECONDS // 2), True, reference, FILING_BUDGETS["50 users"])
            report("Step: 50 users, 1-3 s between actions", step, elapsed_50, alone)
            after = count_rows()
            created = [r.created_expenses for r in (single, run, saturation, step)]
            alerts = [r.created_alerts for r in (single, run, saturation, step)]
            print(f"\nNothing lost: expenses created {sum(created)}, in the database {after[0] - before[0]}; "
                  f"alerts filed {sum(alerts)}, in the database {after[1] - before[1]}: "
                  f"{'ok' if (sum(created), sum(alerts)) == (after[0] - before[0], after[1] - before[1]) else 'LOST'}")
            sizes = [size for master in masters for size in worker_rss(master)]
            print(f"Worker RSS after the runs: {', '.join(f'{rss} MB' for rss, _, _ in sizes)} "
                  f"(target <= 120 MB: {'ok' if max(rss for rss, _, _ in sizes) <= 120 else 'MISSED'}); "
                  f"PSS {', '.join(str(pss) for _, pss, _ in sizes)} MB; "
                  f"USS {', '.join(str(uss) for _, _, uss in sizes)} MB")
        finally:
            stop()


def serve(env: dict, workdir: Path, uploads: Path):
    """Starts the servers; returns the gunicorn masters' pids and a function that stops all."""
    global PORT
    if MODE == "direct":
        log = open(workdir / "gunicorn.log", "wb")  # noqa: SIM115 (the app's one-line logs, kept out of the table)
        server = start_gunicorn(ROOT, BIN, env, PORT, WORKERS, log)
        wait_until_up(PORT)
        return [server.pid], lambda: (server.terminate(), server.wait(timeout=30))
    if not os.path.exists(NGINX):
        raise SystemExit("nginx is not installed: apt-get install -y nginx-light (or BENCH_MODE=direct)")
    cluster = Cluster(workdir, {**env, "BUDGET_APP_ENV": "production"}, workers=WORKERS, shared_uploads=uploads)
    cluster.start()
    PORT = cluster.port
    return [process.pid for process in cluster.processes[:2]], cluster.stop


def count_rows() -> tuple[int, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(DATABASE_URL)
    with engine.connect() as connection:
        counts = (connection.execute(text("SELECT count(*) FROM expenses")).scalar(),
                  connection.execute(text("SELECT count(*) FROM alerts")).scalar())
    engine.dispose()
    return counts


def alert_reference() -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(DATABASE_URL)
    with engine.connect() as connection:
        reference = connection.execute(text("SELECT reference FROM alerts ORDER BY id LIMIT 1")).scalar()
    engine.dispose()
    return reference


if __name__ == "__main__":
    main()

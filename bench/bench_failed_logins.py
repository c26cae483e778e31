"""Worker-hostage bench (issue 21, point 4): gunicorn (BENCH_WORKERS, default 4) in production
mode with PostgreSQL and Redis on 127.0.0.1, behind a (simulated) reverse proxy on this
machine. `GET /sante` is timed alone, then again while 20 client addresses fail logins on one
account in a loop (each as fast as the server answers: wrong password, then the 429s of the
per-(address, account) and per-address limits). Failures used to sleep inside the worker
(up to 8 s each): four of them held all four workers and `/sante` took seconds.

Prints /sante p50/p95 alone, during the attack, and during a flood of the same size of
ordinary requests (20 addresses loading the login page in a loop: what any busy hour or
crawler costs, the floor the attack is compared with), each as a ratio to /sante alone in
the same run; and what the attackers got (wrong-password pages, 429 with Retry-After, 5xx)
with the median time of each answer. On a shared 2-core machine the figures move with the
other processes' load (printed): compare the ratios of one run. Bounded: BENCH_ATTACK_SECONDS (default
20) and BENCH_ATTEMPTS per address (default 400); BENCH_SANTE_REQUESTS (default 200) timed
alone, and /sante timed all through the attack (ten times as many at most).

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/budget_bench_hostage \\
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/bench_failed_logins.py
"""
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
from http.client import HTTPConnection
from pathlib import Path
from tempfile import TemporaryDirectory
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent

from serving import fresh_postgres_database, start_gunicorn, wait_until_up  # noqa: E402  (bench/, beside this file)

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/budget_bench_hostage")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
PORT = int(os.environ.get("BENCH_PORT", "8767"))
ATTACKERS = 20
ATTACK_SECONDS = float(os.environ.get("BENCH_ATTACK_SECONDS", "20"))
ATTEMPTS = int(os.environ.get("BENCH_ATTEMPTS", "400"))
SANTE_REQUESTS = int(os.environ.get("BENCH_SANTE_REQUESTS", "200"))
VICTIM = "victime@bench.invalid"
PASSWORD = "banc d'essai des échecs 2026"


class Client:
    """A keep-alive connection with its cookies, seen through the proxy as ``address``."""

    def __init__(self, address: str):
        self.address = address
        self.connection = HTTPConnection("127.0.0.1", PORT, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method, path, body=None):
        headers = {"X-Forwarded-For": self.address, "X-Forwarded-Proto": "https", "Host": f"127.0.0.1:{PORT}",
                   "Referer": f"https://127.0.0.1:{PORT}{path}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
        except OSError:
            self.connection.close()
            self.connection = HTTPConnection("127.0.0.1", PORT, timeout=60)
            return 599, b"", {}
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, data, dict(response.getheaders())


def time_sante(requests: int, deadline: float = float("inf")) -> list[float]:
    """``requests`` timed GET /sante, one every 20 ms or so, stopping early at ``deadline``."""
    client = Client("192.0.2.250")
    times = []
    for _ in range(requests):
        if time.monotonic() > deadline:
            break
        started = time.perf_counter()
        status, _data, _headers = client.request("GET", "/sante")
        times.append(time.perf_counter() - started)
        if status != 200:
            raise SystemExit(f"/sante answered {status}")
        time.sleep(0.02)  # a monitoring probe, not a flood
    return times


def attacker(address: str, deadline: float, tally: dict, lock: threading.Lock, failing: bool = True) -> None:
    """Fails logins in a loop (``failing``), else loads the login page in a loop."""
    client = Client(address)
    _status, page, _headers = client.request("GET", "/connexion")
    found = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
    token = found.group(1).decode() if found else ""
    body = urlencode({"csrf_token": token, "email": VICTIM, "password": "pas le bon mot de passe"}).encode()
    for _ in range(ATTEMPTS):
        if time.monotonic() > deadline:
            break
        started = time.perf_counter()
        status, _data, headers = client.request("POST", "/connexion", body) if failing else client.request(
            "GET", "/connexion")
        took = time.perf_counter() - started
        with lock:
            tally[status] = tally.get(status, 0) + 1
            tally.setdefault(("time", status), []).append(took)
            if status == 429 and "Retry-After" not in headers:
                tally["429 without Retry-After"] = tally.get("429 without Retry-After", 0) + 1


def flood(failing: bool, first_address: int) -> tuple[list[float], dict]:
    """/sante timed while 20 addresses fail logins (or load the login page) in a loop."""
    tally: dict = {}
    lock = threading.Lock()
    deadline = time.monotonic() + ATTACK_SECONDS
    threads = [threading.Thread(target=attacker, args=(f"203.0.113.{first_address + n}", deadline, tally, lock,
                                                       failing))
               for n in range(ATTACKERS)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # the flood is under way (the bench's own pacing, not the server's)
    timed = time_sante(SANTE_REQUESTS * 10, deadline)
    for thread in threads:
        thread.join(timeout=ATTACK_SECONDS + 120)
    return timed, tally


def answers(tally: dict) -> str:
    counts = sorted((key, value) for key, value in tally.items() if isinstance(key, int))
    return ", ".join(f"{status}: {count} (median {statistics.median(tally[('time', status)]) * 1000:.0f} ms)"
                     for status, count in counts)


def quantile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main():
    from cryptography.fernet import Fernet

    with TemporaryDirectory() as workdir:
        env = {**os.environ, "DATABASE_URL": DATABASE_URL, "BUDGET_APP_UPLOAD_DIR": str(Path(workdir) / "uploads"),
               "SECRET_KEY": "bench-hostage-secret-key-0123456789abcdef", "REDIS_URL": REDIS_URL,
               "BUDGET_APP_ALERT_KEY": Fernet.generate_key().decode(), "BUDGET_APP_PROXY_COUNT": "1",
               "RATELIMIT_KEY_PREFIX": f"bench-{uuid.uuid4().hex}"}
        fresh_postgres_database(DATABASE_URL)
        flask = [str(BIN / "flask"), "--app", "budget_app"]
        subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        subprocess.run([*flask, "users", "create", VICTIM, "--role", "finance_officer"], cwd=ROOT, env=env,
                       input=PASSWORD + "\n", text=True, check=True, capture_output=True)
        log = open(Path(workdir) / "gunicorn.log", "wb")
        server = start_gunicorn(ROOT, BIN, env, PORT, WORKERS, log)
        try:
            wait_until_up(PORT)
            time_sante(20)  # warm every worker
            calm = time_sante(SANTE_REQUESTS)
            load_before = os.getloadavg()[0]
            attacked, tally = flood(True, 1)
            # Another 20 addresses (the attackers' are throttled for 15 minutes now).
            ordinary, ordinary_tally = flood(False, 101)
            calm_after = time_sante(SANTE_REQUESTS)
        finally:
            server.terminate()
            server.wait(timeout=30)
    calm += calm_after  # /sante alone, before and after the floods
    calm_p50, calm_p95 = statistics.median(calm), quantile(calm, 0.95)
    print(f"gunicorn -w {WORKERS}, PostgreSQL, Redis, {os.cpu_count()} processors (load average "
          f"{load_before:.1f} from every process of the machine); {ATTACKERS} addresses for up to "
          f"{ATTACK_SECONDS:.0f} s ({ATTEMPTS} requests each at most)")
    print(f"/sante alone:                      p50 {calm_p50 * 1000:7.1f} ms   p95 {calm_p95 * 1000:7.1f} ms")
    for label, timed in (("failing logins", attacked), ("loading the login page", ordinary)):
        p50, p95 = statistics.median(timed), quantile(timed, 0.95)
        print(f"/sante, 20 addresses {label + ':':24s} p50 {p50 * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   "
              f"ratio to alone: p50 {p50 / calm_p50:5.2f}×  p95 {p95 / calm_p95:5.2f}×  ({len(timed)} requests)")
    hit_p50, ordinary_p50 = statistics.median(attacked), statistics.median(ordinary)
    print(f"failing logins against the ordinary flood: /sante p50 {hit_p50 / ordinary_p50:5.2f}×")
    print(f"attackers' answers: {answers(tally)}")
    print(f"ordinary flood's answers: {answers(ordinary_tally)}")
    if any(isinstance(key, int) and key >= 500 for key in tally) or "429 without Retry-After" in tally:
        raise SystemExit("5xx or a 429 without Retry-After under attack")


if __name__ == "__main__":
    main()

"""Shared by the benches that serve the app with gunicorn on 127.0.0.1 (not a bench itself:
`make bench` runs bench/bench_*.py)."""
import time
from http.client import HTTPConnection


def fresh_postgres_database(url: str) -> None:
    """Drops and creates the PostgreSQL database named by ``url``."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def wait_until_up(port: int) -> None:
    """Waits (one minute at most) for gunicorn to answer 200 on /sante."""
    for _ in range(120):
        try:
            connection = HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/sante")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("gunicorn did not answer on /sante")


def start_gunicorn(root, bin_dir, env: dict, port: int, workers: int, log):
    """gunicorn in production mode on 127.0.0.1:``port``, its logs into ``log``; the caller
    terminates it."""
    import subprocess

    return subprocess.Popen(
        [str(bin_dir / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
         "budget_app.wsgi:app"],
        cwd=root, env={**env, "BUDGET_APP_ENV": "production"}, stderr=log,
    )

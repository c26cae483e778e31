"""A lean start (the figures are in bench/bench_start.py): creating the app loads no
password hasher, no alembic, no OpenSSL bindings and no holiday calendar; Flask-Migrate's
`db` commands are bound on first use and work."""
import json
import subprocess
import sys
from pathlib import Path

from budget_app import create_app

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("argon2", "alembic", "flask_migrate", "cryptography.fernet", "holidays", "fpdf", "pypdf")

PROBE = """
import json, sys
from budget_app import create_app
app = create_app(json.loads(sys.argv[1]))
app.test_client().get("/sante")
print(json.dumps([name for name in json.loads(sys.argv[2]) if name in sys.modules]))
"""


def test_app_creation_and_a_health_check_load_no_heavy_library(app_config):
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(app_config), json.dumps(HEAVY)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_db_commands_are_bound_on_first_use(app_config):
    fresh = create_app(app_config)
    assert "migrate" not in fresh.extensions
    with fresh.app_context():
        result = fresh.test_cli_runner().invoke(args=["db", "current"])
    assert result.exit_code == 0, result.output
    assert "migrate" in fresh.extensions
    assert "SQLiteImpl" in result.output or "PostgresqlImpl" in result.output  # alembic ran


def test_db_is_listed_among_the_commands(app_config):
    fresh = create_app(app_config)
    with fresh.app_context():
        listing = fresh.test_cli_runner().invoke(args=["--help"])
    assert " db " in listing.output and " backup " in listing.output
    assert "Perform database migrations." in listing.output


HELP_PROBE = """
import json, sys
from budget_app import create_app
app = create_app(json.loads(sys.argv[1]))
with app.app_context():
    output = app.test_cli_runner().invoke(args=["--help"]).output
print(json.dumps([" db " in output, [name for name in ("alembic", "flask_migrate") if name in sys.modules]]))
"""


def test_the_command_list_loads_no_alembic(app_config):
    """``flask --help`` lists ``db`` without importing Flask-Migrate (issue 27: the start)."""
    result = subprocess.run([sys.executable, "-c", HELP_PROBE, json.dumps(app_config)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [True, []]

"""Finding 8 of issue 13 (files, start-up, SQLite): the database file and the files the
application creates are private; the production guard runs in ``create_app`` whatever
the entry point; concurrent writes on SQLite wait instead of answering 500."""
import stat
import threading
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from budget_app import create_app
from budget_app.kernel.extensions import db
from tests.conftest import ON_POSTGRES, PASSWORD, TEST_CONFIG


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(ON_POSTGRES, reason="the SQLite file")
def test_the_sqlite_file_is_created_0600(tmp_path):
    path = tmp_path / "fresh" / "budget.sqlite3"
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        db.session.execute(db.text("CREATE TABLE t (x INTEGER)"))
        db.session.commit()
        db.engine.dispose()
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700


def test_files_and_directories_the_app_creates_are_private(app, tmp_path):
    from budget_app.kernel.uploads import store_file

    store_file(b"%PDF-1.4\n%%EOF\n", "application/pdf")
    uploads = Path(app.config["BUDGET_APP_UPLOAD_DIR"])
    for path in [uploads, *uploads.rglob("*")]:
        assert _mode(path) == (0o700 if path.is_dir() else 0o600), path
    output = tmp_path / "cli-output.csv"
    output.write_text("x")  # anything the process writes after create_app
    assert _mode(output) == 0o600


def test_production_refuses_to_start_with_demo_accounts_whatever_the_entry_point(app_config, make_user, monkeypatch):
    make_user("admin", email="demo@example.org", is_demo=True)
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    with pytest.raises(RuntimeError, match="demo"):
        create_app({**app_config, "BUDGET_APP_ENV": "production", "BUDGET_APP_SINGLE_PROCESS": True})


def test_under_the_flask_command_production_serves_nothing_until_demo_accounts_are_disabled(
        app_config, make_user, monkeypatch):
    make_user("admin", email="demo@example.org", is_demo=True)
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")
    production = create_app({**app_config, "BUDGET_APP_ENV": "production", "BUDGET_APP_SINGLE_PROCESS": True})
    client = production.test_client()
    assert client.get("/connexion").status_code == 503
    result = production.test_cli_runner().invoke(args=["users", "disable", "demo@example.org"])
    assert result.exit_code == 0, result.output
    assert client.get("/connexion").status_code == 200


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite locking")
def test_concurrent_writes_on_sqlite_wait_instead_of_failing(app, make_user):
    """Several requests that read then write at the same time (logins: session row,
    audit entry): none answers 500 "database is locked"."""
    users = [make_user(email=f"u{number}@example.org") for number in range(6)]
    emails = [user.email for user in users]
    db.session.commit()
    statuses = []

    def worker(email):
        client = FlaskClient(app, app.response_class, use_cookies=True)  # no shared test session
        for _ in range(4):
            response = client.post("/connexion", data={"email": email, "password": PASSWORD})
            statuses.append(response.status_code)
            client.post("/deconnexion")
            client.get("/")

    threads = [threading.Thread(target=worker, args=(email,)) for email in emails]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(statuses) == 24 and set(statuses) == {302}

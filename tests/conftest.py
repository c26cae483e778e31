"""Shared fixtures (flaskr style): ``app``, ``client``, ``runner``, ``make_user``, ``login``.

The suite runs on SQLite by default. ``TEST_DATABASE_URL`` switches it to PostgreSQL,
e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/budget_test``: the suite creates that
database, migrates it once, empties it between tests and drops it at the end. Under
pytest-xdist each worker has its own database (the worker's name is appended).
"""
import contextvars
import os
import shutil
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from budget_app import create_app
from budget_app.kernel.config import normalise_database_url
from budget_app.kernel import migrations
from budget_app.kernel.extensions import db, limiter
from tests.s3 import s3_endpoint  # noqa: F401 (moto's S3 server, one per session: the S3 leg)

settings.register_profile(
    "budget", deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=150
)
settings.load_profile("budget")

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
ON_POSTGRES = bool(TEST_DATABASE_URL)

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-not-for-production-0123456789abcdef",
    "WTF_CSRF_ENABLED": False,
    "RATELIMIT_STORAGE_URI": "memory://",
}


def pytest_report_header(config):
    return f"database: {'PostgreSQL ' + TEST_DATABASE_URL if ON_POSTGRES else 'SQLite (file per test)'}"


def _admin_url(url):
    return make_url(url).set(database="postgres")


def create_postgres_database(url: str) -> None:
    name = make_url(url).database
    engine = create_engine(_admin_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        # A throw-away database: no need to wait for the disk at each commit.
        connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    engine.dispose()


def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    engine = create_engine(_admin_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def migrate_to_head(database_url: str, instance_path: Path) -> None:
    from flask_migrate import upgrade

    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url})
    migrations.bind(app)
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory):
    """The schema as the migrations build it, made once per run."""
    if ON_POSTGRES:
        url = normalise_database_url(TEST_DATABASE_URL)
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        if worker:
            url = make_url(url).set(database=f"{make_url(url).database}_{worker}").render_as_string(hide_password=False)
        create_postgres_database(url)
        migrate_to_head(url, tmp_path_factory.mktemp("instance"))
        yield url
        for engine in _cleanup_engines.values():
            engine.dispose()
        drop_postgres_database(url)
    else:
        template = tmp_path_factory.mktemp("template") / "template.sqlite3"
        migrate_to_head(f"sqlite:///{template}", tmp_path_factory.mktemp("instance"))
        yield template


@pytest.fixture
def database_url(migrated_database, tmp_path):
    if ON_POSTGRES:
        yield migrated_database
        _empty_postgres(migrated_database)
    else:
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(migrated_database, path)
        yield f"sqlite:///{path}"


_EMPTY_ALL_TABLES = """
DO $$
DECLARE name text;
BEGIN
    -- Triggers off for this session only: the audit trail's append-only trigger and the
    -- foreign-key triggers (everything goes). DELETE on small tables is much faster than
    -- TRUNCATE, which rewrites every table's files.
    SET LOCAL session_replication_role = replica;
    FOR name IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version' LOOP
        EXECUTE format('DELETE FROM %I', name);
    END LOOP;
    FOR name IN SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' LOOP
        EXECUTE format('ALTER SEQUENCE %I RESTART', name);
    END LOOP;
END $$;
"""

_cleanup_engines: dict = {}


def _empty_postgres(url):
    engine = _cleanup_engines.get(url)
    if engine is None:
        engine = _cleanup_engines[url] = create_engine(url, pool_size=1)
    with engine.begin() as connection:
        connection.execute(text(_EMPTY_ALL_TABLES))


@pytest.fixture
def storage_config():
    """The storage's settings: the upload folder. Modules run over both storages import
    ``storage_config`` from tests/s3.py (the upload folder, then a bucket of moto's server)."""
    return {}


@pytest.fixture
def app_config(database_url, tmp_path, storage_config):
    return {
        **TEST_CONFIG,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "BUDGET_APP_UPLOAD_DIR": str(tmp_path / "uploads"),
        **storage_config,
    }


class IsolatedClient(FlaskClient):
    """Each request runs in its own application context, as in production: its own ``g``
    and its own database session. The test's session commits before the request (so the
    request sees the test's setup and no lock is held) and starts afresh after it."""

    def open(self, *args, **kwargs):
        db.session.commit()
        try:
            return contextvars.Context().run(super().open, *args, **kwargs)
        finally:
            db.session.rollback()


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    migrations.bind(app)  # Flask-Migrate's extension, for the tests that migrate up and down
    app.test_client_class = IsolatedClient
    limiter.reset()
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


PASSWORD = "correct horse battery staple"


@pytest.fixture
def make_user(app):
    from budget_app.accounts.services import create_user

    counter = {"n": 0}

    def make(role="finance_officer", operations=(), email=None, password=PASSWORD, **extra):
        counter["n"] += 1
        user = create_user(email or f"{role}{counter['n']}@example.org", role, password, operation_codes=operations)
        for key, value in extra.items():
            setattr(user, key, value)
        db.session.commit()
        return user

    return make


@pytest.fixture
def login():
    """Log a test client in without the login form (the form itself has its own tests):
    what a login with the password and the second factor leaves behind, a fresh server-side
    session whose vault holds the keys opened with ``password`` (a referent's private key).
    Nothing here is reachable from a request: production logins go through the form."""
    from budget_app.accounts import hooks
    from budget_app.accounts.sessions import start_session

    def do_login(client, user, password=PASSWORD):
        token = start_session(user)
        hooks.password_verified(user, password, token)
        hooks.session_started(user, token)
        db.session.commit()
        with client.session_transaction() as session:
            session["_user_id"] = str(user.id)
            session["_fresh"] = True
            session["sid"] = token
        return client

    return do_login


def current_code(user, now=None):
    """The TOTP code of ``user``'s enrolled secret, as their phone shows it now. The last
    time step used is moved back first, so that a test may log in twice within 30 s (the
    application refuses a code used before: tests of that rule call ``check_code`` twice)."""
    import time

    import pyotp

    from budget_app.accounts import second_factor

    user.totp_last_counter = None
    db.session.commit()
    return pyotp.TOTP(second_factor._secret(user)).at(now or time.time())


def enrol(user):
    """Enrols ``user``'s second factor as the enrolment page does; returns the recovery codes."""
    import pyotp

    from budget_app.accounts import second_factor

    secret = second_factor.start_enrolment(user)
    codes = second_factor.confirm_enrolment(user, pyotp.TOTP(secret).now())
    user.totp_last_counter = None
    db.session.commit()
    return codes


@pytest.fixture
def form_login():
    """Logs in through the real pages: password, then the second factor (enrolled first when
    the user has none and their role needs it), as a person does."""

    def do_login(client, user, password=PASSWORD):
        from budget_app.accounts import second_factor

        response = client.post("/connexion", data={"email": user.email, "password": password})
        if "/connexion/" not in response.headers.get("Location", ""):
            return response
        if not second_factor.enabled(user):
            enrol(user)
        return client.post("/connexion/code", data={"code": current_code(user)})

    return do_login


@pytest.fixture
def make_operation(app):
    """A bare operation (no financing plan): 2023-2024, 60 % FSE+, 500 250,00 € agreed.
    Keyword arguments override any column."""
    from datetime import date
    from decimal import Decimal

    from budget_app.accounts.assignments import assign
    from budget_app.operations.models import Operation, Organisation

    def make(code="OP-1", title="Opération de test", members=(), organisation=None, **columns):
        if organisation is None:
            organisation = db.session.scalar(db.select(Organisation).filter_by(name="Département de test"))
            organisation = organisation or Organisation(name="Département de test", kind="collectivite")
        values = {
            "start_date": date(2023, 1, 1),
            "end_date": date(2024, 12, 31),
            "fse_rate": Decimal("60"),
            "fse_amount": Decimal("500250.00"),
            "status": "running",
            **columns,
        }
        operation = Operation(code=code, title=title, organisation=organisation, **values)
        db.session.add(operation)
        db.session.flush()
        for member in members:
            assign(member.id, operation.id)
        db.session.commit()
        return operation

    return make

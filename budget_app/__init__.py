"""FSE+ grant budget and cofinancing tracker.

``create_app`` is the composition root: the only place that knows every domain. It binds
the kernel's extensions, then registers each domain's blueprint, commands and hooks, in
layer order (README, "Development"):

    reporting → claims → alerts → expenses, staff, participants → operations → accounts → kernel
"""
import gc
import logging
import os
import sqlite3
from pathlib import Path

# Importing the domains builds thousands of long-lived objects (tables, mappers, routes,
# commands): the collector's full passes over them while they are being built are pure
# start-up cost (a tenth of a second in `flask --help`). Once built they are moved out of
# the collector's sight (``gc.freeze``, once per process: they live as long as it does)
# and collection is on again.
_collecting = gc.isenabled()
gc.disable()

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from jinja2 import pass_context
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

from . import seed
from .accounts import admin_views as accounts_admin_views  # noqa: F401  (routes on accounts.bp)
from .accounts import assignments as accounts_assignments
from .accounts import second_factor_views as accounts_second_factor_views  # noqa: F401  (routes on accounts.bp)
from .accounts import cli as accounts_cli
from .accounts import views as accounts_views
from .accounts.access import add_operation_code, enforce_policy
from .accounts.navigation import nav_items_for_current_user
from .accounts.policy import limited_to_assignments, may
from .accounts.roles import ROLE_LABELS
from .accounts.services import actor_name
from .accounts.sessions import user_for_session
from .alerts import cli as alerts_cli
from .alerts import handling as alerts_handling
from .alerts import referent_keys as alerts_referent_keys
from .alerts import suspicions as alerts_suspicions
from .alerts import views as alerts_views
from .claims import cli as claims_cli
from .claims import lifecycle as claims_lifecycle
from .claims import payments as claims_payments
from .claims import views as claims_views
from .expenses import cli as expenses_cli
from .expenses import views as expenses_views
from .kernel import backup, formatting, health, memory, migrations, staging, storage, storage_cli
from .kernel.config import (
    PROJECT_ROOT,
    DefaultConfig,
    load_environment,
    load_or_create_secret_key,
    normalise_database_url,
    throttle_storage,
)
from .kernel.errors import register_error_handlers, render_error
from .kernel.extensions import babel, csrf, db, limiter, login_manager
from .kernel.i18n import current_locale, translate_label
from .kernel.integers import IdConverter
from .kernel.log import OneLineFormatter
from .kernel.proxies import TrustedProxyFix, proxy_count, trusted_networks
from .kernel.tabular import PROBLEMS_SHOWN
from .kernel.text import nul_in_query
from .kernel.transactions import commit_request
from .marks import hooks as marks_hooks
from .operations import cli as operations_cli
from .operations import hooks as operations_hooks
from .operations import services as operations_services
from .operations import envelope_views as operations_envelope_views  # noqa: F401  (routes on operations.bp)
from .operations import views as operations_views
from .participants import cli as participants_cli
from .participants import import_views as participants_import_views  # noqa: F401  (routes on participants.bp)
from .participants import retention as participants_retention
from .participants import views as participants_views
from .reminders import cli as reminders_cli
from .reminders import views as reminders_views
from .reporting import cli as reporting_cli
from .reporting import views as reporting_views
# Every write that may change the operations table's kept figures bumps them (issue 27).
from .reporting import figure_watch  # noqa: F401,E402
from .staff import cli as staff_cli
from .units import cli as units_cli
from .units import retention as units_retention
from .units import views as units_views
from .staff import views as staff_views
from .expenses import hooks as expenses_hooks
from .expenses import operation_documents_cli as expenses_operation_documents_cli
from .expenses.views import operation_documents as expenses_operation_document_views
from .staff import evidence_views as staff_evidence_views  # noqa: F401  (routes on staff.bp)
from .staff import template_views as staff_template_views  # noqa: F401  (routes on staff.bp)

gc.freeze()
if _collecting:
    gc.enable()

MIGRATIONS_DIR = migrations.MIGRATIONS_DIR

# Every domain, from the top layer down: its blueprint, and its commands where it has
# some. Importing them registers their models and menu entries (hooks: ``HOOKS``).
BLUEPRINTS = (
    reporting_views.bp, reminders_views.bp, claims_views.bp, alerts_views.bp, expenses_views.bp, staff_views.bp,
    units_views.bp, participants_views.bp, operations_views.bp, accounts_views.bp,
)
COMMANDS = (
    *reminders_cli.COMMANDS, *claims_cli.COMMANDS, *alerts_cli.COMMANDS, *expenses_cli.COMMANDS, *staff_cli.COMMANDS,
    *participants_cli.COMMANDS, *units_cli.COMMANDS, *reporting_cli.COMMANDS,
    *operations_cli.COMMANDS, *accounts_cli.COMMANDS, *backup.COMMANDS, *storage_cli.COMMANDS, seed.seed_command,
    staging.imports_command,
)

# Where a lower layer must let a higher one answer (``kernel.hooks``): each hook and its
# answer, wired here and nowhere else. An unwired hook gives its closed answer; a second,
# different answer is refused. What every domain reads of a cost line (declared, held) is
# data, not a hook: ``marks``.
HOOKS = (
    (marks_hooks.bilan_numbers, claims_lifecycle.bilan_numbers),
    (marks_hooks.bilan_state, claims_lifecycle.bilan_state),
    (marks_hooks.held_reasons_for_referent, alerts_suspicions.suspicion_badges),
    (operations_hooks.final_payment_date, claims_payments.final_payment),
    (operations_hooks.retention_extended, alerts_handling.procedure_under_way),
    (operations_hooks.personal_data_left, participants_retention.participants_left),
    (operations_hooks.erase_personal_data, participants_retention.erase_participants),
    (accounts_assignments.operation_by_code, operations_services.find_operation),
    (accounts_assignments.all_operation_codes, operations_services.every_operation_code),
    (accounts_assignments.operation_codes, operations_services.codes_of_operations),
    # Keys per referent follow logins, password changes and resets; referents are told of
    # admin and referent accounts.
    *alerts_referent_keys.ACCOUNT_HOOKS,
    # Staff evidence is purged with the supporting documents when retention ends (CPR 82).
    # The units' evidence too (units.retention answers with both).
    (expenses_hooks.other_documents, units_retention.documents_for_purge),
    # The operation page's documents (agreement, amendments, publicity, procurement files).
    (operations_hooks.documents_panel, expenses_operation_document_views.documents_panel),
)

# Command groups that one domain adds under another's (``operations documents``: the
# expenses domain knows the expenses a procurement file covers).
SUBCOMMANDS = (
    (operations_cli.operations_cli, expenses_operation_documents_cli.documents_cli),
)


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    _configure(app, config)
    _configure_logging(app)
    _bind_extensions(app)
    _register_domains(app)
    _register_request_hooks(app)
    _register_templates(app)
    register_error_handlers(app)
    _guard_production(app)
    return app


def _guard_production(app: Flask) -> None:
    """Production mode refuses to serve while a demo account is active, whatever the entry
    point. A WSGI server (``wsgi.py``, or any ``create_app()`` outside the ``flask``
    command) does not start; under the ``flask`` command the admin commands still run (to
    disable the demo accounts) and ``flask run`` answers 503 to every request meanwhile."""
    if app.config["BUDGET_APP_ENV"] != "production":
        return
    if os.environ.get("FLASK_RUN_FROM_CLI") != "true":
        seed.assert_ready_for_production(app)
        return
    state = {"ready": False}

    @app.before_request
    def refuse_while_demo_accounts_are_active():
        if state["ready"]:
            return None
        try:
            seed.assert_ready_for_production(app)
        except RuntimeError as error:
            app.logger.error("event=production_guard %s", error)
            return render_error(503, _l("Service indisponible : des comptes de démonstration sont actifs."))
        state["ready"] = True
        return None


def _configure(app: Flask, config: dict | None) -> None:
    app.config.from_object(DefaultConfig)
    # Every <int:...> in a URL: ASCII digits, 1 to 2^31 - 1, else 404 (kernel.integers).
    app.url_map.converters["int"] = IdConverter
    app.config.from_pyfile("config.py", silent=True)
    load_environment(app.config)
    if config:
        app.config.update(config)
    # Files the application creates are 0600 and directories 0700 (database, uploads,
    # staging, keys, command outputs).
    os.umask(0o077)
    Path(app.instance_path).mkdir(mode=0o700, parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_or_create_secret_key(app.instance_path)
    uri = app.config.get("SQLALCHEMY_DATABASE_URI") or f"sqlite:///{Path(app.instance_path) / 'budget.sqlite3'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(uri)
    if uri.startswith("sqlite"):
        _create_private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("connect_args", {"timeout": 20})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    app.config["RATELIMIT_STORAGE_URI"] = throttle_storage(app.config)
    if not app.config.get("BUDGET_APP_UPLOAD_DIR"):
        app.config["BUDGET_APP_UPLOAD_DIR"] = str(Path(app.instance_path) / "uploads")
    storage.check_settings(app.config)
    if app.config["BUDGET_APP_ENV"] == "production":
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["DEBUG"] = False
    proxies = proxy_count(os.environ.get("BUDGET_APP_PROXY_COUNT", app.config.get("PROXY_COUNT", 0)) or 0)
    if proxies:
        networks = trusted_networks(os.environ.get("BUDGET_APP_TRUSTED_PROXIES", app.config.get("TRUSTED_PROXIES")))
        app.wsgi_app = TrustedProxyFix(app.wsgi_app, proxies, networks)


def _create_private_sqlite_file(uri: str) -> None:
    """The SQLite file is created 0600 (its -wal and -shm files take its mode)."""
    database = make_url(uri).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


def _configure_logging(app: Flask) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(OneLineFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("budget_app")
    if not any(isinstance(h.formatter, OneLineFormatter) for h in logger.handlers):
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    # Werkzeug's access log prints client addresses; the whistleblowing channel must not leave any.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    if isinstance(dbapi_connection, sqlite3.Connection):
        # Let SQLAlchemy emit BEGIN itself (the documented pysqlite recipe), so that
        # transactions and savepoints behave as on PostgreSQL.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=20000")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection):
    if connection.dialect.name == "sqlite":
        # A request's transaction (one per request, short) is IMMEDIATE: it takes the write
        # lock at its start, waiting up to busy_timeout for another writer; a deferred one
        # that reads then writes fails at once with "database is locked" (WAL cannot
        # upgrade a stale read snapshot). Elsewhere (commands, tests) BEGIN is deferred.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if has_request_context() else "BEGIN")


def _bind_extensions(app: Flask) -> None:
    db.init_app(app)
    # Flask-Migrate's `db` commands are bound on first use (kernel/migrations.py).
    commands = migrations.AppCommands()
    commands.name = app.name
    app.cli = commands
    csrf.init_app(app)
    limiter.init_app(app)
    # One catalogue per package (budget_app/<package>/translations) and the root one.
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", ";".join(str(path) for path in translation_directories()))
    babel.init_app(app, locale_selector=select_locale, default_locale="fr", default_timezone="Europe/Paris")
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    login_manager.session_protection = None  # the server-side session record is the protection


def translation_directories() -> list[Path]:
    package = Path(__file__).resolve().parent
    return [package / "translations", *sorted(path for path in package.glob("*/translations") if path.is_dir())]


def select_locale() -> str:
    if not has_request_context():  # CLI commands speak the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated:
        return current_user.locale
    language = session.get("lang")
    if language in current_app.config["LANGUAGES"]:
        return language
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _register_domains(app: Flask) -> None:
    for hook, answer in HOOKS:
        hook.register(answer)
    app.add_url_rule("/sante", "health", health.health, methods=["GET"])
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    for group, command in SUBCOMMANDS:
        group.add_command(command)
    for command in COMMANDS:
        app.cli.add_command(command)
    login_manager.user_loader(lambda user_id: user_for_session(user_id, session.get("sid")))


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


def _register_request_hooks(app: Flask) -> None:
    memory.init_app(app)  # a large request's freed memory given back (issue 27)

    @app.before_request
    def refuse_nul_in_query():
        if nul_in_query(request.args):
            return render_error(400)
        return None

    app.before_request(enforce_policy)
    app.url_defaults(add_operation_code)
    # One commit per request unless an exception escaped (then its handler rolled back).
    app.after_request(commit_request)

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "same-origin"  # not no-referrer: CSRF checks need it over HTTPS
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
        if app.config["BUDGET_APP_ENV"] == "production":
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if request.endpoint != "static":
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        return response


def _register_templates(app: Flask) -> None:
    # The reader's language as the page's context holds it (``current_locale``, read once per
    # page below): a list prints hundreds of amounts. None (a macro imported without the
    # context): the formatting functions read it themselves.
    filters = app.jinja_env.filters
    filters["money"] = pass_context(lambda context, value: formatting.format_money(value, context.get("current_locale")))
    filters["number"] = pass_context(
        lambda context, value, places=2: formatting.format_number(value, context.get("current_locale"), places))
    filters["percent"] = pass_context(
        lambda context, value, places=2: formatting.format_percent(value, context.get("current_locale"), places))
    filters["hours"] = pass_context(lambda context, value: formatting.format_hours(value, context.get("current_locale")))
    filters["day"] = pass_context(lambda context, value: formatting.format_day(value, context.get("current_locale")))
    filters["month"] = pass_context(lambda context, value: formatting.format_month(value, context.get("current_locale")))
    filters["moment"] = pass_context(lambda context, value: formatting.format_moment(value, context.get("current_locale")))
    filters["filesize"] = pass_context(lambda context, value: formatting.format_size(value, context.get("current_locale")))

    @app.context_processor
    def template_globals():
        return {
            "current_locale": current_locale(),
            "role_label": lambda role: translate_label(ROLE_LABELS, role),
            "actor_name": actor_name,
            "current_operation": g.get("operation"),
            "nav_items": nav_items_for_current_user,
            "may": may,
            "limited_to_assignments": limited_to_assignments,
            "problems_shown": PROBLEMS_SHOWN,
        }

"""FSE+ grant budget and cofinancing tracker."""
import logging
import os
import sqlite3
from pathlib import Path

from flask import Flask, g, request, session
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import PROJECT_ROOT, DefaultConfig, load_environment, load_or_create_secret_key, normalise_database_url
from .extensions import babel, csrf, db, limiter, login_manager, migrate

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    _configure(app, config)
    _configure_logging(app)
    _bind_extensions(app)
    _register_blueprints(app)
    _register_request_hooks(app)
    _register_templates(app)

    from .errors import register_error_handlers

    register_error_handlers(app)

    from .cli import register_cli

    register_cli(app)
    return app


def _configure(app: Flask, config: dict | None) -> None:
    app.config.from_object(DefaultConfig)
    app.config.from_pyfile("config.py", silent=True)
    load_environment(app.config)
    if config:
        app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_or_create_secret_key(app.instance_path)
    uri = app.config.get("SQLALCHEMY_DATABASE_URI") or f"sqlite:///{Path(app.instance_path) / 'budget.sqlite3'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(uri)
    if uri.startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("connect_args", {"timeout": 20})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if not app.config.get("BUDGET_APP_UPLOAD_DIR"):
        app.config["BUDGET_APP_UPLOAD_DIR"] = str(Path(app.instance_path) / "uploads")
    if app.config["BUDGET_APP_ENV"] == "production":
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["DEBUG"] = False
    proxies = int(os.environ.get("BUDGET_APP_PROXY_COUNT", app.config.get("PROXY_COUNT", 0)) or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)


class _OneLineFormatter(logging.Formatter):
    """Escapes CR/LF so that user input cannot forge log lines (ASVS 7.3.1)."""

    def format(self, record):
        text = super().format(record)
        return text.replace("\r", "\\r").replace("\n", "\\n")


def _configure_logging(app: Flask) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_OneLineFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("budget_app")
    if not any(isinstance(h.formatter, _OneLineFormatter) for h in logger.handlers):
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
        connection.exec_driver_sql("BEGIN")


def _bind_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    # The foundation's catalogue plus one per domain (budget_app/<domain>/translations).
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", ";".join(str(path) for path in translation_directories()))
    babel.init_app(app, locale_selector=select_locale, default_locale="fr", default_timezone="Europe/Paris")

    from . import models  # noqa: F401  (every model registered on the metadata)

    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    login_manager.session_protection = None  # the server-side session record is the protection
    login_manager.user_loader(_load_user)


def translation_directories() -> list[Path]:
    package = Path(__file__).resolve().parent
    return [package / "translations", *sorted(path for path in package.glob("*/translations") if path.is_dir())]


def _load_user(user_id: str):
    from .accounts.services import user_for_session

    return user_for_session(user_id, session.get("sid"))


def select_locale() -> str:
    from flask import current_app, has_request_context

    if not has_request_context():  # CLI commands speak the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated:
        return current_user.locale
    language = session.get("lang")
    if language in current_app.config["LANGUAGES"]:
        return language
    return current_app.config["BABEL_DEFAULT_LOCALE"]


# One blueprint per domain (``budget_app/<domain>/views.py`` defines ``bp``).
DOMAINS = ("accounts", "audit", "main", "operations", "expenses", "staff", "claims", "alerts")


def _register_blueprints(app: Flask) -> None:
    from importlib import import_module

    for domain in DOMAINS:
        app.register_blueprint(import_module(f"{__name__}.{domain}.views").bp)


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
    from .access import add_operation_code, enforce_policy

    app.before_request(enforce_policy)
    app.url_defaults(add_operation_code)

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
    from flask_babel import format_datetime, get_locale

    from . import money
    from .accounts.roles import ROLE_LABELS

    def locale() -> str:
        return str(get_locale() or "fr")

    app.jinja_env.filters["money"] = lambda value: money.format_money(value, locale())
    app.jinja_env.filters["number"] = lambda value, places=2: money.format_number(value, locale(), places)
    app.jinja_env.filters["percent"] = lambda value, places=2: money.format_percent(value, locale(), places)
    app.jinja_env.filters["day"] = lambda value: money.format_day(value, locale())
    app.jinja_env.filters["moment"] = lambda value: (
        format_datetime(value, "dd/MM/yyyy HH:mm:ss" if locale() == "fr" else "yyyy-MM-dd HH:mm:ss") if value else ""
    )

    from .navigation import nav_items_for_current_user

    @app.context_processor
    def template_globals():
        from flask_babel import gettext

        return {
            "current_locale": locale(),
            "role_label": lambda role: gettext(ROLE_LABELS.get(role, role)),
            "current_operation": g.get("operation"),
            "nav_items": nav_items_for_current_user,
        }

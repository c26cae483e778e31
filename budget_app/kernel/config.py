"""Every setting of the application, with its default (README, "Configuration").

Layers: defaults here, then ``instance/config.py``, then the environment, then the
``config`` mapping given to ``create_app`` (tests). Code reads ``current_app.config[NAME]``.
"""
import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class DefaultConfig:
    BUDGET_APP_ENV = "development"
    SQLALCHEMY_DATABASE_URI = None  # set from the instance folder in create_app
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # Whole-request ceiling; supporting documents have their own limit below it.
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024
    UPLOAD_MAX_BYTES = 10 * 1024 * 1024
    BUDGET_APP_UPLOAD_DIR = None  # instance/uploads by default
    # Where files are kept (kernel/storage.py): "local" (the upload folder) or "s3" (a bucket of
    # an S3-compatible service; credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
    STORAGE = "local"
    # A worker gives back the memory freed by a request once it has grown by this many MB
    # since the last time (kernel/memory.py; 0: never).
    MEMORY_TRIM_STEP_MB = 4
    S3_ENDPOINT_URL = None  # e.g. https://s3.fr-par.scw.cloud; None: AWS
    S3_BUCKET = None
    S3_REGION = None
    S3_PREFIX = ""  # keys under this folder of the bucket
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_COOKIE_NAME = "budget_session"
    # Server-side session limits (ASVS 3.3.2): idle and absolute lifetime.
    SESSION_IDLE_MINUTES = 30
    SESSION_MAX_HOURS = 12
    WTF_CSRF_TIME_LIMIT = 3600
    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "Europe/Paris"
    LANGUAGES = ("fr", "en")
    # Throttle counters (Flask-Limiter). None: REDIS_URL when set, else memory:// (one process
    # only: production mode refuses it unless BUDGET_APP_SINGLE_PROCESS=1).
    RATELIMIT_STORAGE_URI = None
    REDIS_URL = None
    BUDGET_APP_SINGLE_PROCESS = False
    RATELIMIT_HEADERS_ENABLED = False
    # Reverse proxies in front of gunicorn (BUDGET_APP_PROXY_COUNT) and the addresses they
    # connect from (BUDGET_APP_TRUSTED_PROXIES): X-Forwarded-For is read only from those.
    PROXY_COUNT = 0
    TRUSTED_PROXIES = "127.0.0.0/8, ::1"
    # Login throttling: failures per window, counted per (address, account) and per address,
    # never per account alone (nobody can lock the rightful user out). Past a limit the answer
    # is 429 with Retry-After at once: no request waits inside a worker.
    LOGIN_FAILURES_PER_ADDRESS_AND_ACCOUNT = "5 per 15 minutes"
    LOGIN_FAILURES_PER_ADDRESS = "20 per 15 minutes"
    # Password checks (argon2, a few tenths of a second on several processors each) running at
    # once on one host, across its workers; more are answered 429 at once. None: half the
    # host's processors (at least one). Each slot then rests so that checks hold it at most
    # PASSWORD_CHECKS_SHARE of the time: failing logins never take the processors from the
    # other requests (issue 21, point 4).
    PASSWORD_CHECKS_AT_ONCE = None
    PASSWORD_CHECKS_SHARE = 0.5
    # Wrong current passwords on the password-change form, per (address, account).
    PASSWORD_CHANGE_FAILURES = "5 per 15 minutes"
    # Second factor: wrong codes per pending login (then the password again), and how long a
    # password + code typed again counts as « fresh » for sensitive actions (ASVS 3.7.1).
    SECOND_FACTOR_FAILURES = "5 per 5 minutes"
    FRESH_AUTH_MINUTES = 5
    PASSWORD_MIN_LENGTH = 12
    PASSWORD_MAX_LENGTH = 128
    AUDIT_PAGE_SIZE = 50
    # Pace warning on the operation dashboard: consumption trailing elapsed time by more than
    # this many percentage points.
    PACE_WARNING_MARGIN_PERCENT = 15
    # Argon2id cost (RFC 9106 second recommended option); tests lower it (TESTING).
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST_KIB = 65536
    ARGON2_PARALLELISM = 4

    # ---- alerts (confidential channel)
    # The public form and the reporter's answer keep a valid CSRF token this long (seconds).
    ALERT_FORM_CSRF_TIME_LIMIT = 24 * 3600
    # Public form throttling, counted on a keyed hash of the address (never stored).
    ALERT_REPORTS_PER_ADDRESS = "5 per hour"
    ALERT_REPORTS_TOTAL = "60 per hour"
    # Wrong follow-up secrets: refused per address (keyed hash), never per reference (anyone
    # who sees a reference could lock its reporter out).
    ALERT_SECRET_FAILURES_PER_ADDRESS = "10 per 15 minutes"
    # A reporter's follow-up session (kept on the server) ends after this idle time, and
    # at the latest this long after the login (minutes).
    ALERT_FOLLOW_UP_IDLE_MINUTES = 30
    ALERT_FOLLOW_UP_MAX_MINUTES = 120
    # Personal data of a closed alert is purged this many days after closure (CNIL,
    # référentiel "alertes professionnelles" 2019: two months after closure without follow-up).
    ALERT_RETENTION_DAYS = 60
    # Who runs the confidential channel, named on the public form (e.g. "Conseil départemental
    # de la Haute-Loire, service du Fonds social européen"); empty: a generic wording.
    ALERT_CHANNEL_ORGANISATION = ""
    # Where people exercise their data-protection rights (the organisation's DPO), on the form.
    ALERT_PRIVACY_CONTACT = ""
    # Where the alert encryption key is read when BUDGET_APP_ALERT_KEY is not set
    # (default: instance/alert_key, created 0600 on first use).
    ALERT_KEY_FILE = None
    # E-mail reminders (`flask reminders send`, README « Rappels »): the organisation's SMTP
    # relay. Without MAIL_SERVER only --dry-run works. Links in mails start with BASE_URL.
    MAIL_SERVER = ""
    MAIL_PORT = 25
    MAIL_USE_TLS = False  # STARTTLS on MAIL_PORT
    MAIL_USE_SSL = False  # TLS from the start (port 465)
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_DEFAULT_SENDER = "suivi-fse@localhost"
    MAIL_TIMEOUT_SECONDS = 30
    MAIL_CONNECTIONS = 4  # SMTP connections a run uses at once, each kept open for the run
    BUDGET_APP_BASE_URL = "http://127.0.0.1:5000"

    # ---- participants (participants §5)
    # AES-256 key of participants' identities (URL-safe base64 of 32 bytes); unset: read from
    # PARTICIPANT_KEY_FILE (default instance/participant_key, created 0600 on first use).
    PARTICIPANT_KEY = None
    PARTICIPANT_KEY_FILE = None


# Environment variables read on top of defaults and instance/config.py.
ENVIRONMENT_KEYS = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "SECRET_KEY": "SECRET_KEY",
    "BUDGET_APP_UPLOAD_DIR": "BUDGET_APP_UPLOAD_DIR",
    "BUDGET_APP_ENV": "BUDGET_APP_ENV",
    "BUDGET_APP_STORAGE": "STORAGE",
    "BUDGET_APP_S3_ENDPOINT_URL": "S3_ENDPOINT_URL",
    "BUDGET_APP_S3_BUCKET": "S3_BUCKET",
    "BUDGET_APP_S3_REGION": "S3_REGION",
    "BUDGET_APP_S3_PREFIX": "S3_PREFIX",
    "RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI",
    "REDIS_URL": "REDIS_URL",
    "RATELIMIT_KEY_PREFIX": "RATELIMIT_KEY_PREFIX",
    "BUDGET_APP_ALERT_KEY": "ALERT_KEY",
    "BUDGET_APP_PARTICIPANT_KEY": "PARTICIPANT_KEY",
    "BUDGET_APP_ALERT_ORGANISATION": "ALERT_CHANNEL_ORGANISATION",
    "BUDGET_APP_ALERT_PRIVACY_CONTACT": "ALERT_PRIVACY_CONTACT",
    "MAIL_SERVER": "MAIL_SERVER",
    "MAIL_USERNAME": "MAIL_USERNAME",
    "MAIL_PASSWORD": "MAIL_PASSWORD",
    "MAIL_DEFAULT_SENDER": "MAIL_DEFAULT_SENDER",
    "BUDGET_APP_BASE_URL": "BUDGET_APP_BASE_URL",
}
BOOLEAN_ENVIRONMENT_KEYS = {"MAIL_USE_TLS": "MAIL_USE_TLS", "MAIL_USE_SSL": "MAIL_USE_SSL"}
INTEGER_ENVIRONMENT_KEYS = {
    "MAX_CONTENT_LENGTH": "MAX_CONTENT_LENGTH",
    "BUDGET_APP_UPLOAD_MAX_BYTES": "UPLOAD_MAX_BYTES",
    "BUDGET_APP_SESSION_IDLE_MINUTES": "SESSION_IDLE_MINUTES",
    "BUDGET_APP_SESSION_MAX_HOURS": "SESSION_MAX_HOURS",
    "BUDGET_APP_PASSWORD_CHECKS_AT_ONCE": "PASSWORD_CHECKS_AT_ONCE",
    "MAIL_PORT": "MAIL_PORT",
    "MAIL_CONNECTIONS": "MAIL_CONNECTIONS",
    "BUDGET_APP_MEMORY_TRIM_STEP_MB": "MEMORY_TRIM_STEP_MB",
}


def load_environment(config: dict, environ=os.environ) -> None:
    for name, key in ENVIRONMENT_KEYS.items():
        if environ.get(name):
            config[key] = environ[name]
    if environ.get("BUDGET_APP_SINGLE_PROCESS"):
        config["BUDGET_APP_SINGLE_PROCESS"] = environ["BUDGET_APP_SINGLE_PROCESS"].strip().lower() in ("1", "true", "yes")
    for name, key in BOOLEAN_ENVIRONMENT_KEYS.items():
        if environ.get(name):
            config[key] = environ[name].strip().lower() in ("1", "true", "yes")
    for name, key in INTEGER_ENVIRONMENT_KEYS.items():
        if environ.get(name):
            try:
                config[key] = int(environ[name])
            except ValueError as exc:
                raise RuntimeError(f"{name} must be a whole number, got {environ[name]!r}") from exc


def load_or_create_secret_key(instance_path: str) -> str:
    """No default key in code: generate one on first start, readable by the owner only."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        key = path.read_text(encoding="ascii").strip()
        if len(key) >= 32:
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    os.chmod(path, 0o600)
    return key


def normalise_database_url(url: str) -> str:
    # psycopg 3 is the PostgreSQL driver; accept the common short spellings.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def throttle_storage(config: dict) -> str:
    """Where throttle counters live: RATELIMIT_STORAGE_URI, else REDIS_URL, else memory://.
    Production mode refuses memory:// (each worker would count on its own) unless the
    deployment says it runs one single process (BUDGET_APP_SINGLE_PROCESS=1)."""
    uri = config.get("RATELIMIT_STORAGE_URI") or config.get("REDIS_URL") or "memory://"
    if (
        config.get("BUDGET_APP_ENV") == "production"
        and uri.startswith("memory://")
        and not config.get("BUDGET_APP_SINGLE_PROCESS")
    ):
        raise RuntimeError(
            "Production mode refuses memory:// throttle storage: set REDIS_URL (or RATELIMIT_STORAGE_URI) "
            "to redis://..., or BUDGET_APP_SINGLE_PROCESS=1 if the application runs as one single process."
        )
    return uri

"""Settings of the alerts domain, with their defaults (override them in ``instance/config.py``)."""
from flask import current_app

DEFAULTS = {
    # The public form and the reporter's answer keep a valid CSRF token this long (seconds).
    "ALERT_FORM_CSRF_TIME_LIMIT": 24 * 3600,
    # Public form throttling, counted in memory on a keyed hash of the address (never stored).
    "ALERT_REPORTS_PER_ADDRESS": "5 per hour",
    "ALERT_REPORTS_TOTAL": "60 per hour",
    # Wrong follow-up secrets: per address and per reference.
    "ALERT_SECRET_FAILURES_PER_ADDRESS": "10 per 15 minutes",
    "ALERT_SECRET_FAILURES_PER_REFERENCE": "5 per 15 minutes",
    # A reporter's follow-up session ends after this idle time (minutes).
    "ALERT_FOLLOW_UP_IDLE_MINUTES": 30,
    # Personal data of a closed alert is purged this many days after closure (CNIL,
    # référentiel "alertes professionnelles" 2019: two months after closure without follow-up).
    "ALERT_RETENTION_DAYS": 60,
}


def setting(name: str):
    return current_app.config.get(name, DEFAULTS[name])

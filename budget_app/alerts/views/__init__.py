"""Fraud and conflict-of-interest alerts: the public channel (``public``) and the
anti-fraud referent's pages (``referent``)."""
from flask import Blueprint, g, request
from flask_babel import lazy_gettext as _l

from ...accounts.navigation import register_nav
from ...kernel.extensions import login_manager
from ...kernel.i18n import translate_label
from ..models import KIND_LABELS, RECIPIENT_LABELS, STATE_LABELS

bp = Blueprint("alerts", __name__)

register_nav("alerts.dashboard", _l("Signalements"), 70)
register_nav("alerts.access_log", _l("Accès aux signalements"), 85)


# The public channel's pages: whoever is logged in in the browser is ignored there.
PUBLIC_ENDPOINTS = frozenset({"alerts.report", "alerts.follow_up", "alerts.reply", "alerts.end_follow_up"})


@bp.before_app_request
def public_channel_is_anonymous():
    """Runs before the access check: on the public channel the logged-in account is never
    loaded (pages show no account, records say "public"); the staff session itself is left
    as it is, for the other pages."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        g.alerts_public_channel = True
        g._login_user = login_manager.anonymous_user()


@bp.app_context_processor
def alert_labels():
    return {
        "alert_kind_label": lambda kind: translate_label(KIND_LABELS, kind),
        "alert_state_label": lambda state: translate_label(STATE_LABELS, state),
        "alert_recipient_label": lambda r: translate_label(RECIPIENT_LABELS, r) if r else "",
    }


from . import access_rights, public, referent  # noqa: E402,F401  (their routes are on ``bp``)

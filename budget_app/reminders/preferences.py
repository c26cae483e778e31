"""Which kinds of reminder a person receives by mail: every kind they may act on, on by
default; legal deadlines (alerts, loi 2022-401; the final bilan, primer §8) cannot be
turned off. The « À faire » page and the calendar always list everything."""
from sqlalchemy import delete

from ..accounts.policy import may
from ..kernel.extensions import db
from .items import KINDS, LEGAL_KINDS
from .models import ReminderOptOut

# Who can receive each kind: the endpoint where it is done (accounts.policy decides).
KIND_ENDPOINTS = {
    "alert_acknowledgment": ("alerts.dashboard", "GET"),
    "alert_feedback": ("alerts.dashboard", "GET"),
    "final_bilan": ("claims.create", "POST"),
    "interim_bilan": ("claims.create", "POST"),
    "timesheet_approval": ("staff.approve_timesheets", "POST"),
    "bilan_check": ("claims.decide", "POST"),
    "daci": ("claims.decide", "POST"),
    "amendment": ("operations.decide_amendment", "POST"),
    "setup_link": ("accounts.setup_link", "POST"),
    "retention": ("accounts.users", "POST"),
    "participant_record": ("participants.new", "POST"),
}


def kinds_for(user) -> list[str]:
    found = [kind for kind, (endpoint, method) in KIND_ENDPOINTS.items() if may(endpoint, method, user=user)]
    if "daci" not in found and may("claims.daci_new", "POST", user=user):
        found.append("daci")
    return found


def choices_for(user) -> list[dict]:
    off = {row.kind for row in db.session.query(ReminderOptOut).filter_by(user_id=user.id)}
    return [{"kind": kind, "label": KINDS[kind], "legal": kind in LEGAL_KINDS, "on": kind not in off}
            for kind in kinds_for(user)]


def save_preferences(user, kept_on) -> None:
    """``kept_on``: the boxes left checked; every other kind the person may turn off is
    turned off. Unknown kinds are ignored, and legal ones are always mailed."""
    allowed = set(kinds_for(user)) - LEGAL_KINDS
    chosen = allowed - set(kept_on)
    db.session.execute(delete(ReminderOptOut).where(ReminderOptOut.user_id == user.id))
    db.session.add_all(ReminderOptOut(user_id=user.id, kind=kind) for kind in sorted(chosen))
    db.session.flush()

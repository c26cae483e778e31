"""What waits for a person (« À faire »): one list per person, built from the rules the
pages already apply (alerts' legal deadlines, the bilans' rules of primer §8, timesheets
waiting for a second finance officer, submitted bilans waiting for their check, DACI,
amendments, set-up links, retention), and only what the person may act on (the access
policy decides, ``accounts.policy.may``).

Each item has a stable key (its kind and the record it is about) used for the reminders'
idempotence, a due date, and where it is done. An alert's item names no alert, no
reference, no operation and no person: it is for the referents only, and it says only that
a report waits for an acknowledgment or an answer (loi 2022-401).
"""
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from ..accounts.models import User
from ..accounts.policy import may
from ..alerts.deadlines import acknowledgment_due, local_day
from ..alerts.models import CLOSED_STATES, RECEIVED, Alert
from ..claims.bilans import bilan_label, bilan_rule, bilans_of, final_deadline
from ..claims.daci import controller_may_check, missing_declarations
from ..claims.models import Claim
from ..expenses.purge import ended_operations
from ..kernel.dates import add_months
from ..kernel.extensions import db
from ..kernel.formatting import format_day, format_month
from ..kernel.i18n import N_, translate
from ..operations.models import AmendmentRequest, Operation
from ..operations.services import visible_operations_query
from ..staff.models import StaffAssignment, Timesheet

# Kinds of item, with the label a person reads in the preferences. Legal deadlines (loi
# 2022-401 for alerts, primer §8 for the final bilan) cannot be turned off.
KINDS = {
    "alert_acknowledgment": N_("Accusé de réception d'un signalement (7 jours ouvrés, loi 2022-401)"),
    "alert_feedback": N_("Retour à l'auteur d'un signalement (3 mois, loi 2022-401)"),
    "final_bilan": N_("Bilan final (6 mois après la fin de l'opération)"),
    "interim_bilan": N_("Bilan intermédiaire exigé par la durée de l'opération"),
    "timesheet_approval": N_("Feuilles de temps à approuver"),
    "bilan_check": N_("Bilans déposés à contrôler"),
    "daci": N_("Déclarations d'absence de conflit d'intérêts (DACI) manquantes"),
    "amendment": N_("Avenants à décider"),
    "setup_link": N_("Liens de création de compte non utilisés"),
    "retention": N_("Conservation terminée : pièces à purger"),
}
LEGAL_KINDS = frozenset({"alert_acknowledgment", "alert_feedback", "final_bilan"})
ALERT_KINDS = frozenset({"alert_acknowledgment", "alert_feedback"})

# Product's rules where no text fixes a date (README, « À faire »):
CHECK_DAYS = 80  # CPR art. 74(1)(b): the beneficiary is paid within 80 days of the claim
AMENDMENT_DAYS = 30  # an amendment request is decided within a month
INTERIM_NOTICE_DAYS = 30  # a required interim bilan is listed a month before halfway


@dataclass(frozen=True)
class Item:
    kind: str
    key: str  # stable identity: kind and record (never shown)
    due: date
    text: str  # N_ message, translated when shown
    values: dict = field(default_factory=dict, hash=False, compare=False)
    endpoint: str = "reminders.todo"
    url_values: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def legal(self) -> bool:
        return self.kind in LEGAL_KINDS


def items_for(user: User, today: date) -> list[Item]:
    """Everything waiting for ``user``, overdue first, then by due date."""
    if user is None or not user.active:
        return []
    found = []
    for collect in COLLECTORS:
        found.extend(collect(user, today))
    return sorted(found, key=lambda item: (item.due >= today, item.due, item.key))


def _alerts(user, today):
    # Only the referents: the alert pages answer 404 to everyone else (accounts.policy).
    if not may("alerts.dashboard", "GET", user=user):
        return []
    open_alerts = db.session.scalars(select(Alert).where(Alert.state.not_in(CLOSED_STATES))).all()
    items = []
    for alert in open_alerts:
        if alert.state == RECEIVED:
            items.append(Item("alert_acknowledgment", f"alert-ack:{alert.id}",
                              acknowledgment_due(local_day(alert.received_at)),
                              N_("Un signalement attend votre accusé de réception avant le %(due)s"),
                              endpoint="alerts.dashboard"))
        if alert.feedback_on is None:
            items.append(Item("alert_feedback", f"alert-feedback:{alert.id}", alert.feedback_due,
                              N_("Un signalement attend votre retour à son auteur avant le %(due)s"),
                              endpoint="alerts.dashboard"))
    return items


def _operations(user):
    return db.session.scalars(visible_operations_query(user)).all()


def _bilans_due(user, today):
    """Finance officers: the final bilan (primer §8, legal) and a required interim one."""
    if not may("claims.create", "POST", user=user):
        return []
    items = []
    for operation in _operations(user):
        if not may("claims.create", "POST", operation=operation, user=user):
            continue
        existing = bilans_of(operation)
        final = next((claim for claim in existing if claim.kind == "final"), None)
        if (final is None or final.state == "draft") and today >= operation.end_date:
            items.append(Item("final_bilan", f"final-bilan:{operation.id}", final_deadline(operation),
                              N_("Déposer le bilan final de %(code)s"), {"code": operation.code},
                              "claims.index", {"operation_code": operation.code}))
        rule = bilan_rule(operation)
        submitted = sum(1 for claim in existing if claim.kind == "interim" and claim.state != "draft")
        halfway = operation.start_date + (operation.end_date - operation.start_date) / 2
        if (final is None and submitted < rule.min_interim
                and today >= halfway - timedelta(days=INTERIM_NOTICE_DAYS)):
            items.append(Item("interim_bilan", f"interim-bilan:{operation.id}:{submitted + 1}", halfway,
                              N_("Déposer un bilan intermédiaire de %(code)s (durée de %(months)s mois)"),
                              {"code": operation.code, "months": rule.months},
                              "claims.index", {"operation_code": operation.code}))
    return items


def _timesheets(user, today):
    """Finance officers: timesheets submitted by someone else, to approve (four eyes).
    Due by the end of the month after the timesheet's month, so the month's statement
    (état récapitulatif) can count it."""
    if not may("staff.approve_timesheets", "POST", user=user):
        return []
    operations = {operation.id: operation for operation in _operations(user)
                  if may("staff.approve_timesheets", "POST", operation=operation, user=user)}
    if not operations:
        return []
    rows = db.session.execute(
        select(Timesheet, StaffAssignment.operation_id)
        .join(StaffAssignment, StaffAssignment.id == Timesheet.assignment_id)
        .where(Timesheet.state == "submitted", StaffAssignment.operation_id.in_(operations),
               Timesheet.entered_by_id.is_distinct_from(user.id))
    ).all()
    items = []
    for sheet, operation_id in rows:
        code = operations[operation_id].code
        due = add_months(sheet.month, 2) - timedelta(days=1)
        items.append(Item("timesheet_approval", f"timesheet:{sheet.id}", due,
                          N_("Approuver une feuille de temps de %(code)s (%(month)s)"),
                          {"code": code, "month": sheet.month}, "staff.timesheets", {"operation_code": code}))
    return items


def _checks(user, today):
    """Controllers: submitted bilans to check (CPR 74(1)(b): paid within 80 days), and
    the DACI they lack before they may check (claims.daci)."""
    if not may("claims.decide", "POST", user=user):
        return []
    items = []
    for operation in _operations(user):
        if not may("claims.decide", "POST", operation=operation, user=user):
            continue
        submitted = db.session.scalars(
            select(Claim).where(Claim.operation_id == operation.id, Claim.state == "submitted")).all()
        for claim in submitted:
            due = local_day(claim.submitted_at or claim.created_at) + timedelta(days=CHECK_DAYS)
            items.append(Item("bilan_check", f"check:{claim.id}", due,
                              N_("Contrôler %(bilan)s de %(code)s"),
                              {"bilan": claim, "code": operation.code},
                              "claims.show", {"operation_code": operation.code, "number": claim.number}))
            if controller_may_check(user, operation, today) is not None:
                items.append(Item("daci", f"daci:{user.id}:{operation.id}", today,
                                  N_("Faire enregistrer votre DACI pour %(code)s avant de contrôler"),
                                  {"code": operation.code}, "reporting.home"))
    return items


def _daci_register(user, today):
    """Who records declarations (admins, the referent): controllers lacking one, for
    operations with a bilan waiting for its check."""
    if not may("claims.daci_new", "POST", user=user):
        return []
    waiting = set(db.session.scalars(select(Claim.operation_id).where(Claim.state == "submitted")))
    return [Item("daci", f"daci-record:{controller.id}:{operation.id}", today,
                 N_("Enregistrer la DACI de %(person)s pour %(code)s"),
                 {"person": controller.full_name or controller.email, "code": operation.code}, "claims.daci_register")
            for controller, operation in missing_declarations(today) if operation.id in waiting]


def _amendments(user, today):
    if not may("operations.decide_amendment", "POST", user=user):
        return []
    rows = db.session.execute(
        select(AmendmentRequest, Operation.code).join(Operation, Operation.id == AmendmentRequest.operation_id)
        .where(AmendmentRequest.state == "pending")
    ).all()
    return [Item("amendment", f"amendment:{request.id}", local_day(request.requested_at) + timedelta(days=AMENDMENT_DAYS),
                 N_("Décider l'avenant demandé pour %(code)s"), {"code": code},
                 "operations.detail", {"operation_code": code})
            for request, code in rows]


def _setup_links(user, today):
    if not may("accounts.setup_link", "POST", user=user):
        return []
    waiting = db.session.scalars(
        select(User).where(User.setup_token_hash.is_not(None), User.setup_expires_at.is_not(None))).all()
    return [Item("setup_link", f"setup:{person.id}:{person.setup_expires_at.isoformat()}", local_day(person.setup_expires_at),
                 N_("Lien de création de compte de %(person)s non utilisé"),
                 {"person": person.full_name or person.email}, "accounts.users")
            for person in waiting]


def _retention(user, today):
    if not may("reporting.retention", "GET", user=user) or not may("accounts.users", "POST", user=user):
        return []
    return [Item("retention", f"retention:{ended.operation.id}:{ended.retention.end.isoformat()}", ended.retention.end,
                 N_("Conservation de %(code)s terminée : %(count)s pièce(s) à purger"),
                 {"code": ended.operation.code, "count": ended.documents}, "reporting.retention")
            for ended in ended_operations(today) if ended.documents]


COLLECTORS = (_alerts, _bilans_due, _timesheets, _checks, _daci_register, _amendments, _setup_links, _retention)


def describe(item: Item) -> str:
    """The item in the reader's language (a bilan is named as its pages name it; the due
    date is in the text only where the text says « avant le … »)."""
    values = {**item.values, "due": format_day(item.due)}
    if isinstance(values.get("bilan"), Claim):
        values["bilan"] = bilan_label(values["bilan"])
    if isinstance(values.get("month"), date):
        values["month"] = format_month(values["month"])
    return translate(item.text, **values)

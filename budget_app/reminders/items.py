"""What waits for a person (« À faire »): one list per person, built from the rules the
pages already apply (alerts' legal deadlines, the bilans' rules of primer §8, timesheets
waiting for a second finance officer, submitted bilans waiting for their check, DACI,
amendments, set-up links, retention), and only what the person may act on: each item says
where it is done (an endpoint of the access policy, ``accounts.policy.may``) and, for an
operation's item, which operation (finance officers and controllers act on theirs only).

Items are computed by kind, in a few queries over the whole database (``due_items``), then
handed to each person they reach (``reaches``): the daily digest computes them once for
everyone; a page computes only the kinds the reader may act on, over their operations.

An alert's item names no alert, no reference, no operation and no person: it is for the
referents only, and says only that a report waits for an acknowledgment or an answer.
"""
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from ..accounts.assignments import assigned_operation_ids
from ..accounts.models import User
from ..accounts.policy import limited_to_assignments, may
from ..alerts.deadlines import acknowledgment_due, local_day
from ..alerts.models import CLOSED_STATES, RECEIVED, Alert
from ..claims.bilans import bilan_label, bilan_rule, final_deadline
from ..claims.daci import missing_declarations
from ..claims.models import Claim
from ..expenses.purge import ended_operations
from ..kernel.dates import add_months
from ..kernel.extensions import db
from ..kernel.formatting import format_day, format_month
from ..kernel.i18n import N_, translate
from ..operations.models import AmendmentRequest, Operation
from ..participants.deadlines import KINDS as PARTICIPANT_DUES
from ..participants.deadlines import open_dues
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
    "participant_record": N_("Fiches des participants (entrée, sortie, suivi à 6 mois)"),
}
LEGAL_KINDS = frozenset({"alert_acknowledgment", "alert_feedback", "final_bilan"})

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
    endpoint: str = "reminders.todo"  # where it is done (the link)
    url_values: dict = field(default_factory=dict, hash=False, compare=False)
    # Who it reaches: those who may use ``acts_on`` (endpoint, method) on ``operation_id``
    # (assigned roles: only their operations), but ``not_user_id``, or ``only_user_id``.
    acts_on: tuple = ("reminders.todo", "GET")
    operation_id: int | None = None
    not_user_id: int | None = None
    only_user_id: int | None = None

    @property
    def legal(self) -> bool:
        return self.kind in LEGAL_KINDS


def _alerts(today, operation_ids):
    open_alerts = db.session.scalars(select(Alert).where(Alert.state.not_in(CLOSED_STATES))).all()
    items = []
    for alert in open_alerts:
        if alert.state == RECEIVED:
            items.append(Item("alert_acknowledgment", f"alert-ack:{alert.id}",
                              acknowledgment_due(local_day(alert.received_at)),
                              N_("Un signalement attend votre accusé de réception avant le %(due)s"),
                              endpoint="alerts.dashboard", acts_on=("alerts.dashboard", "GET")))
        if alert.feedback_on is None:
            items.append(Item("alert_feedback", f"alert-feedback:{alert.id}", alert.feedback_due,
                              N_("Un signalement attend votre retour à son auteur avant le %(due)s"),
                              endpoint="alerts.dashboard", acts_on=("alerts.dashboard", "GET")))
    return items


def _within(query, column, operation_ids):
    return query if operation_ids is None else query.where(column.in_(operation_ids))


def _bilans_due(today, operation_ids):
    """The final bilan from the operation's end (primer §8: due 6 months after it, legal),
    and a required interim one from a month before halfway (claims.bilans.warnings' rule)."""
    acts_on = ("claims.create", "POST")
    # The operations and their bilans in one query (the menu counts these on every page).
    rows = db.session.execute(_within(select(Operation, Claim).outerjoin(Claim, Claim.operation_id == Operation.id),
                                      Operation.id, operation_ids))
    by_operation = {}
    for operation, claim in rows:
        by_operation.setdefault(operation, [])
        if claim is not None:
            by_operation[operation].append(claim)
    items = []
    for operation, existing in by_operation.items():
        final = next((claim for claim in existing if claim.kind == "final"), None)
        where = {"operation_code": operation.code}
        if (final is None or final.state == "draft") and today >= operation.end_date:
            items.append(Item("final_bilan", f"final-bilan:{operation.id}", final_deadline(operation),
                              N_("Déposer le bilan final de %(code)s"), {"code": operation.code},
                              "claims.index", where, acts_on, operation.id))
        rule = bilan_rule(operation)
        submitted = sum(1 for claim in existing if claim.kind == "interim" and claim.state != "draft")
        halfway = operation.start_date + (operation.end_date - operation.start_date) / 2
        if final is None and submitted < rule.min_interim and today >= halfway - timedelta(days=INTERIM_NOTICE_DAYS):
            items.append(Item("interim_bilan", f"interim-bilan:{operation.id}:{submitted + 1}", halfway,
                              N_("Déposer un bilan intermédiaire de %(code)s (durée de %(months)s mois)"),
                              {"code": operation.code, "months": rule.months},
                              "claims.index", where, acts_on, operation.id))
    return items


def _timesheets(today, operation_ids):
    """Timesheets submitted, to approve by another finance officer (four eyes), by the end
    of the month after the timesheet's month, so that month's statement can count them."""
    rows = db.session.execute(_within(
        select(Timesheet.id, Timesheet.month, Timesheet.entered_by_id, Operation.id, Operation.code)
        .join(StaffAssignment, StaffAssignment.id == Timesheet.assignment_id)
        .join(Operation, Operation.id == StaffAssignment.operation_id)
        .where(Timesheet.state == "submitted"), Operation.id, operation_ids)).all()
    return [Item("timesheet_approval", f"timesheet:{sheet_id}", add_months(month, 2) - timedelta(days=1),
                 N_("Approuver une feuille de temps de %(code)s (%(month)s)"), {"code": code, "month": month},
                 "staff.timesheets", {"operation_code": code}, ("staff.approve_timesheets", "POST"),
                 operation_id, not_user_id=entered_by)
            for sheet_id, month, entered_by, operation_id, code in rows]


def _checks(today, operation_ids):
    """Submitted bilans to check (CPR 74(1)(b): the beneficiary is paid within 80 days)."""
    rows = db.session.execute(_within(
        select(Claim, Operation.code).join(Operation, Operation.id == Claim.operation_id)
        .where(Claim.state == "submitted"), Operation.id, operation_ids)).all()
    return [Item("bilan_check", f"check:{claim.id}", local_day(claim.submitted_at or claim.created_at)
                 + timedelta(days=CHECK_DAYS), N_("Contrôler %(bilan)s de %(code)s"), {"bilan": claim, "code": code},
                 "claims.show", {"operation_code": code, "number": claim.number}, ("claims.decide", "POST"),
                 claim.operation_id)
            for claim, code in rows]


def _daci(today, operation_ids):
    """A controller without a DACI in force for an operation with a bilan waiting for its
    check (claims.daci.missing_declarations): due at once, i.e. from the day the operation's
    earliest waiting bilan was submitted. The controller has each of theirs recorded; the
    recorders read ONE item for all of them, « N DACI à enregistrer », due at the earliest
    pair's date and known by that pair and date (recording a later one announces nothing)."""
    waiting = {}
    for operation_id, submitted_at, created_at in db.session.execute(_within(
            select(Claim.operation_id, Claim.submitted_at, Claim.created_at).where(Claim.state == "submitted"),
            Claim.operation_id, operation_ids)):
        day = local_day(submitted_at or created_at)
        if operation_id not in waiting or day < waiting[operation_id]:
            waiting[operation_id] = day
    items = []
    to_record = []
    for controller, operation in missing_declarations(today):
        due = waiting.get(operation.id)
        if due is None:
            continue
        items.append(Item("daci", f"daci:{controller.id}:{operation.id}", due,
                          N_("Faire enregistrer votre DACI pour %(code)s avant de contrôler"), {"code": operation.code},
                          "reporting.home", {}, ("claims.decide", "POST"), operation.id, only_user_id=controller.id))
        to_record.append((due, controller.id, operation.id))
    if to_record:
        due, controller_id, operation_id = min(to_record)
        items.append(Item("daci", f"daci-record:{controller_id}:{operation_id}:{due.isoformat()}", due,
                          N_("%(count)s DACI à enregistrer"), {"count": len(to_record)},
                          "claims.daci_register", {}, ("claims.daci_new", "POST")))
    return items


def _amendments(today, operation_ids):
    rows = db.session.execute(
        select(AmendmentRequest, Operation.code).join(Operation, Operation.id == AmendmentRequest.operation_id)
        .where(AmendmentRequest.state == "pending")).all()
    return [Item("amendment", f"amendment:{request.id}", local_day(request.requested_at) + timedelta(days=AMENDMENT_DAYS),
                 N_("Décider l'avenant demandé pour %(code)s"), {"code": code},
                 "operations.detail", {"operation_code": code}, ("operations.decide_amendment", "POST"))
            for request, code in rows]


def _setup_links(today, operation_ids):
    waiting = db.session.scalars(
        select(User).where(User.setup_token_hash.is_not(None), User.setup_expires_at.is_not(None))).all()
    return [Item("setup_link", f"setup:{person.id}:{person.setup_expires_at.isoformat()}", local_day(person.setup_expires_at),
                 N_("Lien de création de compte de %(person)s non utilisé"), {"person": person.full_name or person.email},
                 "accounts.users", {}, ("accounts.setup_link", "POST"))
            for person in waiting]


def _retention(today, operation_ids):
    """Retention ended (CPR 82, the /conservation page's rule): documents to purge."""
    return [Item("retention", f"retention:{ended.operation.id}:{ended.retention.end.isoformat()}", ended.retention.end,
                 N_("Conservation de %(code)s terminée : %(count)s pièce(s) à purger"),
                 {"code": ended.operation.code, "count": ended.documents}, "reporting.retention", {},
                 ("accounts.users", "POST"))
            for ended in ended_operations(today) if ended.documents]


def _participants(today, operation_ids):
    """What a caseworker owes on participants (participants §4, their deadlines): by code
    only, never an identity; to the participant's caseworker when one is recorded."""
    codes = dict(db.session.execute(_within(select(Operation.id, Operation.code), Operation.id, operation_ids)).all())
    return [Item("participant_record", f"participant:{due.code}:{due.kind}:{due.due.isoformat()}", due.due,
                 N_("Participant %(participant)s de %(code)s : %(what)s"),
                 {"participant": due.code, "code": codes[due.operation_id], "what": PARTICIPANT_DUES[due.kind]},
                 "participants.index", {"operation_code": codes[due.operation_id]}, ("participants.new", "POST"),
                 due.operation_id, only_user_id=due.caseworker_id)
            for due in open_dues(list(codes), today)]


# Each source of items, with where its items are acted on (a person who may not use any of
# these is not asked for them) and whether it is scoped by operation.
SOURCES = (
    (_alerts, (("alerts.dashboard", "GET"),), False),
    (_bilans_due, (("claims.create", "POST"),), True),
    (_timesheets, (("staff.approve_timesheets", "POST"),), True),
    (_checks, (("claims.decide", "POST"),), True),
    (_daci, (("claims.decide", "POST"), ("claims.daci_new", "POST")), True),
    (_amendments, (("operations.decide_amendment", "POST"),), False),
    (_setup_links, (("accounts.setup_link", "POST"),), False),
    (_retention, (("accounts.users", "POST"),), False),
    (_participants, (("participants.new", "POST"),), True),
)


def due_items(today: date, user: User | None = None) -> list[Item]:
    """Every item (``user`` None: for the digests of everyone), or only the kinds ``user``
    may act on, over their operations when their role is limited to them."""
    found = []
    scope = None
    if user is not None and limited_to_assignments(user):
        scope = assigned_operation_ids(user.id)
    for source, acts_on, scoped in SOURCES:
        if user is not None and not any(may(endpoint, method, user=user) for endpoint, method in acts_on):
            continue
        found.extend(source(today, scope if scoped else None))
    return found


class ItemIndex:
    """Items by where they are acted on, then by operation: a person's list is read from
    the actions they may take and their operations, never by trying every item."""

    def __init__(self, items):
        self.by_action: dict[tuple, tuple[list, dict]] = {}
        for item in items:
            general, by_operation = self.by_action.setdefault(item.acts_on, ([], {}))
            if item.operation_id is None:
                general.append(item)
            else:
                by_operation.setdefault(item.operation_id, []).append(item)

    def candidates(self, user: User, assigned):
        """``assigned``: the person's operations, or None when their role sees them all."""
        for (endpoint, method), (general, by_operation) in self.by_action.items():
            if not may(endpoint, method, user=user):
                continue
            yield from general
            operations = by_operation if assigned is None else (i for i in assigned if i in by_operation)
            for operation_id in operations:
                yield from by_operation[operation_id]


def reaches(item: Item, user: User) -> bool:
    return ((item.only_user_id is None or item.only_user_id == user.id)
            and (item.not_user_id is None or item.not_user_id != user.id))


def items_for(user: User, today: date, index: ItemIndex | None = None, assigned=None) -> list[Item]:
    """What waits for ``user``, overdue first, then by due date. ``index``: every item,
    already computed for everyone (a digest run), with ``assigned``, the person's
    operations when their role is limited to them."""
    if user is None or not user.active:
        return []
    if index is None:
        index = ItemIndex(due_items(today, user))
        assigned = assigned_operation_ids(user.id) if limited_to_assignments(user) else None
    chosen = [item for item in index.candidates(user, assigned) if reaches(item, user)]
    return sorted(chosen, key=lambda item: (item.due >= today, item.due, item.key))


def describe(item: Item, gettext=None, locale: str | None = None) -> str:
    """The item in the reader's language (a bilan is named as its pages name it; the due
    date is in the text only where the text says « avant le … »). ``gettext`` and ``locale``:
    the reader's catalogue and language, when the caller writes many items in it (a digest
    run, inside ``force_locale``), so that neither is looked up again for each item."""
    values = {**item.values, "due": format_day(item.due, locale)}
    if isinstance(values.get("bilan"), Claim):
        values["bilan"] = bilan_label(values["bilan"])
    if "what" in values:
        values["what"] = gettext(values["what"]) if gettext else translate(values["what"])
    if isinstance(values.get("month"), date):
        values["month"] = format_month(values["month"], locale)
    return gettext(item.text) % values if gettext else translate(item.text, **values)

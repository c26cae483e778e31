"""The access policy, declared in one place, and ``may``: the one question templates and
views ask ("may the current user use this endpoint?") instead of comparing role names.

Every endpoint of the application has one entry in ``POLICY``. A request to an endpoint
without an entry is refused (fail closed), and ``tests/test_access.py`` checks every rule
of ``app.url_map`` for every role against a table of expected outcomes of its own.

- ``public``: no login needed.
- ``read``: roles allowed for GET/HEAD; ``write``: roles allowed for other methods.
  ``ANY`` means every logged-in user.
- ``hidden``: refusals answer 404 instead of 403, so the page's existence is not
  revealed (alerts: only the anti-fraud referent may know they exist).

Object-level rule: a URL with ``<operation_code>`` is loaded and authorised once, by
``access.enforce_policy``; finance officers and controllers who are not assigned to the
operation get 404 (ihatemoney's ``pull_project`` pattern).
"""
from dataclasses import dataclass

from flask_login import current_user

from .assignments import assigned_operation_ids
from .models import User
from .roles import (
    SECOND_FACTOR_REQUIRED,
    ADMIN,
    ANTIFRAUD_REFERENT,
    ASSIGNED_ONLY,
    AUDITOR,
    CASEWORKER,
    CONTROLLER,
    FINANCE_OFFICER,
    ROLES,
)

ANY = frozenset(ROLES)
NOBODY = frozenset()
READ_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class Policy:
    public: bool = False
    read: frozenset = NOBODY
    write: frozenset = NOBODY
    hidden: bool = False

    def allows(self, role: str | None, method: str) -> bool:
        if self.public:
            return True
        if role is None:
            return False
        roles = self.read if method in READ_METHODS else self.write
        return role in roles


def public() -> Policy:
    return Policy(public=True)


def roles(read=NOBODY, write=NOBODY, hidden=False) -> Policy:
    return Policy(read=frozenset(read), write=frozenset(write), hidden=hidden)


# Roles that read an operation's figures.
OPERATION_READERS = {ADMIN, FINANCE_OFFICER, CONTROLLER, AUDITOR, ANTIFRAUD_REFERENT}
STAFF_READERS = {ADMIN, FINANCE_OFFICER, CONTROLLER, AUDITOR}
# Participants (participants §5): counts and pseudonymous codes for these; identities and
# special-category answers for the operation's caseworkers only.
PARTICIPANT_COUNT_READERS = {ADMIN, FINANCE_OFFICER, CONTROLLER, AUDITOR, CASEWORKER}

POLICY: dict[str, Policy] = {
    "static": public(),
    "health": public(),  # GET /sante: status only (kernel/health.py)
    # accounts
    "accounts.login": public(),
    "accounts.language": public(),
    "accounts.logout": roles(write=ANY),
    "accounts.password": roles(read=ANY, write=ANY),
    "accounts.users": roles(read={ADMIN}, write={ADMIN}),
    "accounts.user_state": roles(write={ADMIN}),
    "accounts.setup_link": roles(write={ADMIN}),
    "accounts.user_assignment": roles(write={ADMIN}),
    # The single-use link an admin hands over: the person is not logged in yet.
    "accounts.setup_password": public(),
    # The second factor of a login: the pending session (password given) is checked inside.
    "accounts.second_factor_step": public(),
    "accounts.enrol_step": public(),
    "accounts.second_factor_settings": roles(read=ANY, write=ANY),
    # Password and code typed again before a sensitive action.
    "accounts.confirm": roles(read=ANY, write=ANY),
    #
    # reporting: home, operations list and dashboards, envelopes, audit trail
    "reporting.home": roles(read=ANY),
    "reporting.operations": roles(read=ANY),
    "reporting.dashboard": roles(read=OPERATION_READERS),
    # Envelopes aggregate every partner's operation: not for the assigned-only roles.
    "reporting.envelopes": roles(read={ADMIN, AUDITOR, ANTIFRAUD_REFERENT}),
    "reporting.envelope": roles(read={ADMIN, AUDITOR, ANTIFRAUD_REFERENT}),
    "reporting.journal": roles(read={ADMIN, AUDITOR}),
    # Operations whose retention ended (CPR 82): the admin purges; auditors read.
    "reporting.retention": roles(read={ADMIN, AUDITOR}),
    #
    # reminders: each person's « À faire », reminder preferences and calendar feed; the
    # feed is read by a calendar program with the private token in its URL (no session).
    "reminders.todo": roles(read=ANY),
    "reminders.preferences": roles(write=ANY),
    "reminders.calendar_token": roles(write=ANY),
    "reminders.calendar_feed": public(),
    #
    # operations and financing plans. Read: every role that reads figures; finance officers
    # and controllers only their operations (<operation_code>).
    "operations.detail": roles(read=OPERATION_READERS),
    "operations.version": roles(read=OPERATION_READERS),
    "operations.compare": roles(read=OPERATION_READERS),
    # Creating an operation: admins. Amendments: admins and the assigned finance officers.
    "operations.create": roles(read={ADMIN}, write={ADMIN}),
    "operations.amend": roles(read={ADMIN, FINANCE_OFFICER}, write={ADMIN, FINANCE_OFFICER}),
    # An amendment entered by a finance officer waits for an administrator's decision.
    "operations.decide_amendment": roles(write={ADMIN}),
    # The amendment beside the plan in force, with its differences (read by everyone who
    # reads the plan; only an admin decides).
    "operations.amendment_review": roles(read=OPERATION_READERS),
    "operations.create_envelope": roles(write={ADMIN}),
    "operations.attach_envelope": roles(write={ADMIN}),
    #
    # expenses, documents, duplicates, imports. Finance officers write on the operations
    # they are assigned to; everyone who reads an operation's figures reads its expenses,
    # the anti-fraud referent included (double funding and duplicates are what they look
    # into). Controllers check, never edit.
    "expenses.home": roles(read=OPERATION_READERS),
    "expenses.index": roles(read=OPERATION_READERS),
    "expenses.detail": roles(read=OPERATION_READERS),
    "expenses.download": roles(read=OPERATION_READERS),
    "expenses.duplicates": roles(read=OPERATION_READERS),
    "expenses.create": roles(read={FINANCE_OFFICER}, write={FINANCE_OFFICER}),
    "expenses.edit": roles(read={FINANCE_OFFICER}, write={FINANCE_OFFICER}),
    "expenses.delete": roles(write={FINANCE_OFFICER}),
    "expenses.upload_document": roles(write={FINANCE_OFFICER}),
    "expenses.import_expenses": roles(read={FINANCE_OFFICER}, write={FINANCE_OFFICER}),
    "expenses.confirm_import": roles(write={FINANCE_OFFICER}),
    "expenses.import_template": roles(read={FINANCE_OFFICER}),
    # Operation documents (agreement, amendments, publicity, procurement files): attached
    # and withdrawn by the operation's finance officers and admins; read by every role that
    # reads the operation (controllers and auditors read only).
    "expenses.attach_operation_document": roles(write={FINANCE_OFFICER, ADMIN}),
    "expenses.remove_operation_document": roles(write={FINANCE_OFFICER, ADMIN}),
    "expenses.operation_document_download": roles(read=OPERATION_READERS),
    # Unit costs and lump sums (units): the plan's lines are added as an amendment is
    # entered (finance officer, admin); the units delivered and their evidence by the finance officer.
    "units.index": roles(read=OPERATION_READERS),
    "units.add_line": roles(write={ADMIN, FINANCE_OFFICER}),
    "units.record": roles(write={FINANCE_OFFICER}),
    "units.evidence": roles(write={FINANCE_OFFICER}),
    "units.download": roles(read=OPERATION_READERS),
    "units.withdraw": roles(write={FINANCE_OFFICER}),
    "units.import_records": roles(read={FINANCE_OFFICER}, write={FINANCE_OFFICER}),
    "units.confirm_import": roles(write={FINANCE_OFFICER}),
    "units.import_template": roles(read={FINANCE_OFFICER}),
    # Partial VAT recovery: the operation's pro-rata per year (expenses.vat).
    "expenses.vat_prorata": roles(read=OPERATION_READERS, write={FINANCE_OFFICER}),
    #
    # staff and timesheets: finance officers enter and approve on their operations;
    # controllers, auditors, admins read.
    "staff.index": roles(read=STAFF_READERS),
    "staff.people": roles(read=STAFF_READERS),
    "staff.timesheets": roles(read=STAFF_READERS),
    "staff.cost_lines": roles(read=STAFF_READERS),
    "staff.add_staff": roles(read={FINANCE_OFFICER}, write={FINANCE_OFFICER}),
    "staff.add_timesheet": roles(read={FINANCE_OFFICER}, write={FINANCE_OFFICER}),
    "staff.edit_timesheet": roles(read={FINANCE_OFFICER}, write={FINANCE_OFFICER}),
    "staff.timesheet_action": roles(write={FINANCE_OFFICER}),
    "staff.approve_timesheets": roles(write={FINANCE_OFFICER}),
    "staff.import_staff": roles(read={FINANCE_OFFICER}, write={FINANCE_OFFICER}),
    "staff.import_timesheets": roles(read={FINANCE_OFFICER}, write={FINANCE_OFFICER}),
    "staff.staff_template": roles(read={FINANCE_OFFICER}),
    # Staff evidence (payslips, contracts, signed timesheets): read with the staff pages.
    "staff.evidence_page": roles(read=STAFF_READERS),
    "staff.evidence_download": roles(read=STAFF_READERS),
    "staff.attach_evidence": roles(write={FINANCE_OFFICER}),
    "staff.timesheets_template": roles(read={FINANCE_OFFICER}),
    #
    # participants: caseworkers (assigned to the operation) enter and read identities and
    # special-category answers, each read logged; the others see counts and codes. The
    # data protection officer's log of those reads: auditors, read-only.
    "participants.home": roles(read=PARTICIPANT_COUNT_READERS),
    "participants.index": roles(read=PARTICIPANT_COUNT_READERS),
    "participants.indicator_page": roles(read=PARTICIPANT_COUNT_READERS),
    "participants.detail": roles(read={CASEWORKER}),
    "participants.new": roles(read={CASEWORKER}, write={CASEWORKER}),
    "participants.edit": roles(read={CASEWORKER}, write={CASEWORKER}),
    "participants.access_export": roles(read={CASEWORKER}),
    "participants.import_participants_page": roles(read={CASEWORKER}, write={CASEWORKER}),
    "participants.import_template": roles(read={CASEWORKER}),
    "participants.access_journal": roles(read={AUDITOR}),
    #
    # claims. Finance officers prepare, submit and withdraw, record advances and the
    # payment received (they see the bank statement; an admin may too); controllers do the
    # service-done check; an admin reopens a controlled claim; auditors and the referent read.
    "claims.overview": roles(read=OPERATION_READERS),
    "claims.index": roles(read=OPERATION_READERS),
    "claims.show": roles(read=OPERATION_READERS),
    "claims.printable": roles(read=OPERATION_READERS),
    "claims.export_xlsx": roles(read=OPERATION_READERS),
    "claims.export_csv": roles(read=OPERATION_READERS),
    "claims.export_pdf": roles(read=OPERATION_READERS),
    "claims.statement_export": roles(read=OPERATION_READERS),
    "claims.evidence_pack": roles(read=OPERATION_READERS),
    "claims.create": roles(write={FINANCE_OFFICER}),
    "claims.delete": roles(write={FINANCE_OFFICER}),
    "claims.submit": roles(write={FINANCE_OFFICER}),
    "claims.withdraw": roles(write={FINANCE_OFFICER}),
    "claims.advance": roles(write={FINANCE_OFFICER, ADMIN}),
    "claims.decide": roles(write={CONTROLLER}),
    "claims.finish_control": roles(write={CONTROLLER}),
    "claims.draw_sample": roles(write={CONTROLLER}),  # service-done check by sampling (claims.sampling)
    "claims.reopen": roles(write={ADMIN}),
    # The managing authority holds a line (declared or not) from its page, with a reason.
    "claims.hold_line": roles(write={ADMIN}),
    "claims.pay": roles(write={FINANCE_OFFICER, ADMIN}),
    # The DACI register (who may check) is not confidential; admins and the referent
    # record declarations.
    "claims.daci_register": roles(read={ADMIN, AUDITOR, ANTIFRAUD_REFERENT}),
    "claims.daci_new": roles(read={ADMIN, ANTIFRAUD_REFERENT}, write={ADMIN, ANTIFRAUD_REFERENT}),
    "claims.daci_withdraw": roles(write={ADMIN, ANTIFRAUD_REFERENT}),
    #
    # alerts: hidden=True for every URL but the public channel
    "alerts.report": public(),
    "alerts.follow_up": public(),
    "alerts.reply": public(),
    "alerts.end_follow_up": public(),
    "alerts.dashboard": roles(read={ANTIFRAUD_REFERENT}, hidden=True),
    "alerts.detail": roles(read={ANTIFRAUD_REFERENT}, hidden=True),
    "alerts.transition": roles(write={ANTIFRAUD_REFERENT}, hidden=True),
    "alerts.message": roles(write={ANTIFRAUD_REFERENT}, hidden=True),
    "alerts.link_operation": roles(write={ANTIFRAUD_REFERENT}, hidden=True),
    "alerts.link_lines": roles(write={ANTIFRAUD_REFERENT}, hidden=True),
    "alerts.lift": roles(write={ANTIFRAUD_REFERENT}, hidden=True),
    "alerts.attachment": roles(read={ANTIFRAUD_REFERENT}, hidden=True),
    "alerts.transmission": roles(read={ANTIFRAUD_REFERENT}, write={ANTIFRAUD_REFERENT}, hidden=True),
    "alerts.transmission_xlsx": roles(read={ANTIFRAUD_REFERENT}, hidden=True),
    "alerts.transmission_print": roles(read={ANTIFRAUD_REFERENT}, hidden=True),
    # Keys per referent: who may read the alerts, grants, the recovery key shown once.
    "alerts.access_rights": roles(read={ANTIFRAUD_REFERENT}, hidden=True),
    "alerts.grant": roles(write={ANTIFRAUD_REFERENT}, hidden=True),
    "alerts.recovery_key": roles(read={ANTIFRAUD_REFERENT}, write={ANTIFRAUD_REFERENT}, hidden=True),
    # who opened which alert, when (no contents): auditors and the referent; 404 for others
    "alerts.access_log": roles(read={AUDITOR, ANTIFRAUD_REFERENT}, hidden=True),
}


def role_of(user) -> str | None:
    return user.role if user is not None and user.is_authenticated else None


def may(endpoint: str, method: str | None = None, operation=None, user=None) -> bool:
    """May ``user`` (the current user by default) use ``endpoint``? ``method`` defaults to
    what the endpoint is for: reading when it can be read, else writing. With
    ``operation``, finance officers and controllers must also be assigned to it."""
    policy = POLICY.get(endpoint)
    if policy is None:
        return False
    user = current_user if user is None else user
    if method is None:
        method = "GET" if (policy.public or policy.read) else "POST"
    if not policy.allows(role_of(user), method):
        return False
    if operation is not None and not policy.public:
        return assigned_to(user, operation.id)
    return True


def limited_to_assignments(user) -> bool:
    """Finance officers, controllers and caseworkers see only the operations they are assigned to."""
    return role_limited_to_assignments(user.role)


def role_limited_to_assignments(role: str | None) -> bool:
    """The role works on the operations it is assigned to (so an administrator assigns it)."""
    return role in ASSIGNED_ONLY


# People who select, manage or check operations sign a conflict-of-interest declaration
# (DACI, primer §6): the register offers them, and only them, as signatories.
DACI_SIGNATORIES = frozenset({CONTROLLER, ADMIN, FINANCE_OFFICER, ANTIFRAUD_REFERENT})


def daci_signatories():
    """Condition on ``User``: active people who may sign a DACI (the register's choices)."""
    return User.active.is_(True) & User.role.in_(DACI_SIGNATORIES)


def checks_service_done(role: str | None) -> bool:
    """The role records service-done decisions (``claims.decide``), so it needs a DACI in force."""
    return POLICY["claims.decide"].allows(role, "POST")


def records_participants(role: str | None) -> bool:
    """The role enters participants (``participants.new``): the caseworker (participants §2)."""
    return POLICY["participants.new"].allows(role, "POST")


def second_factor_required(role: str | None) -> bool:
    """The role logs in with a second factor (ASVS 4.3.1): admins and anti-fraud referents."""
    return role in SECOND_FACTOR_REQUIRED


def alert_readers():
    """Condition on ``User``: the role that reads alerts (``alerts.dashboard``)."""
    return User.role.in_(POLICY["alerts.dashboard"].read)


def service_done_checkers():
    """Condition on ``User``: active people whose role records service-done decisions."""
    return User.active.is_(True) & User.role.in_(POLICY["claims.decide"].write)


def assigned_to(user, operation_id: int) -> bool:
    """Roles limited to their operations see only those; the others see every operation."""
    if not limited_to_assignments(user):
        return True
    return operation_id in assigned_operation_ids(user.id)

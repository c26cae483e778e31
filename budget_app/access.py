"""The access policy, declared in one place.

Every endpoint of the application has one entry in ``POLICY``. A request to an
endpoint without an entry is refused (fail closed), and the test
``tests/test_access.py`` walks every rule of ``app.url_map`` with every role.

- ``public``: no login needed.
- ``read``: roles allowed for GET/HEAD; ``write``: roles allowed for other methods.
  ``ANY`` means every logged-in user.
- ``hidden``: refusals answer 404 instead of 403, so the page's existence is not
  revealed (alerts: only the anti-fraud referent may know they exist).

Object-level rule: a URL with ``<operation_code>`` loads the operation here, once;
finance officers and controllers who are not assigned to it get 404 (ihatemoney's
``pull_project`` pattern).
"""
import logging
from dataclasses import dataclass

from flask import abort, g, request
from flask_login import current_user
from sqlalchemy import select

from .accounts.roles import ADMIN, ANTIFRAUD_REFERENT, ASSIGNED_ONLY, AUDITOR, CONTROLLER, FINANCE_OFFICER, ROLES
from .extensions import db, login_manager

ANY = frozenset(ROLES)
NOBODY = frozenset()

log = logging.getLogger("budget_app.access")


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
        roles = self.read if method in ("GET", "HEAD", "OPTIONS") else self.write
        return role in roles


def public() -> Policy:
    return Policy(public=True)


def roles(read=NOBODY, write=NOBODY, hidden=False) -> Policy:
    return Policy(read=frozenset(read), write=frozenset(write), hidden=hidden)


# Roles that read an operation's figures.
OPERATION_READERS = {ADMIN, FINANCE_OFFICER, CONTROLLER, AUDITOR, ANTIFRAUD_REFERENT}

POLICY: dict[str, Policy] = {
    "static": public(),
    # accounts
    "accounts.login": public(),
    "accounts.language": public(),
    "accounts.logout": roles(write=ANY),
    "accounts.password": roles(read=ANY, write=ANY),
    "accounts.users": roles(read={ADMIN}),
    # home
    "main.home": roles(read=ANY),
    # audit trail
    "audit.entries": roles(read={ADMIN, AUDITOR}),
    #
    # ---- operations, plans, envelopes, dashboards (issue 4) ----
    # Read: every role; finance officers and controllers only their operations (<operation_code>).
    "operations.index": roles(read=ANY),
    "operations.detail": roles(read=OPERATION_READERS),
    "operations.version": roles(read=OPERATION_READERS),
    "operations.compare": roles(read=OPERATION_READERS),
    "operations.dashboard": roles(read=OPERATION_READERS),
    # Creating an operation: admins. Amendments: admins and the assigned finance officers.
    "operations.create": roles(read={ADMIN}, write={ADMIN}),
    "operations.amend": roles(read={ADMIN, FINANCE_OFFICER}, write={ADMIN, FINANCE_OFFICER}),
    # Envelopes aggregate every partner's operation: not for the assigned-only roles.
    "operations.envelopes": roles(read={ADMIN, AUDITOR, ANTIFRAUD_REFERENT}),
    "operations.envelope": roles(read={ADMIN, AUDITOR, ANTIFRAUD_REFERENT}),
    # ---- end operations ----
    #
    # ---- expenses, documents, duplicates, imports (issue 5) ----
    #
    # Finance officers write on the operations they are assigned to; everyone who reads an
    # operation's figures reads its expenses, the anti-fraud referent included (double
    # funding and duplicates are what they look into). Controllers check, never edit.
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
    # ---- end expenses ----
    #
    # ---- staff, timesheets (issue 5) ----
    # Finance officers enter and approve on their operations; controllers, auditors, admins read.
    "staff.index": roles(read={ADMIN, FINANCE_OFFICER, CONTROLLER, AUDITOR}),
    "staff.people": roles(read={ADMIN, FINANCE_OFFICER, CONTROLLER, AUDITOR}),
    "staff.timesheets": roles(read={ADMIN, FINANCE_OFFICER, CONTROLLER, AUDITOR}),
    "staff.cost_lines": roles(read={ADMIN, FINANCE_OFFICER, CONTROLLER, AUDITOR}),
    "staff.add_staff": roles(read={FINANCE_OFFICER}, write={FINANCE_OFFICER}),
    "staff.add_timesheet": roles(read={FINANCE_OFFICER}, write={FINANCE_OFFICER}),
    "staff.edit_timesheet": roles(read={FINANCE_OFFICER}, write={FINANCE_OFFICER}),
    "staff.timesheet_action": roles(write={FINANCE_OFFICER}),
    "staff.import_staff": roles(read={FINANCE_OFFICER}, write={FINANCE_OFFICER}),
    "staff.import_timesheets": roles(read={FINANCE_OFFICER}, write={FINANCE_OFFICER}),
    # ---- end staff ----
    #
    # ---- claims (issue 6) ----
    # Finance officers prepare, submit and withdraw, record advances and the payment received
    # (they see the bank statement; an admin may too); controllers do the service-done check;
    # an admin reopens a controlled claim; auditors and the referent read.
    "claims.overview": roles(read=OPERATION_READERS),
    "claims.index": roles(read=OPERATION_READERS),
    "claims.show": roles(read=OPERATION_READERS),
    "claims.printable": roles(read=OPERATION_READERS),
    "claims.export_xlsx": roles(read=OPERATION_READERS),
    "claims.export_csv": roles(read=OPERATION_READERS),
    "claims.create": roles(write={FINANCE_OFFICER}),
    "claims.delete": roles(write={FINANCE_OFFICER}),
    "claims.submit": roles(write={FINANCE_OFFICER}),
    "claims.withdraw": roles(write={FINANCE_OFFICER}),
    "claims.advance": roles(write={FINANCE_OFFICER, ADMIN}),
    "claims.decide": roles(write={CONTROLLER}),
    "claims.finish_control": roles(write={CONTROLLER}),
    "claims.reopen": roles(write={ADMIN}),
    "claims.pay": roles(write={FINANCE_OFFICER, ADMIN}),
    # ---- end claims ----
    #
    # ---- alerts, DACI (issue 7): hidden=True for every alert URL ----
    #
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
    # who opened which alert, when (no contents): auditors and the referent; 404 for others
    "alerts.access_log": roles(read={AUDITOR, ANTIFRAUD_REFERENT}, hidden=True),
    # DACI register: not confidential; admins and the referent record declarations
    "alerts.daci_register": roles(read={ADMIN, AUDITOR, ANTIFRAUD_REFERENT}),
    "alerts.daci_new": roles(read={ADMIN, ANTIFRAUD_REFERENT}, write={ADMIN, ANTIFRAUD_REFERENT}),
    "alerts.daci_withdraw": roles(write={ADMIN, ANTIFRAUD_REFERENT}),
    # ---- end alerts ----
}


def operation_visible_to(user, operation) -> bool:
    if user.role in ASSIGNED_ONLY:
        return any(member.id == user.id for member in operation.members)
    return True


def visible_operations_query(user):
    """The operations a user may see, as a select() to filter, sort or paginate."""
    from .operations.models import Operation, OperationMember

    query = select(Operation).order_by(Operation.code)
    if user.role in ASSIGNED_ONLY:
        query = query.join(OperationMember, OperationMember.operation_id == Operation.id).where(
            OperationMember.user_id == user.id
        )
    return query


def _deny(policy: Policy, role):
    log.warning(
        "event=access_denied user=%s role=%s endpoint=%s method=%s",
        getattr(current_user, "id", None),
        role,
        request.endpoint,
        request.method,
    )
    abort(404 if policy.hidden else 403)


def enforce_policy():
    """before_request: authorise the endpoint, then load the operation in the URL."""
    endpoint = request.endpoint
    if endpoint is None:  # no route matched: the 404/405 handlers answer
        return None
    policy = POLICY.get(endpoint)
    if policy is None:
        log.error("event=undeclared_endpoint endpoint=%s", endpoint)
        abort(403)
    role = current_user.role if current_user.is_authenticated else None
    if not policy.public:
        if role is None:
            if policy.hidden:
                abort(404)
            return login_manager.unauthorized()
        if not policy.allows(role, request.method):
            _deny(policy, role)
    view_args = request.view_args or {}
    if "operation_code" in view_args:
        from .operations.models import Operation

        code = view_args.pop("operation_code")
        operation = db.session.scalar(select(Operation).where(Operation.code == code))
        if operation is None or not operation_visible_to(current_user, operation):
            abort(404)
        g.operation = operation
    return None


def add_operation_code(endpoint, values):
    """url_defaults: inside an operation's pages, url_for() fills in its code."""
    operation = g.get("operation")
    if operation is not None and "operation_code" not in values:
        from flask import current_app

        for rule in current_app.url_map.iter_rules(endpoint):
            if "operation_code" in rule.arguments:
                values["operation_code"] = operation.code
                break

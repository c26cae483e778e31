"""Walks every rule of ``app.url_map`` with every role and anonymous, for each of its
methods, and checks the outcome against ``EXPECTED``: a table written here, independently
of ``budget_app.accounts.policy.POLICY``, so a wrong policy entry fails this test.

Operation-scoped URLs are tried on an operation the user is assigned to ("OP-IN") and on
one they are not ("OP-OUT"); each has its own sample objects (an expense, a timesheet, a
claim...), so a refusal there can only come from the assignment rule."""
from datetime import date
from decimal import Decimal

import pytest

from budget_app.operations.unit_lines import add_unit_line
from budget_app.units.services import attach_evidence as attach_unit_evidence
from budget_app.units.services import record_units
from budget_app.marks.services import declare
from budget_app.kernel.errors import Conflict
from budget_app.accounts.policy import POLICY
from budget_app.accounts.roles import (
    ADMIN,
    ANTIFRAUD_REFERENT,
    AUDITOR,
    CASEWORKER,
    CONTROLLER,
    FINANCE_OFFICER,
    ROLES,
)
from budget_app.claims.computation import claim_figures, figures_to_json
from budget_app.claims.models import Claim, ClaimLine
from budget_app.kernel.extensions import db
from budget_app.operations.models import AmendmentRequest
from budget_app.participants.imports import save_participant
from budget_app.expenses.operation_documents import attach_document as attach_operation_document
from budget_app.staff.evidence import Coverage
from budget_app.staff.evidence import attach_document as attach_staff_document
from budget_app.staff.models import AnnualCost, Person, StaffAssignment, Timesheet
from tests.alerts.factories import sample_world
from tests.expenses.factories import attach_document, make_expense
from tests.operations.factories import add_seed_plan, make_envelope

ANONYMOUS = None
LETTERS = {"A": ADMIN, "F": FINANCE_OFFICER, "C": CONTROLLER, "R": ANTIFRAUD_REFERENT, "U": AUDITOR,
           "W": CASEWORKER}
# Finance officers, controllers and caseworkers see only the operations they are assigned to.
ASSIGNED_ONLY = {FINANCE_OFFICER, CONTROLLER, CASEWORKER}


def who(letters: str) -> frozenset:
    return frozenset(LETTERS[letter] for letter in letters)


PUBLIC = "public"
EVERYONE = "AFCRUW"
READERS = "AFCRU"  # every role that reads an operation's figures
STAFF_READERS = "AFCU"

# endpoint -> (roles for GET, roles for POST, hidden): who may, by the product's rules.
# ``hidden``: every refusal answers 404 (the alert channel: its pages are not revealed).
EXPECTED = {
    "static": PUBLIC,
    "health": PUBLIC,
    "accounts.login": PUBLIC,
    "accounts.language": PUBLIC,
    "accounts.logout": ("", EVERYONE),
    "accounts.password": (EVERYONE, EVERYONE),
    "accounts.users": ("A", "A"),
    "accounts.user_state": ("", "A"),
    "accounts.setup_link": ("", "A"),
    "accounts.user_assignment": ("", "A"),
    "accounts.setup_password": PUBLIC,
    "accounts.second_factor_step": PUBLIC,
    "accounts.enrol_step": PUBLIC,
    "accounts.second_factor_settings": (EVERYONE, EVERYONE),
    "accounts.confirm": (EVERYONE, EVERYONE),
    "reporting.home": (EVERYONE, ""),
    "reporting.operations": (EVERYONE, ""),
    "reporting.dashboard": (READERS, ""),
    "reporting.envelopes": ("ARU", ""),
    "reporting.envelope": ("ARU", ""),
    "reporting.journal": ("AU", ""),
    "reporting.retention": ("AU", ""),
    "reminders.todo": (EVERYONE, ""),
    "reminders.preferences": ("", EVERYONE),
    "reminders.calendar_token": ("", EVERYONE),
    "reminders.calendar_feed": PUBLIC,
    "operations.detail": (READERS, ""),
    "operations.version": (READERS, ""),
    "operations.compare": (READERS, ""),
    "operations.amendment_review": (READERS, ""),
    "operations.create": ("A", "A"),
    "operations.amend": ("AF", "AF"),
    "operations.decide_amendment": ("", "A"),
    "operations.create_envelope": ("", "A"),
    "operations.attach_envelope": ("", "A"),
    "expenses.home": (READERS, ""),
    "expenses.index": (READERS, ""),
    "expenses.detail": (READERS, ""),
    "expenses.download": (READERS, ""),
    "expenses.duplicates": (READERS, ""),
    "expenses.create": ("F", "F"),
    "expenses.edit": ("F", "F"),
    "expenses.delete": ("", "F"),
    "expenses.upload_document": ("", "F"),
    "expenses.attach_operation_document": ("", "AF"),
    "expenses.remove_operation_document": ("", "AF"),
    "expenses.operation_document_download": (READERS, ""),
    "expenses.import_expenses": ("F", "F"),
    "expenses.confirm_import": ("", "F"),
    "expenses.vat_prorata": (READERS, "F"),
    "units.index": (READERS, ""),
    "units.add_line": ("", "AF"),
    "units.record": ("", "F"),
    "units.evidence": ("", "F"),
    "units.download": (READERS, ""),
    "units.withdraw": ("", "F"),
    "units.import_records": ("F", "F"),
    "units.confirm_import": ("", "F"),
    "units.import_template": ("F", ""),
    "staff.index": (STAFF_READERS, ""),
    "staff.people": (STAFF_READERS, ""),
    "staff.timesheets": (STAFF_READERS, ""),
    "staff.cost_lines": (STAFF_READERS, ""),
    "staff.add_staff": ("F", "F"),
    "staff.add_timesheet": ("F", "F"),
    "staff.edit_timesheet": ("F", "F"),
    "staff.timesheet_action": ("", "F"),
    "staff.approve_timesheets": ("", "F"),
    "staff.staff_template": ("F", ""),
    "staff.evidence_page": (STAFF_READERS, ""),
    "staff.evidence_download": (STAFF_READERS, ""),
    "staff.attach_evidence": ("", "F"),
    "staff.timesheets_template": ("F", ""),
    "expenses.import_template": ("F", ""),
    "staff.import_staff": ("F", "F"),
    "staff.import_timesheets": ("F", "F"),
    # participants: counts and codes for AFCU and caseworkers; identities for caseworkers only;
    # the access log for the data protection officer (auditor). Never the referent.
    "participants.home": ("AFCUW", ""),
    "participants.index": ("AFCUW", ""),
    "participants.indicator_page": ("AFCUW", ""),
    "participants.detail": ("W", ""),
    "participants.new": ("W", "W"),
    "participants.edit": ("W", "W"),
    "participants.access_export": ("W", ""),
    "participants.import_participants_page": ("W", "W"),
    "participants.import_template": ("W", ""),
    "participants.access_journal": ("U", ""),
    "claims.overview": (READERS, ""),
    "claims.index": (READERS, ""),
    "claims.show": (READERS, ""),
    "claims.printable": (READERS, ""),
    "claims.export_xlsx": (READERS, ""),
    "claims.export_csv": (READERS, ""),
    "claims.export_pdf": (READERS, ""),
    "claims.statement_export": (READERS, ""),
    "claims.evidence_pack": (READERS, ""),
    "claims.create": ("", "F"),
    "claims.delete": ("", "F"),
    "claims.submit": ("", "F"),
    "claims.withdraw": ("", "F"),
    "claims.advance": ("", "AF"),
    "claims.decide": ("", "C"),
    "claims.finish_control": ("", "C"),
    "claims.draw_sample": ("", "C"),
    "claims.reopen": ("", "A"),
    "claims.hold_line": ("", "A"),
    "claims.pay": ("", "AF"),
    "claims.daci_register": ("ARU", ""),
    "claims.daci_new": ("AR", "AR"),
    "claims.daci_withdraw": ("", "AR"),
    "alerts.report": PUBLIC,
    "alerts.follow_up": PUBLIC,
    "alerts.reply": PUBLIC,
    "alerts.end_follow_up": PUBLIC,
    "alerts.dashboard": ("R", "", "hidden"),
    "alerts.detail": ("R", "", "hidden"),
    "alerts.transition": ("", "R", "hidden"),
    "alerts.message": ("", "R", "hidden"),
    "alerts.link_operation": ("", "R", "hidden"),
    "alerts.link_lines": ("", "R", "hidden"),
    "alerts.lift": ("", "R", "hidden"),
    "alerts.attachment": ("R", "", "hidden"),
    "alerts.transmission": ("R", "R", "hidden"),
    "alerts.transmission_xlsx": ("R", "", "hidden"),
    "alerts.transmission_print": ("R", "", "hidden"),
    "alerts.access_log": ("RU", "", "hidden"),
    "alerts.access_rights": ("R", "", "hidden"),
    "alerts.grant": ("", "R", "hidden"),
    "alerts.recovery_key": ("R", "R", "hidden"),
}

# Allowed GETs answer 200, unless said otherwise here.
# Without a pending login (password given), the second-factor steps send back to the login page.
ALLOWED_GET_STATUS = {"accounts.login": {ANONYMOUS: 200, "*": 302}, "accounts.second_factor_step": {"*": 302},
                      "accounts.enrol_step": {"*": 302},
                      # the recovery key is shown only once, to the first referent: else back to the alerts
                      "alerts.recovery_key": {"*": 302},
                      # a calendar feed is found by its private token only: the sample token is nobody's
                      "reminders.calendar_feed": {"*": 404}}


def rules(app):
    return sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule)


def test_every_endpoint_has_a_declared_policy(app):
    undeclared = sorted({rule.endpoint for rule in app.url_map.iter_rules()} - set(POLICY))
    assert undeclared == [], f"declare these endpoints in budget_app/accounts/policy.py POLICY: {undeclared}"


def test_every_endpoint_has_an_expected_outcome_here(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert sorted(endpoints ^ set(EXPECTED)) == []
    assert sorted(set(POLICY) ^ set(EXPECTED)) == []


def test_undeclared_endpoint_is_refused(app, client, make_user, login):
    app.add_url_rule("/undeclared", "undeclared", lambda: "should not be served")
    login(client, make_user("admin"))
    assert client.get("/undeclared").status_code == 403


def expected_status(endpoint, method, role, assigned=True):
    spec = EXPECTED[endpoint]
    if spec == PUBLIC:
        if method == "GET":
            statuses = ALLOWED_GET_STATUS.get(endpoint, {})
            return statuses.get(role, statuses.get("*", 200))
        return "public-ok"
    read, write, *flags = spec
    hidden = "hidden" in flags
    if role is ANONYMOUS:
        return 404 if hidden else "login"
    allowed = who(read if method == "GET" else write)
    if role not in allowed:
        return 404 if hidden else 403
    if not assigned and role in ASSIGNED_ONLY:
        return 404
    if method == "GET":
        statuses = ALLOWED_GET_STATUS.get(endpoint, {})
        return statuses.get(role, statuses.get("*", 200))
    return "ok"


def _operation_samples(operation) -> dict:
    """An expense with a document, a draft timesheet and a submitted claim n° 1 with a line."""
    add_seed_plan(operation)
    expense = make_expense(operation, "10.00", incurred_on=date(2023, 3, 1), paid_on=date(2023, 3, 10),
                           complete=False, label="Échantillon")
    document = attach_document(expense)
    assignment = StaffAssignment(
        operation=operation, method="hourly",
        person=Person(registration_number=f"M-{operation.code}", last_name="Martin", first_name="Claire"),
    )
    db.session.add(AnnualCost(assignment=assignment, year=2023, annual_cost=Decimal("41280.00"),
                              working_share=Decimal("100"), hours_divisor=1720, hourly_rate=Decimal("24.00"),
                              computation="41 280,00 € / 1 720 h = 24,00 €/h"))
    timesheet = Timesheet(assignment=assignment, month=date(2023, 1, 1), hours_on_operation=Decimal("120"),
                          hours_worked=Decimal("151.67"), state="draft")
    db.session.add(timesheet)
    claimed = make_expense(operation, "10.00", incurred_on=date(2023, 1, 5), paid_on=date(2023, 1, 6))
    claim = Claim(operation_id=operation.id, number=1, period_start=date(2023, 1, 1), period_end=date(2023, 1, 31),
                  state="submitted", total_eligible=Decimal("10.00"), fse_asked=Decimal("6.00"))
    db.session.add(claim)
    db.session.flush()
    figures = claim_figures({"FONCTIONNEMENT": Decimal("10.00")}, {}, Decimal("60"), operation.fse_amount)
    claim.figures = {"declared": figures_to_json(figures)}
    declare("expense", [claimed.id], claim.id, Conflict(""))
    db.session.add(ClaimLine(claim_id=claim.id, position=1, kind="expense", expense_id=claimed.id,
                             category="FONCTIONNEMENT", description="Fournitures", incurred_on=date(2023, 1, 5),
                             declared_amount=Decimal("10.00")))
    db.session.commit()
    participant = save_participant(operation, {"last_name": "Exemple", "first_name": operation.code,
                                               "entry_date": "01/03/2023", "sex": "F"})
    amendment = AmendmentRequest(operation_id=operation.id, state="pending", payload="{}")
    db.session.add(amendment)
    db.session.commit()
    staff_document, _same = attach_staff_document(assignment, "contract", "contrat.pdf", b"%PDF-1.4\n%%EOF\n",
                                            Coverage(year=2023))
    db.session.commit()
    operation_document, _same = attach_operation_document(operation, "publicity", "affiche.pdf",
                                                          b"%PDF-1.4\n% affiche\n%%EOF\n")
    db.session.commit()
    unit_line = add_unit_line(operation, "unit", 2023, "PRESTATIONS", "heure d'atelier", Decimal("37.50"), Decimal("10"))
    unit_record = record_units(operation, unit_line.id, date(2023, 1, 31), quantity=Decimal("3"))
    attach_unit_evidence(unit_record, "emargement.pdf", b"%PDF-1.4\n% emargement\n%%EOF\n")
    db.session.commit()
    return {"operation_code": operation.code, "expense_id": expense.id, "document_id": document.id,
            "record_id": unit_record.id,
            "staff_document_id": staff_document.id, "operation_document_id": operation_document.id,
            "timesheet_id": timesheet.id, "number": 1, "position": 1, "request_id": amendment.id,
            "user_id": 1, "token": "sample-token", "participant_code": participant.code}


@pytest.fixture
def world(app, make_user, make_operation):
    users = {role: make_user(role, email=f"{role}@example.org") for role in ROLES}
    operation_in = make_operation("OP-IN", members=[users[FINANCE_OFFICER], users[CONTROLLER], users[CASEWORKER]])
    operation_out = make_operation("OP-OUT")
    make_envelope("ENV-TEST")
    common = {"filename": "css/app.css", "envelope_code": "ENV-TEST", "fmt": "xlsx"}
    values = {code: {**common, **_operation_samples(operation)}
              for code, operation in (("OP-IN", operation_in), ("OP-OUT", operation_out))}
    expense_in = values["OP-IN"]["expense_id"]
    alert, declaration = sample_world(users, operation_in, expense_in)
    alert_values = {"reference": alert.reference, "attachment_id": alert.attachments[0].id,
                    "link_id": alert.cost_lines[0].id, "declaration_id": declaration.id}
    for code in values:
        values[code].update(alert_values)
    return {"users": users, "values": values}


def _url(rule, values):
    missing = set(rule.arguments) - set(values)
    assert not missing, f"add sample values for {missing} ({rule.rule}) in tests/test_access.py"
    return rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)[1]


@pytest.mark.parametrize("role", [ANONYMOUS, *ROLES])
def test_route_role_matrix(app, world, login, role):
    failures = []
    for rule in rules(app):
        methods = [method for method in ("GET", "POST") if method in rule.methods]
        codes = ["OP-IN", "OP-OUT"] if "operation_code" in rule.arguments else ["OP-IN"]
        for method in methods:
            for code in codes:
                client = app.test_client()
                if role is not ANONYMOUS:
                    login(client, world["users"][role])
                url = _url(rule, world["values"][code])
                response = client.open(url, method=method)
                expected = expected_status(rule.endpoint, method, role, assigned=code == "OP-IN")
                status = response.status_code
                to_login = status == 302 and "/connexion?next=" in response.headers.get("Location", "")
                if expected == "public-ok":
                    good = status < 500 and status not in (401, 403, 404, 405)
                elif expected == "ok":
                    good = status < 500 and status not in (401, 403, 404, 405) and not to_login
                elif expected == "login":
                    good = to_login
                else:
                    good = status == expected
                if not good:
                    failures.append(f"{method} {url} as {role}: got {status}, expected {expected}")
    assert failures == []

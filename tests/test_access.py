"""Walks every rule of ``app.url_map`` with every role and anonymous, and checks the
outcome declared in ``budget_app.access.POLICY``. A route without a declared policy
fails ``test_every_endpoint_has_a_declared_policy``, and is refused at run time."""
import pytest

from budget_app.access import POLICY
from budget_app.accounts.roles import ASSIGNED_ONLY, ROLES

ANONYMOUS = None

# A value for every URL argument of the application. Operation-scoped URLs are tried
# on an operation the user is assigned to ("OP-IN") and on one they are not ("OP-OUT").
SAMPLE_ARGUMENTS = {
    "filename": "css/app.css",
    "operation_code": "OP-IN",
    #
    # ---- operations (issue 4) ----
    "number": 1,
    "envelope_code": "ENV-TEST",
    #
    # ---- expenses (issue 5) ----
    #
    "expense_id": 1,
    "document_id": 1,
    # ---- staff (issue 5) ----
    "timesheet_id": 1,
    #
    # ---- claims (issue 6) ----
    # "number" (claim n° 1) shares the operations' sample value above.
    "position": 1,
    #
    # ---- alerts (issue 7) ----
    "reference": "SIG-2026-000001",
    "attachment_id": 1,
    "link_id": 1,
    "declaration_id": 1,
    #
    # ---- end ----
}

# Allowed GETs answer 200 unless declared here (endpoint -> status by role, "*" for others).
ALLOWED_GET_STATUS = {
    "accounts.login": {ANONYMOUS: 200, "*": 302},
    #
    # ---- operations (issue 4) ----
    #
    # ---- expenses (issue 5) ----
    #
    # The sample expense and document belong to OP-IN (tests/expenses/samples.py).
    "expenses.detail": {"*": __import__("tests.expenses.samples", fromlist=["Either"]).Either(200, 404)},
    "expenses.download": {"*": __import__("tests.expenses.samples", fromlist=["Either"]).Either(200, 404)},
    # ---- staff (issue 5) ----
    #
    # ---- claims (issue 6) ----
    #
    # ---- alerts (issue 7) ----
    #
    # ---- end ----
}

# Objects the samples above refer to, created by a function of each domain
# (name -> callable(users, operation_in) run by the ``world`` fixture).
SAMPLE_SETUP: dict = {
    #
    # ---- operations (issue 4) ----
    "operations": lambda users, operation_in: __import__(
        "tests.operations.factories", fromlist=["access_setup"]
    ).access_setup(users, operation_in),
    #
    # ---- expenses (issue 5) ----
    #
    "expenses": lambda users, operation_in: __import__("tests.expenses.samples", fromlist=["setup"]).setup(users, operation_in),
    # ---- staff (issue 5) ----
    "staff": lambda users, operation_in: _staff_setup(users, operation_in),
    #
    # ---- claims (issue 6) ----
    "claims": lambda users, operation_in: _claims_samples(),
    #
    # ---- alerts (issue 7) ----
    "alerts": lambda users, operation_in: __import__("tests.alerts.factories", fromlist=["x"]).sample_world(
        users, operation_in
    ),
    #
    # ---- end ----
}


# ---- staff (issue 5) ----
def _staff_setup(users, operation_in):
    """Timesheet 1: a draft month of an hourly person on OP-IN."""
    from datetime import date
    from decimal import Decimal

    from budget_app.kernel.extensions import db
    from budget_app.staff.models import AnnualCost, Person, StaffAssignment, Timesheet

    assignment = StaffAssignment(
        operation=operation_in, method="hourly",
        person=Person(registration_number="M-1", last_name="Martin", first_name="Claire"),
    )
    db.session.add(AnnualCost(assignment=assignment, year=2023, annual_cost=Decimal("41280.00"),
                              working_share=Decimal("100"), hours_divisor=1720, hourly_rate=Decimal("24.00"),
                              computation="41 280,00 € / 1 720 h = 24,00 €/h"))
    db.session.add(Timesheet(id=1, assignment=assignment, month=date(2023, 1, 1), hours_on_operation=Decimal("120"),
                             hours_worked=Decimal("151.67"), state="draft"))
    db.session.commit()
# ---- end staff ----


# ---- claims (issue 6) ----
def _claims_samples():
    """Claim n° 1 with a line at position 1 on both sample operations (a submitted claim)."""
    from datetime import date
    from decimal import Decimal

    from budget_app.claims.models import Claim, ClaimLine
    from budget_app.expenses.models import Expense
    from budget_app.kernel.extensions import db
    from budget_app.operations.models import Operation

    for index, operation in enumerate(db.session.scalars(db.select(Operation).order_by(Operation.id)).all()):
        # Explicit ids: other domains' samples also use explicit ids (expense 1).
        expense = Expense(
            id=9001 + index, operation_id=operation.id, category="FONCTIONNEMENT", incurred_on=date(2023, 1, 5),
            paid_on=date(2023, 1, 6), supplier_name="Fournisseur", supplier_key="fournisseur", document_number="F1",
            document_key="f1", label="Fournitures", amount_excl_vat=Decimal("10.00"), vat=Decimal("0.00"),
            allocation_percent=Decimal("100"), eligible_amount=Decimal("10.00"), is_complete=True,
        )
        claim = Claim(operation_id=operation.id, number=1, period_start=date(2023, 1, 1), period_end=date(2023, 1, 31),
                      state="submitted", total_eligible=Decimal("10.00"), fse_asked=Decimal("6.00"))
        db.session.add_all([expense, claim])
        db.session.flush()
        from budget_app.claims.computation import claim_figures, figures_to_json

        figures = claim_figures({"FONCTIONNEMENT": Decimal("10.00")}, {}, Decimal("60"), operation.fse_amount)
        claim.figures = {"declared": figures_to_json(figures)}
        expense.claim_id = claim.id
        db.session.add(ClaimLine(claim_id=claim.id, position=1, kind="expense", expense_id=expense.id,
                                 category="FONCTIONNEMENT", description="Fournitures", incurred_on=date(2023, 1, 5),
                                 declared_amount=Decimal("10.00")))
    db.session.commit()
    if db.engine.dialect.name == "postgresql":  # later inserts get ids after the explicit ones
        db.session.execute(db.text("SELECT setval(pg_get_serial_sequence('expenses', 'id'), "
                                   "(SELECT max(id) FROM expenses))"))
        db.session.commit()
# ---- end claims ----


def rules(app):
    return sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule)


def test_every_endpoint_has_a_declared_policy(app):
    undeclared = sorted({rule.endpoint for rule in app.url_map.iter_rules()} - set(POLICY))
    assert undeclared == [], f"declare these endpoints in budget_app/access.py POLICY: {undeclared}"


def test_no_policy_for_an_endpoint_that_does_not_exist(app):
    stale = sorted(set(POLICY) - {rule.endpoint for rule in app.url_map.iter_rules()})
    assert stale == []


def test_undeclared_endpoint_is_refused(app, client, make_user, login):
    app.add_url_rule("/undeclared", "undeclared", lambda: "should not be served")
    login(client, make_user("admin"))
    assert client.get("/undeclared").status_code == 403


def _url(rule, operation_code):
    missing = set(rule.arguments) - set(SAMPLE_ARGUMENTS)
    assert not missing, f"add sample values for {missing} ({rule.rule}) in tests/test_access.py"
    values = {name: SAMPLE_ARGUMENTS[name] for name in rule.arguments}
    if "operation_code" in values:
        values["operation_code"] = operation_code
    return rule.build(values, append_unknown=False)[1]


def _method(rule):
    return "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]


def expected_status(endpoint, method, role, assigned=True):
    policy = POLICY[endpoint]
    if policy.public:
        if method == "GET":
            return ALLOWED_GET_STATUS.get(endpoint, {}).get(role, ALLOWED_GET_STATUS.get(endpoint, {}).get("*", 200))
        return "public-ok"
    if role is ANONYMOUS:
        return 404 if policy.hidden else "login"
    if not policy.allows(role, method):
        return 404 if policy.hidden else 403
    if not assigned and role in ASSIGNED_ONLY:
        return 404
    if method == "GET":
        overrides = ALLOWED_GET_STATUS.get(endpoint, {})
        return overrides.get(role, overrides.get("*", 200))
    return "ok"


@pytest.fixture
def world(app, make_user, make_operation):
    users = {role: make_user(role, email=f"{role}@example.org") for role in ROLES}
    members = [users[role] for role in ASSIGNED_ONLY]
    operation_in = make_operation("OP-IN", members=members)
    make_operation("OP-OUT")
    for setup in SAMPLE_SETUP.values():
        setup(users, operation_in)
    return users


@pytest.mark.parametrize("role", [ANONYMOUS, *ROLES])
def test_route_role_matrix(app, world, login, role):
    failures = []
    for rule in rules(app):
        method = _method(rule)
        cases = [("OP-IN", True)]
        if "operation_code" in rule.arguments:
            cases.append(("OP-OUT", False))
        for code, assigned in cases:
            client = app.test_client()
            if role is not ANONYMOUS:
                login(client, world[role])
            url = _url(rule, code)
            response = client.open(url, method=method)
            expected = expected_status(rule.endpoint, method, role, assigned)
            status = response.status_code
            if expected == "public-ok":
                good = status < 500 and status not in (401, 403, 404, 405)
            elif expected == "ok":
                redirected_to_login = status == 302 and "/connexion?next=" in response.headers.get("Location", "")
                good = status < 500 and status not in (401, 403, 404, 405) and not redirected_to_login
            elif expected == "login":
                good = status == 302 and "/connexion?next=" in response.headers.get("Location", "")
            else:
                good = status == expected
            if not good:
                failures.append(f"{method} {url} as {role}: got {status}, expected {expected}")
    assert failures == []

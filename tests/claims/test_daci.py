"""Conflict-of-interest declarations (DACI) and the check the claims domain calls."""
from datetime import date, timedelta

import pytest

from budget_app.claims import daci
from budget_app.claims.daci import controller_may_check
from budget_app.claims.models import DaciDeclaration
from budget_app.kernel.errors import DomainError
from budget_app.kernel.extensions import db

from .factories import declare


def _declare(user, operation=None, year=None, signed_on=None, valid_until=None, interest=False, admin=None):
    return declare(user, operation, recorded_by=admin, year=year, signed_on=signed_on or date(2026, 1, 5),
                   interest=interest, valid_until=valid_until)


@pytest.fixture
def operation(make_operation):
    return make_operation("HL-RSA-2023", title="Accompagnement socio-professionnel rSa")


def test_controller_needs_a_valid_declaration(app, make_user, operation):
    controller = make_user("controller", operations=[operation.code])
    reason = str(controller_may_check(controller, operation))
    assert "DACI" in reason and operation.code in reason
    _declare(controller, operation)
    assert controller_may_check(controller, operation) is None


def test_programme_year_declaration_covers_every_operation_of_that_year(app, make_user, operation):
    controller = make_user("controller")
    _declare(controller, year=2026)
    assert controller_may_check(controller, operation, on=date(2026, 6, 1)) is None
    assert controller_may_check(controller, operation, on=date(2027, 1, 4)) is not None


def test_expired_or_withdrawn_declaration_is_not_valid(app, make_user, operation):
    controller = make_user("controller")
    declaration = _declare(controller, operation, valid_until=date(2026, 3, 31))
    assert controller_may_check(controller, operation, on=date(2026, 3, 31)) is None
    assert controller_may_check(controller, operation, on=date(2026, 4, 1)) is not None
    declaration.valid_until = None
    daci.withdraw_declaration(declaration, on=date(2026, 6, 1))
    db.session.commit()
    assert controller_may_check(controller, operation, on=date(2026, 5, 31)) is None
    assert controller_may_check(controller, operation, on=date(2026, 6, 1)) is not None


def test_declared_interest_recuses(app, make_user, operation, make_operation):
    controller = make_user("controller")
    other = make_operation("OP-2")
    _declare(controller, year=2026)
    _declare(controller, operation, interest=True)
    reason = str(controller_may_check(controller, operation, on=date(2026, 6, 1)))
    assert "déport" in reason
    assert controller_may_check(controller, other, on=date(2026, 6, 1)) is None


def test_declaration_rules(app, make_user, operation):
    controller = make_user("controller")
    with pytest.raises(DomainError):
        _declare(controller)  # neither operation nor year
    with pytest.raises(DomainError):
        _declare(controller, operation, year=2026)
    with pytest.raises(DomainError, match="opération précise"):
        _declare(controller, year=2026, interest=True)
    with pytest.raises(DomainError, match="validité"):
        _declare(controller, operation, valid_until=date(2025, 1, 1))
    with pytest.raises(DomainError, match="futur"):
        _declare(controller, operation, signed_on=daci.today() + timedelta(days=1))


def test_register_page_lists_declarations_and_missing_ones(app, make_user, login, operation, make_operation):
    covered = make_user("controller", email="covered@example.org", operations=[operation.code])
    uncovered = make_user("controller", email="missing@example.org", operations=[operation.code])
    _declare(covered, year=daci.today().year)
    admin = make_user("admin")
    client = login(app.test_client(), admin)
    page = client.get("/daci").get_data(as_text=True)
    missing = page.split('data-testid="daci-missing"')[1].split("<h2>")[0]
    assert "missing@example.org" in missing and "covered@example.org" not in missing
    assert "covered@example.org" in page.split('data-testid="daci-register"')[1]
    # An admin records a declaration through the form.
    response = client.post("/daci/nouvelle", data={
        "user_id": uncovered.id,
        "operation_id": operation.id, "signed_on": "2026-01-10",
    })
    assert response.status_code == 302
    assert "missing@example.org" not in client.get("/daci").get_data(as_text=True).split('data-testid="daci-missing"')[1].split("<h2>")[0]
    assert db.session.scalar(db.select(db.func.count(DaciDeclaration.id))) == 2
    # Interest without description is refused with a message.
    response = client.post("/daci/nouvelle", data={"user_id": covered.id, "operation_id": operation.id,
                                                   "signed_on": "2026-01-10", "has_interest": "y"})
    assert response.status_code == 400 and "Décrivez" in response.get_data(as_text=True)


@pytest.mark.parametrize("role, status", [("auditor", 200), ("antifraud_referent", 200), ("admin", 200),
                                          ("controller", 403), ("finance_officer", 403)])
def test_register_page_roles(app, make_user, login, role, status):
    client = login(app.test_client(), make_user(role))
    assert client.get("/daci").status_code == status
    if role == "auditor":
        assert client.get("/daci/nouvelle").status_code == 403


def test_missing_cli(app, runner, make_user, operation):
    make_user("controller", email="c@example.org", operations=[operation.code])
    result = runner.invoke(args=["daci", "missing"])
    assert "HL-RSA-2023  c@example.org" in result.output and "1 déclaration(s) manquante(s)" in result.output


def test_missing_declarations_follow_the_rule_of_each_pair(app, make_user, make_operation, operation):
    """The controllers assigned to HL-RSA-2023 or PLIE-2024 on 01/06/2026, each with one
    kind of declaration: its operation's (covers that operation only), the 2026 programme
    year's (covers both), 2025's, expired on 31/05, withdrawn on 01/06 (no longer in force),
    withdrawn on 02/06 (still in force), signed on 02/06 (not yet). Read at once, the pairs
    left without a declaration are those the per-pair rule (declarations_covering) finds."""
    other = make_operation("PLIE-2024", title="PLIE")
    on = date(2026, 6, 1)
    kinds = {
        "own": {"operation": operation}, "year": {"year": 2026}, "last-year": {"year": 2025},
        "expired": {"operation": operation, "valid_until": date(2026, 5, 31)},
        "withdrawn": {"operation": operation}, "withdrawn-later": {"operation": operation},
        "future": {"operation": operation, "signed_on": date(2026, 6, 2)}, "none": None,
    }
    people = {}
    for name, kind in kinds.items():
        people[name] = make_user("controller", email=f"{name}@example.org", operations=[operation.code, other.code])
        if kind is not None:
            declaration = _declare(people[name], **kind)
            if name.startswith("withdrawn"):
                daci.withdraw_declaration(declaration, on=on if name == "withdrawn" else on + timedelta(days=1))
    db.session.commit()
    found = {(user.email.split("@")[0], op.code) for user, op in daci.missing_declarations(on)}
    expected = {(name, op.code) for name, user in people.items() for op in (operation, other)
                if not daci.declarations_covering(user.id, op.id, on)}
    assert found == expected
    assert ("own", "PLIE-2024") in found and ("own", "HL-RSA-2023") not in found
    assert not any(name == "year" for name, _code in found)
    assert {("withdrawn", "HL-RSA-2023"), ("future", "HL-RSA-2023"), ("expired", "HL-RSA-2023")} <= found
    assert ("withdrawn-later", "HL-RSA-2023") not in found

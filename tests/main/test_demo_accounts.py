"""`flask seed`: one demo account per role with a random password printed once; a second
run changes nothing and says so; production refuses to start while demo accounts are active."""
import re

import pytest
from sqlalchemy import select

from budget_app.accounts.models import User
from budget_app.accounts.passwords import verify_password
from budget_app.accounts.roles import ROLES
from budget_app.accounts.services import find_user
from budget_app.kernel.extensions import db
from budget_app.seed import DEMO_ACCOUNTS, assert_ready_for_production, demo_email

LINE = re.compile(r"^\s+(\w+)\s+(\S+@demo\.budget-fse\.invalid)\s+(\S+)$", re.M)


def test_first_seed_prints_each_demo_account_once_with_a_working_password(app, runner):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    printed = LINE.findall(first.output)
    # One per role, and a second finance officer (four-eyes approval of timesheets).
    assert sorted(role for role, _, _ in printed) == sorted(ROLES + ("finance_officer",))
    passwords = {password for _, _, password in printed}
    assert len(passwords) == len(DEMO_ACCOUNTS) and all(len(password) >= 16 for password in passwords)
    for role, email, password in printed:
        assert (role, email) in {(r, e) for r, e, _n in DEMO_ACCOUNTS}
        user = find_user(email)
        assert verify_password(user, password) and user.is_demo and user.role == role
        # Stored only as an argon2 hash.
        assert password not in user.password_hash and user.password_hash.startswith("$argon2id$")

    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0
    assert LINE.findall(second.output) == []
    assert "rien à faire" in second.output
    assert db.session.scalar(select(db.func.count()).select_from(User)) == len(DEMO_ACCOUNTS)


def test_production_refuses_to_start_while_a_demo_account_is_active(app, runner):
    runner.invoke(args=["seed"])
    app.config["BUDGET_APP_ENV"] = "production"
    with pytest.raises(RuntimeError, match="demo accounts are active"):
        assert_ready_for_production(app)
    for _role, email, _number in DEMO_ACCOUNTS:
        result = runner.invoke(args=["users", "disable", email])
        assert result.exit_code == 0, result.output
    assert_ready_for_production(app)  # no exception once they are all disabled


def test_the_demo_controller_can_check_the_demo_operations_at_once(app, runner):
    from budget_app.claims.daci import controller_may_check
    from budget_app.operations.services import find_operation

    assert runner.invoke(args=["seed"]).exit_code == 0
    controller = find_user(demo_email("controller"))
    for code in ("HL-RSA-2023", "LOT-2019-ACI"):
        assert controller_may_check(controller, find_operation(code)) is None, code
    officer = find_user(demo_email("finance_officer"))
    assert controller_may_check(officer, find_operation("HL-RSA-2023")) is not None
    # LOT-2019-ACI is open (its final bilan is still to settle): expenses may be entered.
    assert find_operation("LOT-2019-ACI").status == "running"

"""Hooks (issue 20, point 3): wired in ``create_app`` only, one answer each (a second one is
refused), and an unwired hook fails closed; whether a line is frozen is its marks, never a
hook, so a line declared in a bilan stays frozen when no hook answers at all."""
import ast
from datetime import date
from pathlib import Path

import pytest

import budget_app
from budget_app.expenses.services import delete_expense, frozen_reason
from budget_app.kernel.errors import Conflict, DomainError
from budget_app.kernel.extensions import db
from budget_app.kernel.hooks import Hook, HookAlreadyRegistered
from budget_app.marks import hooks as marks_hooks
from budget_app.marks.services import declare
from budget_app.operations import hooks as operations_hooks
from budget_app.staff.lifecycle import changeable_problem
from tests.expenses.factories import make_expense
from tests.staff.factories import make_staff_line

PACKAGE = Path(budget_app.__file__).resolve().parent


def test_a_second_answer_is_refused_and_the_same_one_changes_nothing():
    hook = Hook("test.answer", closed=lambda: "closed")
    assert hook() == "closed"

    def first():
        return "first"

    def second():
        return "second"

    hook.register(first)
    hook.register(first)  # a second create_app
    with pytest.raises(HookAlreadyRegistered):
        hook.register(second)
    assert hook() == "first"


def test_every_hook_is_wired_by_create_app_and_by_no_import(app):
    """No module registers an answer as a side effect of being imported (no ``@x.register``
    decorator, no call at module level): ``create_app`` wires each hook of ``HOOKS``."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            decorators = getattr(node, "decorator_list", [])
            for decorator in decorators:
                if isinstance(decorator, ast.Attribute) and decorator.attr == "register":
                    found.append(f"{path.name}:{node.lineno}")
        for statement in tree.body:
            call = statement.value if isinstance(statement, ast.Expr) else None
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "register":
                found.append(f"{path.name}:{statement.lineno}")
    assert found == []
    assert all(hook.registered for hook, _answer in budget_app.HOOKS)


@pytest.fixture
def unwired(monkeypatch):
    """Every hook as if ``create_app`` had wired nothing."""
    for hook, _answer in budget_app.HOOKS:
        monkeypatch.setattr(hook, "_answer", None)


def test_an_unwired_hook_gives_its_closed_answer(app, unwired):
    # Retention: extended (nothing is purged) rather than over.
    assert operations_hooks.retention_extended(1) is True
    assert marks_hooks.held_reasons_for_referent("expense", [1]) == {}


def test_with_no_hook_wired_a_declared_line_is_still_frozen(app, make_operation, unwired):
    """The rule "a declared line is frozen" is data (its mark): with no hook answering, an
    expense and a staff line declared in bilan 7 cannot be deleted or changed."""
    operation = make_operation("HL-RSA-2023")
    expense = make_expense(operation, "12.00", incurred_on=date(2023, 1, 5))
    line = make_staff_line(operation, "100.00")
    declare("expense", [expense.id], 7, Conflict(""))
    declare("staff_cost_line", [line.id], 7, Conflict(""))
    db.session.commit()
    assert frozen_reason(expense) is not None
    with pytest.raises(DomainError):
        delete_expense(expense, "erreur")
    db.session.rollback()
    assert changeable_problem(line.timesheet) is not None
    assert db.session.get(type(expense), expense.id).deleted_at is None

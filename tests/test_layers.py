"""The architecture, checked on the source: the layer order (import-linter contracts in
pyproject.toml), modules small enough to say where a rule lives, no import hidden in a
function to dodge the order, roles compared in one place only."""
import ast
import re
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "budget_app"
MAX_LINES = 400


def python_sources():
    return sorted(path for path in PACKAGE.rglob("*.py"))


def test_import_contracts_are_kept(capsys):
    exit_code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    assert exit_code == 0, capsys.readouterr().out


def test_modules_are_at_most_400_lines():
    too_long = [
        f"{path.relative_to(ROOT)} ({count} lines)"
        for path in python_sources()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert too_long == []


def test_no_application_import_inside_a_function():
    """Imports of the application's own modules are at the top of each module: one hidden in
    a function would dodge the layer contracts. (Third-party libraries may be loaded lazily.)"""
    found = []
    for path in python_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in (node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))):
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("budget_app")):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
                elif isinstance(node, ast.Import) and any(a.name.startswith("budget_app") for a in node.names):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


def test_no_dynamic_import_between_domains():
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in python_sources()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"\bimport_module\(|__import__\(", line)
    ]
    assert found == []


def test_roles_are_compared_in_the_access_policy_only():
    """Views and templates ask ``may(endpoint)``; only the accounts package names roles in
    conditions (the policy, the assignment rule, the roles themselves)."""
    # A user's role in a condition (``User.role`` in a query selects people, it decides nothing).
    role_test = re.compile(r"""(?<!User)\.role\s*(==|!=|in\b|not in\b)|role\s*==\s*["']""")
    found = []
    for path in python_sources():
        if path.parent.name == "accounts":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if role_test.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if re.search(r"current_user\.role\s*(==|!=|in\b)", line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []


def test_participants_sit_beside_expenses_and_staff_and_alerts_never_see_them():
    """Participants §5: the participants domain knows operations and accounts; claims and
    reporting read its counts; the alerts domain never imports it."""
    import tomllib

    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    layers = next(contract for contract in contracts if contract["type"] == "layers")["layers"]
    assert "expenses | staff | participants" in layers
    assert any(contract["type"] == "forbidden" and contract["source_modules"] == ["budget_app.alerts"]
               and "budget_app.participants" in contract["forbidden_modules"] for contract in contracts)

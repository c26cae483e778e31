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


# A role compared anywhere: an attribute (``user.role ==``, ``User.role.in_(...)`` in a
# query, ``current_user.role in``), or a role name on either side of a comparison.
ROLE_NAMES = r"(?:ADMIN|FINANCE_OFFICER|CONTROLLER|ANTIFRAUD_REFERENT|AUDITOR|ASSIGNED_ONLY"
ROLE_NAMES += r"|['\"](?:admin|finance_officer|controller|antifraud_referent|auditor)['\"])"
ROLE_COMPARISON = re.compile(
    r"\.role\s*(?:==|!=|\bin\b|\bnot\s+in\b|\.(?:in_|notin_|is_|isnot|is_not|__eq__)\s*\()"
    r"|(?:==|!=)\s*" + ROLE_NAMES + r"\b"
    r"|\bin\s*[\(\[\{]?\s*" + ROLE_NAMES + r"\b"
    r"|" + ROLE_NAMES + r"\s*(?:==|!=)"
)
POLICY_MODULE = PACKAGE / "accounts" / "policy.py"


def role_comparisons(path: Path) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if ROLE_COMPARISON.search(line)
    ]


def test_roles_are_compared_in_the_access_policy_only():
    """Only ``accounts/policy.py`` decides who may do what: views, services, queries, the seed
    and templates ask it (``may(endpoint)``, ``limited_to_assignments(user)``,
    ``service_done_checkers()``...) instead of comparing role names."""
    sources = [path for path in python_sources() if path != POLICY_MODULE]
    sources += sorted((ROOT / "templates").rglob("*.html"))
    found = [hit for path in sources for hit in role_comparisons(path)]
    assert found == []


def test_the_role_guard_sees_every_shape_of_comparison():
    """The guard is not blind: each line below compares a role and must be caught (the old
    guard skipped ``User.role``), the last two only name roles and must not be."""
    caught = [
        "select(User).where(User.role == CONTROLLER)",
        "User.role.in_((CONTROLLER, ADMIN))",
        "if user.role in ASSIGNED_ONLY:",
        "if role in (FINANCE_OFFICER, CONTROLLER):",
        "if role == CONTROLLER:",
        "{% if user.role in ('finance_officer', 'controller') %}",
        "{% if current_user.role == 'admin' %}",
        "if 'auditor' != role:",
    ]
    ignored = ["for role in ROLES:", "{{ role_label(user.role) }}"]
    hits = [bool(ROLE_COMPARISON.search(line)) for line in caught + ignored]
    assert hits == [True] * len(caught) + [False] * len(ignored)


def test_participants_sit_beside_expenses_and_staff_and_alerts_never_see_them():
    """Participants §5: the participants domain knows operations and accounts; claims and
    reporting read its counts; the alerts domain never imports it."""
    import tomllib

    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    layers = next(contract for contract in contracts if contract["type"] == "layers")["layers"]
    assert "expenses | staff | participants" in layers
    assert any(contract["type"] == "forbidden" and contract["source_modules"] == ["budget_app.alerts"]
               and "budget_app.participants" in contract["forbidden_modules"] for contract in contracts)

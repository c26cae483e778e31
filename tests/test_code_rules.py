"""Rules checked on the source itself (ASVS 5.3.3, 5.3.4; money never float)."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sources(pattern):
    return [(path, path.read_text(encoding="utf-8")) for path in sorted(ROOT.glob(pattern))]


def offending(pattern, regex):
    found = []
    for path, text in sources(pattern):
        for number, line in enumerate(text.splitlines(), start=1):
            if re.search(regex, line) and not line.lstrip().startswith("#"):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


def test_templates_never_mark_data_safe():
    assert offending("templates/**/*.html", r"\|\s*safe\b") == []


def test_no_markup_built_from_data_in_code():
    assert offending("budget_app/**/*.py", r"\bMarkup\(") == []


def test_sql_is_never_built_with_f_strings():
    assert offending("budget_app/**/*.py", r"""(text|execute|exec_driver_sql)\(\s*f["']""") == []


def test_money_is_never_float():
    assert offending("budget_app/**/*.py", r"\bFloat\b|\bfloat\(") == []

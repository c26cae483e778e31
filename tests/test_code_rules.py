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


# Rounding and the money constants live in kernel/money only (issue 20, point 4): a bare
# ``.quantize(`` would round half-even by default, and a local ZERO or HUNDRED drifts.
MONEY_MODULE = "budget_app/kernel/money.py"
BARE_QUANTIZE = r"\.quantize\(|\bROUND_[A-Z_]+\b"
LOCAL_MONEY_CONSTANT = r"^\s*\w*(ZERO|HUNDRED|CENT)\w*\s*(:\s*\w+\s*)?=\s*Decimal\("


def outside_money(found):
    return [line for line in found if not line.startswith(MONEY_MODULE + ":")]


def test_rounding_goes_through_kernel_money():
    assert outside_money(offending("budget_app/**/*.py", BARE_QUANTIZE)) == []


def test_no_local_money_constant():
    assert outside_money(offending("budget_app/**/*.py", LOCAL_MONEY_CONSTANT)) == []


def test_the_money_rules_see_what_they_forbid():
    """The two patterns above catch the shapes the issue found (so the tests can fail)."""
    assert re.search(BARE_QUANTIZE, 'return (a * b).quantize(Decimal("0.01"))')
    assert re.search(BARE_QUANTIZE, "x.quantize(SHOWN, rounding=ROUND_HALF_UP)")
    assert not re.search(BARE_QUANTIZE, "return quantize(base * rate / HUNDRED)")
    for line in ('ZERO = Decimal("0.00")', "HUNDRED = Decimal(100)", 'CENT = Decimal("0.01")',
                 '_ZERO = Decimal("0")'):
        assert re.search(LOCAL_MONEY_CONSTANT, line), line
    assert not re.search(LOCAL_MONEY_CONSTANT, "MAX_MONTH_HOURS = Decimal(744)")

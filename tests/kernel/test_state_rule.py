"""A record's state moves only along its declared table (``kernel/transitions.py``): no
module assigns a state by hand (the timesheet imports and form did, ``sheet.state =
"submitted"`` / ``"draft"``; the amendment decisions did, ``request.state = state``).
A new record is written in its table's first state (``state="draft"`` when created)."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = re.compile(r"\b(?!filters\b)\w+\.state\s*=(?!=)")


def test_no_state_is_assigned_outside_the_transition_helper():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "budget_app").rglob("*.py"))
        if path.name != "transitions.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if ASSIGNMENT.search(line)
    ]
    assert found == []


def test_the_rule_sees_an_assignment():
    assert ASSIGNMENT.search('        sheet.state = "submitted"')
    assert ASSIGNMENT.search("    request.state = state")
    assert not ASSIGNMENT.search('    if sheet.state == "approved":')
    assert not ASSIGNMENT.search("        filters.state = form.state.data")

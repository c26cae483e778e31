"""Keyboard only (issue 14): batch approval of timesheets and a control decision, with
Tab, Space and Enter; after a refused decision, focus lands on the field in error."""
import re
from datetime import date

import pytest

pytestmark = pytest.mark.browser

DEMO = re.compile(r"^\s+(\w+)\s+(\S+@demo\.budget-fse\.invalid)\s+(\S+)$", re.M)


def tab_to(page, selector, limit=250):
    """Press Tab until ``selector`` has the focus (as a keyboard user would)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never reached with Tab")


def log_in(page, live_server, email, password):
    page.goto(f"{live_server}/connexion")
    tab_to(page, "input[name=email]")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_batch_approval_by_keyboard_keeps_the_month(page, live_server, runner):
    output = runner.invoke(args=["seed"]).output
    officers = [(email, password) for role, email, password in DEMO.findall(output) if role == "finance_officer"]
    assert len(officers) == 2
    assert runner.invoke(args=["staff", "import", "HL-RSA-2023", "fixtures/examples/personnel-exemple.csv"]).exit_code == 0
    assert runner.invoke(args=["timesheets", "import", "HL-RSA-2023", "fixtures/examples/temps-exemple.csv"]).exit_code == 0
    log_in(page, live_server, *officers[1])
    page.goto(f"{live_server}/operations/HL-RSA-2023/fiches-de-temps?mois=2023-01")
    boxes = page.locator("[data-testid^=tick-]")
    count = boxes.count()
    assert count >= 2
    for index in range(count):
        tab_to(page, "input[name=fiche]:not(:checked)")
        page.keyboard.press("Space")
    tab_to(page, "#batch-approve button")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/fiches-de-temps?mois=2023-01")
    assert f"{count} fiches approuvées" in page.inner_text(".flashes")
    assert page.locator("tr[data-state=submitted]").count() == 0

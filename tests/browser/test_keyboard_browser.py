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


def test_batch_approval_by_keyboard_keeps_the_month(page, live_server, runner, tmp_path):
    output = runner.invoke(args=["seed"]).output
    officers = [(email, password) for role, email, password in DEMO.findall(output) if role == "finance_officer"]
    assert len(officers) == 2
    # The seed holds the example staff with January and February approved: March is entered
    # (submitted) by command, so the second officer has two sheets to approve.
    march = tmp_path / "temps-mars.csv"
    march.write_text("Matricule;Mois;Heures sur l'opération;Heures travaillées;Coût mensuel chargé\n"
                     "HL-0412;2023-03;120;151,67;\nHL-0587;2023-03;137,5;151,67;\n", encoding="utf-8")
    assert runner.invoke(args=["timesheets", "import", "HL-RSA-2023", str(march)]).exit_code == 0
    log_in(page, live_server, *officers[1])
    page.goto(f"{live_server}/operations/HL-RSA-2023/fiches-de-temps?mois=2023-03")
    boxes = page.locator("[data-testid^=tick-]")
    count = boxes.count()
    assert count >= 2
    for index in range(count):
        tab_to(page, "input[name=fiche]:not(:checked)")
        page.keyboard.press("Space")
    tab_to(page, "#batch-approve button")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/fiches-de-temps?mois=2023-03")
    assert f"{count} fiches approuvées" in page.inner_text(".flashes")
    assert page.locator("tr[data-state=submitted]").count() == 0

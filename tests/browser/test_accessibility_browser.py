"""Accessibility (issue 14): axe-core (WCAG 2.1 A and AA rules) on the main pages, as the demo
accounts see them, at 1366 px and 390 px, in French and English; no page scrolls sideways
at 390 px; the skip link is the first stop of the keyboard."""
import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from budget_app.accounts.services import find_user
from budget_app.kernel.extensions import db
from tests.browser.conftest import pass_second_factor

pytestmark = pytest.mark.browser

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
        "resultTypes": ["violations"]}
DEMO = re.compile(r"^\s+(\w+)\s+(\S+@demo\.budget-fse\.invalid)\s+(\S+)$", re.M)
OFFICER_PAGES = [
    "/", "/operations/", "/operations/HL-RSA-2023/", "/operations/HL-RSA-2023/tableau-de-bord",
    "/operations/HL-RSA-2023/depenses", "/operations/HL-RSA-2023/depenses/nouvelle",
    "/operations/LOT-2019-ACI/depenses/nouvelle", "/operations/LOT-2019-ACI/depenses/import",
    "/operations/HL-RSA-2023/personnel", "/operations/HL-RSA-2023/personnel/import",
    "/operations/HL-RSA-2023/fiches-de-temps", "/operations/HL-RSA-2023/lignes-de-personnel",
    "/operations/HL-RSA-2023/demandes/?month=2023-01", "/operations/HL-RSA-2023/avenant", "/operations/HL-RSA-2023/unites",
    "/operations/HL-RSA-2023/unites/import", "/depenses", "/demandes",
    "/a-faire",
]
ADMIN_PAGES = ["/admin/utilisateurs", "/enveloppes/", "/journal", "/daci", "/conservation", "/a-faire"]
PUBLIC_PAGES = ["/connexion", "/signalement"]


@pytest.fixture
def demo(app, runner):
    output = runner.invoke(args=["seed"]).output
    accounts = {}
    for role, email, password in DEMO.findall(output):
        accounts.setdefault(role, (email, password))  # the first finance officer
    return accounts


def _violations(page, axe):
    results = axe.run(page, options=WCAG)
    return [f"{page.url}: {v['id']} ({v['impact']}) {v['help']} — "
            + "; ".join(node["target"][0] for node in v["nodes"][:3]) for v in results.response["violations"]]


def _sideways(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")


def _visit(page, live_server, paths, width, found, sideways):
    page.set_viewport_size({"width": width, "height": 900})
    axe = Axe()
    for path in paths:
        response = page.goto(live_server + path)
        assert response.status in (200, 409), (path, response.status)
        found.extend(_violations(page, axe))
        if width < 500 and _sideways(page):
            wide = page.evaluate("""Array.from(document.querySelectorAll('main *')).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))""")
            sideways.append(f"{path} at {width} px: {wide}")


def _log_in(page, live_server, email, password):
    page.goto(f"{live_server}/connexion")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main button.primary")
    page.wait_for_load_state()
    pass_second_factor(page, live_server, email)


@pytest.mark.parametrize("width", [1366, 390])
def test_main_pages_have_no_wcag_violation_and_no_sideways_scroll(page, live_server, demo, width):
    found, sideways = [], []
    _visit(page, live_server, PUBLIC_PAGES, width, found, sideways)
    _log_in(page, live_server, *demo["finance_officer"])
    _visit(page, live_server, OFFICER_PAGES, width, found, sideways)
    page.context.clear_cookies()
    _log_in(page, live_server, *demo["admin"])
    _visit(page, live_server, ADMIN_PAGES, width, found, sideways)
    assert not found, "\n".join(found)
    assert not sideways, sideways


def test_english_pages_have_no_wcag_violation(page, live_server, demo):
    email, password = demo["finance_officer"]
    find_user(email).locale = "en"
    db.session.commit()
    found, sideways = [], []
    _log_in(page, live_server, email, password)
    units = ["/operations/HL-RSA-2023/unites", "/operations/HL-RSA-2023/unites/import"]
    _visit(page, live_server, OFFICER_PAGES[:8] + units, 1366, found, sideways)
    assert not found, "\n".join(found)


def test_the_skip_link_comes_first_and_focus_is_visible(page, live_server, demo):
    _log_in(page, live_server, *demo["finance_officer"])
    page.goto(f"{live_server}/operations/HL-RSA-2023/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineWidth")
    assert outline == "3px"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#content"


def test_the_checker_does_see_a_violation(page, live_server):
    """The axe run above is live: an image without text alternative is reported."""
    page.goto(f"{live_server}/connexion")
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/static/css/app.css\">')")
    assert any("image-alt" in line for line in _violations(page, Axe()))

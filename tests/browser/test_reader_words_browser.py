"""Issue 26 in a browser (Debian's Chromium), at 1366 px and 390 px, in French and English:
amounts typed as the page prints them, admin forms that keep what was typed and name each
field's problem, messages naming only what is missing, the referent's log in sentences,
controls beside their labels and row actions reachable on a phone; axe (WCAG 2.1 A/AA) on
every page state visited, error states included; no page wider than the screen."""
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select

from budget_app.accounts.services import find_user
from budget_app.kernel.extensions import db
from budget_app.operations.models import Envelope
from tests.browser.conftest import pass_second_factor

pytestmark = pytest.mark.browser

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
        "resultTypes": ["violations"]}
DEMO = re.compile(r"^\s+(\w+)\s+(\S+@demo\.budget-fse\.invalid)\s+(\S+)$", re.M)
# What the page prints, typed back (an envelope of 1 250 000,50 €).
AMOUNT = {"fr": "1 250 000,50", "en": "1,250,000.50"}
WORDS = {
    "fr": {"amount": "n'est pas un montant valide", "code": "sans espace", "created": "Enveloppe ENV-{w} créée",
           "operations": "Aucune opération n'a ce code : NOPE-1.", "missing": "il manque"},
    "en": {"amount": "is not a valid amount", "code": "no space", "created": "Envelope ENV-{w} created",
           "operations": "No operation has this code: NOPE-1.", "missing": "missing"},
}


@pytest.fixture
def demo(app, runner):
    output = runner.invoke(args=["seed"]).output
    accounts = {}
    for role, email, password in DEMO.findall(output):
        accounts.setdefault(role, (email, password))
    return accounts


def _log_in(page, live_server, email, password, locale):
    user = find_user(email)
    user.locale = locale
    db.session.commit()
    page.context.clear_cookies()
    page.goto(f"{live_server}/connexion")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("main button.primary")
    page.wait_for_load_state()
    pass_second_factor(page, live_server, email)


class Checks:
    """axe, page width, row actions within the screen, controls beside their labels."""

    def __init__(self, page, width):
        self.page, self.width, self.axe, self.found = page, width, Axe(), []

    def __call__(self, what):
        page = self.page
        for violation in self.axe.run(page, options=WCAG).response["violations"]:
            self.found.append(f"{what}: axe {violation['id']} " + "; ".join(n["target"][0] for n in violation["nodes"][:3]))
        if self.width >= 500:
            return
        if page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1"):
            self.found.append(f"{what}: the page is wider than {self.width} px")
        # Every button and link-button of the page's content lies within the screen, without
        # scrolling anything sideways (a table's region included).
        outside = page.evaluate("""Array.from(document.querySelectorAll('main button, main .button, main select'))
            .filter(e => e.offsetParent !== null)
            .filter(e => { const r = e.getBoundingClientRect(); return r.right > window.innerWidth + 1 || r.left < -1; })
            .slice(0, 5).map(e => (e.textContent || e.name || e.tagName).trim().slice(0, 30) + ' ' + Math.round(e.getBoundingClientRect().right))""")
        if outside:
            self.found.append(f"{what}: out of the screen {outside}")
        # A check box or radio button sits on the line of its label.
        apart = page.evaluate("""Array.from(document.querySelectorAll('main input[type=checkbox], main input[type=radio]'))
            .filter(e => e.offsetParent !== null)
            .map(e => [e, e.labels && e.labels[0]]).filter(([e, l]) => l)
            .filter(([e, l]) => { const a = e.getBoundingClientRect(), b = l.getBoundingClientRect();
                const rects = l.getClientRects(); const first = rects.length ? rects[0] : b;
                return Math.abs((a.top + a.bottom) / 2 - (first.top + first.bottom) / 2) > first.height; })
            .slice(0, 5).map(([e, l]) => l.textContent.trim().slice(0, 40))""")
        if apart:
            self.found.append(f"{what}: controls away from their labels {apart}")


@pytest.mark.parametrize("locale", ["fr", "en"])
@pytest.mark.parametrize("width", [1366, 390])
def test_admin_and_officer_forms_in_the_reader_words(page, live_server, demo, width, locale):
    words = WORDS[locale]
    page.set_viewport_size({"width": width, "height": 900})
    check = Checks(page, width)
    page.goto(f"{live_server}/signalement")
    check("signalement")

    _log_in(page, live_server, *demo["admin"], locale)
    page.goto(f"{live_server}/enveloppes/")
    page.fill("#env-code", "HL FSE")
    page.fill("#env-name", "Enveloppe de test")
    page.fill("#env-org", "PLIE de test")
    page.fill("#env-amount", "2,4 M€")
    page.fill("#env-start", "2027-12-31")
    page.fill("#env-end", "2021-01-01")
    page.get_by_test_id("envelope-form").locator("button[type=submit]").click()
    page.wait_for_load_state()
    check("envelope refused")
    assert page.input_value("#env-code") == "HL FSE" and page.input_value("#env-amount") == "2,4 M€"
    assert words["amount"] in page.inner_text("#env-amount-error")
    assert words["code"] in page.inner_text("#env-code-error") and "envelope." not in page.content()
    page.fill("#env-code", f"ENV-{width}")
    page.fill("#env-amount", AMOUNT[locale])
    page.fill("#env-start", "2021-01-01")
    page.fill("#env-end", "2027-12-31")
    page.get_by_test_id("envelope-form").locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert words["created"].format(w=width) in page.inner_text("main")
    db.session.rollback()  # the server's writes, seen from here
    assert str(db.session.scalar(select(Envelope.fse_amount).where(Envelope.code == f"ENV-{width}"))) == "1250000.50"
    check("envelope created")

    page.goto(f"{live_server}/admin/utilisateurs")
    page.fill("#email", f"new-{width}-{locale}@example.org")
    page.select_option("#role", "finance_officer")
    page.fill("#operations", "NOPE-1")
    page.get_by_test_id("invite-form").locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert words["operations"] in page.inner_text("#operations-error")
    assert page.input_value("#email") == f"new-{width}-{locale}@example.org"
    check("account refused")

    _log_in(page, live_server, *demo["finance_officer"], locale)
    for path in ("/operations/HL-RSA-2023/fiches-de-temps", "/operations/LOT-2019-ACI/depenses/nouvelle"):
        page.goto(live_server + path)
        check(path)
    page.fill("#amount_excl_vat", "1,25" if locale == "en" else "1.250")  # ambiguous on that page
    page.get_by_test_id("save-expense").click()
    page.wait_for_load_state()
    check("expense refused")
    assert page.input_value("#amount_excl_vat") in ("1,25", "1.250")
    assert ("ambigu" if locale == "fr" else "ambiguous") in page.inner_text("main")
    page.goto(f"{live_server}/operations/HL-RSA-2023/avenant")
    page.fill("#fse_amount", "abc")
    page.locator("main form button.primary").last.click()
    page.wait_for_load_state()
    check("amendment refused")
    assert words["amount"] in page.inner_text("main")
    assert not check.found, "\n".join(check.found)


def test_an_admin_form_by_keyboard_only(page, live_server, demo):
    """Tab to the envelope form's first field, type each field, Enter: created."""
    page.set_viewport_size({"width": 1366, "height": 900})
    _log_in(page, live_server, *demo["admin"], "fr")
    page.goto(f"{live_server}/enveloppes/")
    for _step in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "env-code":
            break
    else:
        pytest.fail("the envelope's code field is not reachable by keyboard")
    for text in ("ENV-KEY", "Enveloppe clavier", "PLIE clavier", "10 000,00"):
        page.keyboard.type(text)
        page.keyboard.press("Tab")
    for text in ("01/01/2021", "31/12/2027"):  # days as the French pages print them
        page.keyboard.type(text)
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Créer l'enveloppe", \
        page.evaluate("document.activeElement.outerHTML")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "Enveloppe ENV-KEY créée" in page.inner_text("main"), [page.inner_text(e) for e in ("#new-envelope + p", "main")][:1] + page.locator("main .error").all_inner_texts()
    db.session.rollback()  # the server's writes, seen from here
    envelope = db.session.scalar(select(Envelope).where(Envelope.code == "ENV-KEY"))
    assert str(envelope.fse_amount) == "10000.00" and envelope.start_date.isoformat() == "2021-01-01"


@pytest.mark.parametrize("locale", ["fr", "en"])
@pytest.mark.parametrize("width", [1366, 390])
def test_the_referent_page_and_log(page, live_server, demo, width, locale):
    """The referent's alert page fits the screen (its selects included) and its log reads as
    sentences with names, never « user:4 » or « from_state »."""
    from budget_app.operations.services import find_operation
    from tests.alerts.factories import file_alert

    alert, _secret = file_alert(operation=find_operation("HL-RSA-2023"))
    page.set_viewport_size({"width": width, "height": 900})
    _log_in(page, live_server, *demo["antifraud_referent"], locale)
    page.goto(f"{live_server}/referent/signalements/{alert.reference}")
    check = Checks(page, width)
    check("referent's alert")
    form = page.get_by_test_id("transition-acknowledged")
    form.locator("textarea[name=reason]").fill("Recevable")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    check("referent's alert acknowledged")
    log = page.get_by_test_id("alert-log").inner_text()
    assert "user:" not in log and "from_state" not in log and "transmitted_to" not in log
    if locale == "fr":
        assert "Signalement reçu par une commande du serveur." in log  # filed by the test, outside a request
        assert "Référent anti-fraude (démo) a fait passer le signalement de « Reçu » à « Accusé de réception envoyé »" in log
    else:
        assert "Alert received through a server command." in log
        assert "moved the alert from “Received” to" in log
    assert not check.found, "\n".join(check.found)

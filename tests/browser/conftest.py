"""Browser tests: Playwright driving Debian's Chromium (/usr/bin/chromium, installed by
`make test`) against the app served by a real HTTP server in a thread."""
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]


@pytest.fixture
def live_server(app):
    """The test app on 127.0.0.1:<free port>, with CSRF protection on as in production."""
    app.config["WTF_CSRF_ENABLED"] = True
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, tmp_path):
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def pass_second_factor(page, live_server, email):
    """After the password: the second factor as a person gives it (enrolled first for an
    admin or a referent who has none), with the code their phone would show."""
    if "/connexion/" not in page.url:
        return
    from budget_app.accounts import second_factor
    from budget_app.accounts.services import find_user
    from budget_app.kernel.extensions import db
    from tests.conftest import current_code, enrol

    db.session.expire_all()
    user = find_user(email)
    if not second_factor.enabled(user):
        enrol(user)
        page.goto(f"{live_server}/connexion/code")
    page.fill("input[name=code]", current_code(user))
    page.click("main button.primary")
    page.wait_for_load_state()


@pytest.fixture
def log_in(page, live_server):
    def do(email, password):
        page.goto(f"{live_server}/connexion")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", password)
        page.click("main button.primary")
        page.wait_for_load_state()
        pass_second_factor(page, live_server, email)
        return page

    return do

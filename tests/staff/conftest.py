from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "examples"


@pytest.fixture
def example():
    def read(name):
        return (EXAMPLES / name).read_bytes()

    return read


@pytest.fixture
def hl_operation(make_operation):
    """The seed operation's settings: 2023-2024, divisor 1 720, 60 %."""
    return make_operation("HL-RSA-2023", title="Accompagnement socio-professionnel renforcé rSa")


@pytest.fixture
def live_server(app):
    """The app served in a thread, for the browser tests of this domain."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--headless=new", "--disable-gpu"]
        )
        page = browser.new_page()
        yield page
        browser.close()

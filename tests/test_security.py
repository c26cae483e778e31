import os
import re
import stat
from pathlib import Path

import pytest

from budget_app import create_app
from budget_app.kernel.config import load_or_create_secret_key
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent


def test_security_headers_on_pages(client):
    response = client.get("/connexion")
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_session_cookie_flags(client, make_user):
    make_user(email="fo@example.org")
    response = client.post("/connexion", data={"email": "fo@example.org", "password": PASSWORD})
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("budget_session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    assert not any(c.startswith("remember_token") for c in cookies)


def test_production_mode_secures_cookies_and_headers(app_config):
    app = create_app({**app_config, "BUDGET_APP_ENV": "production", "BUDGET_APP_SINGLE_PROCESS": True})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.debug is False
    response = app.test_client().get("/connexion")
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]


def test_templates_use_no_inline_script_or_style_and_no_safe_filter():
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert "|safe" not in text.replace(" ", ""), template
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), f"inline script in {template}"
        assert " style=" not in text and "<style" not in text, f"inline style in {template}"
    for module in (ROOT / "budget_app").rglob("*.py"):
        text = module.read_text(encoding="utf-8")
        assert "Markup(" not in text, module
        assert 'text(f"' not in text and ".execute(f\"" not in text, module


def test_every_form_is_protected_by_csrf(app_config, make_user):
    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    client = app.test_client()
    assert client.post("/connexion", data={"email": "a@example.org", "password": "x"}).status_code == 400
    assert client.post("/compte/langue", data={"lang": "en"}).status_code == 400


def test_logout_needs_csrf_token(app_config, make_user):
    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    client = app.test_client()
    login_page = client.get("/connexion").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    with app.app_context():
        make_user(email="fo@example.org")
    response = client.post("/connexion", data={"email": "fo@example.org", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert client.post("/deconnexion").status_code == 400  # no token: refused, still logged in
    assert client.get("/").status_code == 200
    home = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)
    assert client.post("/deconnexion", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("code, title", [(404, "Page introuvable"), (405, "Méthode non permise")])
def test_error_pages_are_french(client, code, title):
    response = client.get("/nowhere") if code == 404 else client.put("/connexion")
    assert response.status_code == code
    assert title in response.get_data(as_text=True)


def test_internal_error_shows_no_stack_trace(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def explode():
        raise RuntimeError("secret internals")

    app.add_url_rule("/boom", "boom", explode)
    from budget_app.accounts.policy import POLICY, public

    POLICY["boom"] = public()
    try:
        response = client.get("/boom")
    finally:
        del POLICY["boom"]
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Erreur interne" in body
    assert "Traceback" not in body and "secret internals" not in body and "Werkzeug" not in body


def test_request_over_the_size_limit_gets_413(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/connexion", data={"email": "x" * 2048, "password": "y"})
    assert response.status_code == 413
    assert "Fichier trop volumineux" in response.get_data(as_text=True)


def test_trace_and_put_are_refused(client):
    assert client.open("/connexion", method="TRACE").status_code == 405
    assert client.put("/").status_code == 405


def test_secret_key_is_generated_once_with_owner_only_mode(tmp_path):
    first = load_or_create_secret_key(str(tmp_path))
    mode = stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode)
    assert mode == 0o600
    assert len(first) >= 64
    assert load_or_create_secret_key(str(tmp_path)) == first


def test_no_secret_key_in_code():
    from budget_app.kernel.config import DefaultConfig

    assert not hasattr(DefaultConfig, "SECRET_KEY")


def test_log_lines_cannot_be_forged(app, client, caplog):
    import logging

    from budget_app.kernel.log import OneLineFormatter

    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "user=%s", ("a\r\n2025-01-01 INFO admin logged in",), None)
    assert "\n" not in OneLineFormatter("%(message)s").format(record)


def test_sql_injection_in_filters_is_harmless(app, client, make_user, login):
    login(client, make_user("admin"))
    response = client.get("/journal", query_string={"actor": "' OR 1=1--", "object_id": "1' OR '1'='1"})
    assert response.status_code == 200
    assert "0 entrée(s)" in response.get_data(as_text=True)


def test_openpyxl_uses_defusedxml():
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML is True


def test_no_float_money_columns(app):
    from sqlalchemy import Float

    from budget_app.kernel.extensions import db

    for table in db.metadata.tables.values():
        for column in table.columns:
            assert not isinstance(column.type, Float), f"{table.name}.{column.name} is a float"

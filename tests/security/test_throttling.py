"""Finding 7 of issue 13: lockouts turned against victims. Failures are refused per
(address, account) and per address; per account they only slow the answer, so the right
password from an address that has not failed is accepted while the attacker is
throttled. Wrong follow-up secrets: refused per address, only slowed per reference. The
password-change form is throttled like the login."""
import pytest

from budget_app.alerts.models import Alert
from budget_app.kernel.extensions import db
from tests.alerts.conftest import post_report, receipt_codes
from tests.conftest import PASSWORD

ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
VICTIM = {"REMOTE_ADDR": "198.51.100.7"}


@pytest.fixture
def slept(app, monkeypatch):
    app.config["LOGIN_FAILURE_DELAY_SECONDS"] = 1.0
    calls = []
    monkeypatch.setattr("budget_app.kernel.throttle.time.sleep", calls.append)
    return calls


def _login(client, email, password, environ):
    return client.post("/connexion", data={"email": email, "password": password}, environ_base=environ)


def test_the_right_password_works_after_wrong_ones_from_another_address(app, make_user, slept):
    make_user(email="victim@example.org")
    attacker = app.test_client()
    statuses = [_login(attacker, "victim@example.org", "wrong password!!", ATTACKER).status_code for _ in range(8)]
    assert statuses[:5] == [200] * 5 and set(statuses[5:]) == {429}  # the attacker is throttled
    assert _login(attacker, "victim@example.org", PASSWORD, ATTACKER).status_code == 429
    victim = app.test_client()
    assert _login(victim, "victim@example.org", PASSWORD, VICTIM).status_code == 302


def test_an_account_that_does_not_exist_yet_cannot_be_locked(app, make_user, slept):
    attacker = app.test_client()
    for _ in range(8):
        _login(attacker, "future@example.org", "wrong password!!", ATTACKER)
    make_user(email="future@example.org")
    assert _login(app.test_client(), "future@example.org", PASSWORD, VICTIM).status_code == 302


def test_failures_per_account_slow_down_progressively(app, make_user, slept):
    make_user(email="victim@example.org")
    for number in range(6):  # from six addresses: no per-address limit reached
        _login(app.test_client(), "victim@example.org", "wrong password!!", {"REMOTE_ADDR": f"192.0.2.{number}"})
    assert slept == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    slept.clear()
    assert _login(app.test_client(), "victim@example.org", PASSWORD, VICTIM).status_code == 302
    assert slept == []  # the right password is never delayed by others' failures


def test_the_password_change_form_is_throttled(app, make_user, login, slept):
    user = make_user(email="fo@example.org")
    client = app.test_client()
    login(client, user)
    data = {"current": "wrong password!!", "new": "another long passphrase 42", "confirm": "another long passphrase 42"}
    statuses = [client.post("/compte/mot-de-passe", data=data, environ_base=ATTACKER).status_code for _ in range(7)]
    assert statuses[:5] == [200] * 5 and set(statuses[5:]) == {429}
    assert len(slept) == 5


def test_wrong_secrets_from_others_never_refuse_the_right_secret(app, operation, slept):
    reporter = app.test_client()
    reference, secret = receipt_codes(post_report(reporter, operation))
    for number in range(12):  # many addresses, each under its own limit
        app.test_client().post("/signalement/suivi", data={"reference": reference, "secret": "faux"},
                               environ_base={"REMOTE_ADDR": f"192.0.2.{number}"})
    assert slept and max(slept) <= app.config["ALERT_SECRET_DELAY_MAX_SECONDS"]
    response = reporter.post("/signalement/suivi", data={"reference": reference, "secret": secret},
                             environ_base=VICTIM)
    assert response.status_code == 302
    assert 'data-testid="thread"' in reporter.get("/signalement/suivi", environ_base=VICTIM).get_data(as_text=True)


def test_throttle_keys_hold_no_reference_nor_address(app, operation, slept):
    client = app.test_client()
    reference, _secret = receipt_codes(post_report(client, operation))
    client.post("/signalement/suivi", data={"reference": reference, "secret": "faux"}, environ_base=ATTACKER)
    from budget_app.kernel.extensions import limiter

    keys = " ".join(str(key) for key in getattr(limiter.storage, "storage", {}).keys())
    assert keys and reference not in keys and ATTACKER["REMOTE_ADDR"] not in keys
    assert db.session.scalar(db.select(Alert)).reference == reference

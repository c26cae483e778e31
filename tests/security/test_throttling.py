"""Finding 7 of issue 13 and point 4 of issue 21: lockouts turned against victims, and no
sleeping worker. Failures are refused per (address, account) and per address, with 429,
``Retry-After`` and a page saying when to retry; nothing is counted per account or per
reference alone, so the right password (or secret) from an address that has not failed is
accepted while the attacker is throttled. No request ever sleeps. The password-change form
is throttled like the login. Every counter carries RATELIMIT_KEY_PREFIX."""
import html
import re

import pytest

from budget_app.alerts.models import Alert
from budget_app.kernel.extensions import db, limiter
from tests.alerts.conftest import post_report, receipt_codes
from tests.conftest import PASSWORD

ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
VICTIM = {"REMOTE_ADDR": "198.51.100.7"}


@pytest.fixture(autouse=True)
def no_sleep(app, monkeypatch):
    """Any sleep inside a request fails the test (it answered 500 through the error handler).
    The old code slept LOGIN_FAILURE_DELAY_SECONDS (1 s by default, doubling); the setting is
    unused now."""
    def refuse(seconds):
        raise AssertionError(f"sleep({seconds}) inside a request")

    monkeypatch.setattr("time.sleep", refuse)
    app.config["LOGIN_FAILURE_DELAY_SECONDS"] = 1.0


def _login(client, email, password, environ):
    return client.post("/connexion", data={"email": email, "password": password}, environ_base=environ)


def _storage_keys() -> list[str]:
    return [str(key) for key in getattr(limiter.storage, "storage", {}).keys()]


def test_the_right_password_works_after_wrong_ones_from_another_address(app, make_user):
    make_user(email="victim@example.org")
    attacker = app.test_client()
    statuses = [_login(attacker, "victim@example.org", "wrong password!!", ATTACKER).status_code for _ in range(8)]
    assert statuses[:5] == [200] * 5 and set(statuses[5:]) == {429}  # the attacker is throttled
    assert _login(attacker, "victim@example.org", PASSWORD, ATTACKER).status_code == 429
    victim = app.test_client()
    assert _login(victim, "victim@example.org", PASSWORD, VICTIM).status_code == 302


def test_an_account_that_does_not_exist_yet_cannot_be_locked(app, make_user):
    attacker = app.test_client()
    for _ in range(8):
        _login(attacker, "future@example.org", "wrong password!!", ATTACKER)
    make_user(email="future@example.org")
    assert _login(app.test_client(), "future@example.org", PASSWORD, VICTIM).status_code == 302


def test_failures_from_many_addresses_never_lock_the_account(app, make_user):
    """Four failures from each of 20 addresses (80 on one account): none refused, none
    delayed, and the right password still opens the account from a 21st address."""
    make_user(email="victim@example.org")
    statuses = {_login(app.test_client(), "victim@example.org", "wrong password!!", {"REMOTE_ADDR": f"192.0.2.{n}"}).status_code
                for n in range(20) for _ in range(4)}
    assert statuses == {200}
    assert _login(app.test_client(), "victim@example.org", PASSWORD, VICTIM).status_code == 302


@pytest.mark.parametrize("language, wording", [("fr", "Vous pourrez réessayer à"), ("en", "You may try again at")])
def test_a_refusal_says_when_to_retry(app, make_user, language, wording):
    make_user(email="victim@example.org")
    client = app.test_client()
    client.post("/compte/langue", data={"lang": language})
    for _ in range(5):
        _login(client, "victim@example.org", "wrong password!!", ATTACKER)
    response = _login(client, "victim@example.org", "wrong password!!", ATTACKER)
    assert response.status_code == 429
    # A fixed 15-minute window opened by the first failure: 1 to 900 seconds left.
    assert 1 <= int(response.headers["Retry-After"]) <= 900
    page = response.get_data(as_text=True)
    assert re.search(re.escape(wording) + r" \d\d:\d\d", page), page


def test_the_password_change_form_is_throttled(app, make_user, login):
    user = make_user(email="fo@example.org")
    client = app.test_client()
    login(client, user)
    data = {"current": "wrong password!!", "new": "another long passphrase 42", "confirm": "another long passphrase 42"}
    statuses = [client.post("/compte/mot-de-passe", data=data, environ_base=ATTACKER).status_code for _ in range(7)]
    assert statuses[:5] == [200] * 5 and set(statuses[5:]) == {429}


def test_wrong_secrets_from_others_never_refuse_the_right_secret(app, operation):
    reporter = app.test_client()
    reference, secret = receipt_codes(post_report(reporter, operation))
    for number in range(12):  # many addresses, each under its own limit
        response = app.test_client().post("/signalement/suivi", data={"reference": reference, "secret": "faux"},
                                          environ_base={"REMOTE_ADDR": f"192.0.2.{number}"})
        assert response.status_code == 200
    response = reporter.post("/signalement/suivi", data={"reference": reference, "secret": secret},
                             environ_base=VICTIM)
    assert response.status_code == 302
    assert 'data-testid="thread"' in reporter.get("/signalement/suivi", environ_base=VICTIM).get_data(as_text=True)


def test_wrong_secrets_from_one_address_are_refused_with_retry_after(app, operation):
    reference, _secret = receipt_codes(post_report(app.test_client(), operation))
    client = app.test_client()
    statuses = [client.post("/signalement/suivi", data={"reference": reference, "secret": "faux"},
                            environ_base=ATTACKER) for _ in range(11)]
    assert [response.status_code for response in statuses] == [200] * 10 + [429]
    assert 1 <= int(statuses[-1].headers["Retry-After"]) <= 900


def test_throttle_keys_hold_no_reference_nor_address(app, operation):
    client = app.test_client()
    reference, _secret = receipt_codes(post_report(client, operation))
    client.post("/signalement/suivi", data={"reference": reference, "secret": "faux"}, environ_base=ATTACKER)
    keys = " ".join(_storage_keys())
    assert keys and reference not in keys and ATTACKER["REMOTE_ADDR"] not in keys
    assert db.session.scalar(db.select(Alert)).reference == reference


def test_every_counter_carries_the_key_prefix(app, app_config, make_user, operation, monkeypatch):
    """Issue 21: the failure counters were written without RATELIMIT_KEY_PREFIX, so two
    deployments sharing one Redis counted each other's failures."""
    from budget_app import create_app

    monkeypatch.setattr(limiter, "_key_prefix", limiter._key_prefix)  # the limiter is one per process
    prefixed = create_app({**app_config, "RATELIMIT_KEY_PREFIX": "deploy-a", "RATELIMIT_STORAGE_URI": "memory://",
                           "ALERT_KEY_FILE": app.config["ALERT_KEY_FILE"]})
    limiter.storage.reset()
    make_user(email="fo@example.org")
    client = prefixed.test_client()
    _login(client, "fo@example.org", "wrong password!!", ATTACKER)
    client.post("/signalement/suivi", data={"reference": "AAAA-BBBB", "secret": "faux"}, environ_base=ATTACKER)
    with prefixed.app_context():
        keys = _storage_keys()
    assert keys and all("deploy-a" in key for key in keys), keys


def test_password_checks_beyond_the_slots_are_refused_at_once(app, make_user):
    """PASSWORD_CHECKS_AT_ONCE = 1 and its slot taken (another worker checking a password):
    an address that failed a login lately is answered 429 with Retry-After at once, counted as
    no failure; once the slot is free the same login goes through."""
    from budget_app.kernel import throttle

    app.config["PASSWORD_CHECKS_AT_ONCE"] = 1
    make_user(email="fo@example.org")
    client = app.test_client()
    assert _login(client, "fo@example.org", "wrong password!!", VICTIM).status_code == 200
    with app.test_request_context():
        slot = throttle.acquire_slot("password", 1)
    assert slot is not None
    response = _login(client, "fo@example.org", PASSWORD, VICTIM)
    assert response.status_code == 429 and response.headers["Retry-After"] == "2"
    assert "Trop de vérifications de mot de passe en cours" in response.get_data(as_text=True)
    with app.test_request_context():
        throttle.release_slot(slot)
    assert _login(client, "fo@example.org", PASSWORD, VICTIM).status_code == 302
    # The slot was given back after that check: another can take it.
    with app.test_request_context():
        again = throttle.acquire_slot("password", 1)
        assert again is not None
        throttle.release_slot(again)


def test_an_address_that_has_not_failed_is_never_refused_for_want_of_a_slot(app, make_user):
    """People logging in at the same minute each get their check: with every slot taken (here by
    a flood from elsewhere), a login from an address without a recent failure goes through;
    the same address after one failure shares the slots (429 while they are taken)."""
    from budget_app.kernel import throttle

    app.config["PASSWORD_CHECKS_AT_ONCE"] = 1
    make_user(email="fo@example.org")
    with app.test_request_context():
        slot = throttle.acquire_slot("password", 1)
    assert _login(app.test_client(), "fo@example.org", PASSWORD, VICTIM).status_code == 302
    assert _login(app.test_client(), "fo@example.org", "wrong password!!", VICTIM).status_code == 200
    assert _login(app.test_client(), "fo@example.org", PASSWORD, VICTIM).status_code == 429
    with app.test_request_context():
        throttle.release_slot(slot)
    assert _login(app.test_client(), "fo@example.org", PASSWORD, VICTIM).status_code == 302


def test_a_refusal_already_decided_is_answered_first_until_its_window_ends(app, make_user, monkeypatch):
    """Issue 21, point 4: once a limit has refused a key, that key's next logins are refused
    before anything else -- no limiter round trip, no form check, no password hashed -- with
    the same 429, Retry-After and retry time, on a page without the layout. Another account
    from the same address (another key) still goes through the limits."""
    make_user(email="victim@example.org")
    make_user(email="other@example.org")
    client = app.test_client()
    statuses = [_login(client, "victim@example.org", "wrong password!!", ATTACKER).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]

    def nothing_else(*_args, **_kwargs):
        raise AssertionError("a refusal already decided went on to the limiter or the password check")

    monkeypatch.setattr(limiter.limiter, "test", nothing_else)
    monkeypatch.setattr(limiter.limiter, "hit", nothing_else)
    monkeypatch.setattr("budget_app.accounts.views.verify_password", nothing_else)
    response = _login(client, "victim@example.org", PASSWORD, ATTACKER)
    assert response.status_code == 429 and 1 <= int(response.headers["Retry-After"]) <= 900
    page = html.unescape(response.get_data(as_text=True))
    assert "Trop d'échecs de connexion pour ce compte depuis cette adresse." in page
    assert re.search(r"Vous pourrez réessayer à \d\d:\d\d", page) and "<nav" not in page
    monkeypatch.undo()
    assert _login(client, "other@example.org", PASSWORD, ATTACKER).status_code == 302
    # The window's end (here: its time passed) frees the key: the limiter decides again.
    refusals = app.extensions["early_refusals"]
    for key, (_until, message) in list(refusals.items()):
        refusals[key] = (0.0, message)
    limiter.storage.reset()
    assert _login(app.test_client(), "victim@example.org", PASSWORD, ATTACKER).status_code == 302


def test_a_slot_rests_after_a_check_so_checks_use_at_most_their_share():
    """PASSWORD_CHECKS_SHARE: after a check of 0.4 s of processor time at a share of 0.5, the
    slot stays taken 0.4 s more; at a share of 1 (or a check under 5 ms), it is free at once."""
    from budget_app.kernel.throttle import rest_after, slots_per_host

    assert rest_after(0.4, 0.5) == pytest.approx(0.4)
    assert rest_after(0.3, 0.25) == pytest.approx(0.9)
    assert rest_after(0.4, 1.0) == 0.0 and rest_after(0.002, 0.5) == 0.0
    assert slots_per_host(3) == 3 and slots_per_host(None) >= 1


def test_a_resting_slot_refuses_the_next_check_at_once(app, make_user):
    """A check's slot rests (no one waits): the next login is answered 429 « busy » with
    Retry-After at once, counted as no failure."""
    from budget_app.kernel import throttle

    app.config["PASSWORD_CHECKS_AT_ONCE"] = 1
    make_user(email="fo@example.org")
    assert _login(app.test_client(), "fo@example.org", "wrong password!!", VICTIM).status_code == 200
    with app.test_request_context():
        slot = throttle.acquire_slot("password", 1)
        throttle.release_slot(slot, rest=60)
    response = _login(app.test_client(), "fo@example.org", PASSWORD, VICTIM)
    assert response.status_code == 429 and response.headers["Retry-After"] == "2"
    with app.test_request_context():
        throttle._local_slots().held.clear()
    assert _login(app.test_client(), "fo@example.org", PASSWORD, VICTIM).status_code == 302

"""Finding 6 of issue 13: the reporter's follow-up state is kept on the server. After
"Terminer" a copied cookie reads nothing and posts nothing; a replay never extends a
session; idle expiry and the absolute limit end every copy."""
from datetime import datetime, timedelta, timezone

from budget_app.alerts import follow_up
from budget_app.alerts.models import AlertMessage, FollowUpSession
from budget_app.kernel.extensions import db
from tests.alerts.conftest import post_report, receipt_codes

THREAD = 'data-testid="thread"'


def _open_thread(app, operation):
    client = app.test_client()
    reference, secret = receipt_codes(post_report(client, operation))
    client.post("/signalement/suivi", data={"reference": reference, "secret": secret})
    assert THREAD in client.get("/signalement/suivi").get_data(as_text=True)
    return client


def _copy(app, client):
    thief = app.test_client()
    name = app.config["SESSION_COOKIE_NAME"]
    thief.set_cookie(name, client.get_cookie(name).value)
    return thief


def _messages():
    return db.session.scalar(db.select(db.func.count(AlertMessage.id)).where(AlertMessage.author == "reporter"))


def test_terminer_ends_every_copy_of_the_cookie(app, operation):
    client = _open_thread(app, operation)
    thief = _copy(app, client)
    assert THREAD in thief.get("/signalement/suivi").get_data(as_text=True)  # a copy works while live
    client.post("/signalement/suivi/fin")
    assert db.session.scalar(db.select(db.func.count(FollowUpSession.id))) == 0
    assert THREAD not in thief.get("/signalement/suivi").get_data(as_text=True)
    response = thief.post("/signalement/suivi/reponse", data={"body": "message d'un tiers"})
    assert response.status_code == 302 and _messages() == 0
    assert THREAD not in client.get("/signalement/suivi").get_data(as_text=True)


def test_the_cookie_holds_only_a_random_token(app, operation):
    client = _open_thread(app, operation)
    with client.session_transaction() as session:
        state = session["alert_follow_up"]
    assert isinstance(state, str) and len(state) >= 40
    stored = db.session.scalar(db.select(FollowUpSession))
    assert stored.token_hash != state and state not in stored.token_hash


def test_a_replay_never_extends_a_session_past_its_limit(app, operation, monkeypatch):
    client = _open_thread(app, operation)
    thief = _copy(app, client)
    start = datetime.now(timezone.utc)
    # Kept active every 20 minutes (by the thief): the absolute limit (120 min) still ends it.
    for minutes in range(20, 121, 20):
        monkeypatch.setattr(follow_up, "_now", lambda m=minutes: start + timedelta(minutes=m))
        page = thief.get("/signalement/suivi").get_data(as_text=True)
        assert (THREAD in page) == (minutes < 120), minutes
    monkeypatch.setattr(follow_up, "_now", lambda: start + timedelta(minutes=121))
    assert THREAD not in client.get("/signalement/suivi").get_data(as_text=True)


def test_idle_expiry_ends_every_copy(app, operation, monkeypatch):
    client = _open_thread(app, operation)
    thief = _copy(app, client)
    later = datetime.now(timezone.utc) + timedelta(minutes=31)
    monkeypatch.setattr(follow_up, "_now", lambda: later)
    assert THREAD not in thief.get("/signalement/suivi").get_data(as_text=True)
    monkeypatch.undo()
    # Back in time: the row is gone, the cookie stays dead.
    assert THREAD not in client.get("/signalement/suivi").get_data(as_text=True)


def test_a_session_ended_in_one_instance_is_refused_by_the_other(app, app_config, operation):
    """Issue 16: with several workers, nothing that matters lives in one worker's memory. Two
    application instances on the same database: the reporter opens the thread through one,
    reads it through the other, ends it ("Terminer") through the first; the second refuses
    the same cookie (reading and replying)."""
    from budget_app import create_app
    from tests.conftest import IsolatedClient

    # The same settings (the alert key included), as every worker of one deployment has.
    other = create_app({**app_config, **{key: value for key, value in app.config.items() if key.startswith("ALERT")}})
    other.test_client_class = IsolatedClient
    first = _open_thread(app, operation)
    second = other.test_client()
    name = app.config["SESSION_COOKIE_NAME"]
    second.set_cookie(name, first.get_cookie(name).value)
    with other.app_context():
        assert THREAD in second.get("/signalement/suivi").get_data(as_text=True)
    first.post("/signalement/suivi/fin")
    with other.app_context():
        assert THREAD not in second.get("/signalement/suivi").get_data(as_text=True)
        response = second.post("/signalement/suivi/reponse", data={"body": "après la fin"})
    assert response.status_code == 302 and _messages() == 0

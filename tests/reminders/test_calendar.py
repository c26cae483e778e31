"""The private calendar feed: created on the « À faire » page, parsed with the icalendar
library, neutral for referents, revocable."""
import re

from icalendar import Calendar

from budget_app.kernel.extensions import db
from budget_app.reminders.models import CalendarFeed


def _new_feed(client):
    page = client.post("/a-faire/calendrier", data={"action": "new"}).get_data(as_text=True)
    return re.search(r'data-testid="calendar-url">([^<]+)<', page).group(1)


def _events(client, url):
    response = client.get(url.replace("http://localhost", ""))
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    return [(str(event["summary"]), event.decoded("dtstart")) for event in calendar.walk("VEVENT")]


def test_feed_lists_the_persons_deadlines(world, client, login, app):
    login(client, world["approving"])
    url = _new_feed(client)
    assert "/calendrier/" in url
    events = _events(app.test_client(), url)  # no session: the token is the key
    summaries = [summary for summary, _day in events]
    assert "Approve a timesheet of HL-RSA-2023 (2024-11)" in summaries
    stored = db.session.get(CalendarFeed, world["approving"].id)
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert token not in stored.token_hash  # only its SHA-256 is kept


def test_referents_events_are_neutral(world, client, login, app):
    login(client, world["referent"])
    url = _new_feed(client)
    body = app.test_client().get(url.replace("http://localhost", "")).get_data(as_text=True)
    summaries = [summary for summary, _day in _events(app.test_client(), url)]
    assert summaries and set(summaries) == {"Échéance"}
    assert "signalement" not in body.lower() and "/referent" not in body and world["alert"].reference not in body


def test_new_address_or_revocation_ends_the_old_one(world, client, login, app):
    login(client, world["controller"])
    first = _new_feed(client)
    second = _new_feed(client)
    reader = app.test_client()
    assert reader.get(first.replace("http://localhost", "")).status_code == 404
    assert reader.get(second.replace("http://localhost", "")).status_code == 200
    client.post("/a-faire/calendrier", data={"action": "revoke"})
    assert reader.get(second.replace("http://localhost", "")).status_code == 404


def test_preferences_page_keeps_legal_kinds_on(world, client, login):
    from budget_app.reminders.preferences import choices_for

    login(client, world["approving"])
    client.post("/a-faire/preferences", data={"on": ["final_bilan"]})
    choices = {choice["kind"]: choice["on"] for choice in choices_for(world["approving"])}
    assert choices == {"final_bilan": True, "interim_bilan": False, "timesheet_approval": False}
    client.post("/a-faire/preferences", data={})
    choices = {choice["kind"]: (choice["on"] or choice["legal"]) for choice in choices_for(world["approving"])}
    assert choices["final_bilan"] is True

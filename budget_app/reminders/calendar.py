"""Each person's deadlines as an iCalendar feed (RFC 5545), read by Outlook or Thunderbird
from a private URL. Only the token's SHA-256 is stored; issuing a new URL or revoking it
ends the old one. Referents' events have neutral titles (« Échéance »): a calendar is often
shared or synchronised to a phone."""
import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from flask import current_app, url_for
from flask_babel import force_locale
from sqlalchemy import select

from ..accounts.models import User
from ..kernel.extensions import db
from ..kernel.i18n import N_, translate
from .digest import confidential, item_digest
from .items import describe, items_for
from .models import CalendarFeed


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_feed_token(user: User) -> str:
    """A new private URL's token for ``user`` (the previous one stops working)."""
    token = secrets.token_urlsafe(32)
    feed = db.session.get(CalendarFeed, user.id)
    if feed is None:
        feed = CalendarFeed(user_id=user.id, token_hash=_hash(token), active=True)
        db.session.add(feed)
    else:
        feed.token_hash, feed.active, feed.created_at = _hash(token), True, datetime.now(timezone.utc)
    db.session.flush()
    return token


def revoke_feed(user: User) -> None:
    feed = db.session.get(CalendarFeed, user.id)
    if feed is not None:
        feed.active = False
        db.session.flush()


def feed_of(user: User) -> CalendarFeed | None:
    feed = db.session.get(CalendarFeed, user.id)
    return feed if feed is not None and feed.active else None


def user_for_feed(token: str) -> User | None:
    if not token or len(token) > 100:
        return None
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == _hash(token),
                                                        CalendarFeed.active.is_(True)))
    if feed is None:
        return None
    user = db.session.get(User, feed.user_id)
    return user if user is not None and user.active else None


def calendar_bytes(user: User, today) -> bytes:
    """All-day events on each item's due date, in the person's language."""
    from icalendar import Calendar, Event  # only in the process that serves a feed (lean start)

    domain = current_app.config["MAIL_DEFAULT_SENDER"].rpartition("@")[2] or "localhost"
    neutral = confidential(user)
    calendar = Calendar()
    calendar.add("prodid", "-//Suivi FSE+//rappels//FR")
    calendar.add("version", "2.0")
    with force_locale(user.locale or "fr"):
        calendar.add("x-wr-calname", translate(N_("Suivi FSE+ : échéances")))
        for item in items_for(user, today):
            event = Event()
            event.add("uid", f"{item_digest(user.id, item.key)[:32]}@{domain}")
            event.add("dtstamp", datetime.now(timezone.utc))
            event.add("dtstart", item.due)
            event.add("dtend", item.due + timedelta(days=1))
            event.add("summary", translate(N_("Échéance")) if neutral else describe(item))
            target = url_for("reminders.todo", _external=True) if neutral else url_for(
                item.endpoint, _external=True, **item.url_values)
            event.add("url", target)
            calendar.add_component(event)
    return calendar.to_ical()

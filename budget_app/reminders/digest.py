"""Daily digests: per person, what is new, due within 7 days, or overdue, each item
announced once per threshold (new → soon → overdue).

Idempotence without a lock server: before mailing, the digest's announcements are inserted
(one row per person, item and threshold, unique); a second run, or a second server running
at the same moment, hits the unique constraint and leaves that person alone. A mail that
fails leaves its rows pending and released, so the next run sends it again with the same
Message-ID (derived from the person and the announcements it carries). A pending row left
by a run that died is taken again after ``LEASE``.

Confidentiality (loi 2022-401): the referents' digests are sent like any other, but never
listed, counted or logged by the command: nothing the operator or anyone else sees tells
when a referent was mailed.
"""
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from flask import current_app, url_for
from flask_babel import force_locale
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..accounts.models import User
from ..accounts.policy import may
from ..kernel.extensions import db
from ..kernel.formatting import format_day
from ..kernel.i18n import N_, translate
from .items import LEGAL_KINDS, Item, describe, due_items, items_for
from .models import ReminderDelivery, ReminderOptOut

SOON_DAYS = 7
LEASE = timedelta(minutes=15)
RANK = {"new": 0, "soon": 1, "overdue": 2}
SECTIONS = (
    ("overdue", N_("En retard")),
    ("soon", N_("À échéance dans les 7 jours")),
    ("new", N_("Nouveau")),
)


def threshold(item: Item, today: date) -> str:
    if item.due < today:
        return "overdue"
    if item.due <= today + timedelta(days=SOON_DAYS):
        return "soon"
    return "new"


def confidential(user: User) -> bool:
    """The referents: their reminders are about alerts, and nobody may learn when they come."""
    return may("alerts.dashboard", "GET", user=user)


def item_digest(user_id: int, key: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"reminder:{user_id}:{key}".encode(), hashlib.sha256).hexdigest()


def opted_out(user: User) -> set[str]:
    return set(db.session.scalars(select(ReminderOptOut.kind).where(ReminderOptOut.user_id == user.id)))


@dataclass
class Announcement:
    item: Item
    threshold: str
    digest: str
    row_id: int | None = None  # a pending row to send again, as it was read
    row_claimed_at: datetime | None = None


@dataclass
class Digest:
    user: User
    announcements: list[Announcement]

    @property
    def message_id(self) -> str:
        parts = sorted(f"{a.digest}:{a.threshold}" for a in self.announcements)
        token = hmac.new(current_app.config["SECRET_KEY"].encode(), f"{self.user.id}|{'|'.join(parts)}".encode(),
                         hashlib.sha256).hexdigest()[:40]
        domain = current_app.config["MAIL_DEFAULT_SENDER"].rpartition("@")[2] or "localhost"
        return f"<reminder.{token}@{domain}>"


def due_announcements(user: User, today: date, now: datetime, everything=None) -> list[Announcement]:
    """What ``user``'s next digest carries: items whose current threshold (or a later one)
    was never announced, and announcements left pending by a failed or dead run
    (``everything``: the items of all, computed once for a run)."""
    off = opted_out(user)
    items = [item for item in items_for(user, today, everything) if item.kind in LEGAL_KINDS or item.kind not in off]
    if not items:
        return []
    by_digest = {item_digest(user.id, item.key): item for item in items}
    rows = db.session.scalars(select(ReminderDelivery).where(
        ReminderDelivery.user_id == user.id, ReminderDelivery.item_digest.in_(by_digest))).all()
    recorded: dict[str, list[ReminderDelivery]] = {}
    for row in rows:
        recorded.setdefault(row.item_digest, []).append(row)
    found = []
    for digest, item in by_digest.items():
        current = threshold(item, today)
        done = recorded.get(digest, [])
        stale = [row for row in done if row.state == "pending" and _aware(row.claimed_at) <= now - LEASE]
        if stale:
            latest = max(stale, key=lambda row: RANK[row.threshold])
            found.append(Announcement(item, latest.threshold, digest, latest.id, latest.claimed_at))
        elif not any(RANK[row.threshold] >= RANK[current] for row in done):
            found.append(Announcement(item, current, digest))
    return found


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def claim(user: User, announcements: list[Announcement], now: datetime) -> bool:
    """Record the announcements before mailing (one transaction). False when another run
    got there first: that run mails this person.

    The reads that chose the announcements end first, so this transaction starts with its
    writes (SQLite: a deferred transaction that read, then writes, fails at once when
    another process wrote meanwhile; writing first waits for the lock instead)."""
    user_id = user.id
    db.session.commit()
    try:
        for announcement in announcements:
            if announcement.row_id is None:
                db.session.add(ReminderDelivery(user_id=user_id, item_digest=announcement.digest,
                                                threshold=announcement.threshold, state="pending",
                                                claimed_at=now, attempts=1))
            else:
                taken = db.session.execute(
                    update(ReminderDelivery)
                    .where(ReminderDelivery.id == announcement.row_id, ReminderDelivery.state == "pending",
                           ReminderDelivery.claimed_at == announcement.row_claimed_at)
                    .values(claimed_at=now, attempts=ReminderDelivery.attempts + 1)
                    .execution_options(synchronize_session=False)
                )
                if taken.rowcount != 1:
                    raise IntegrityError("taken by another run", None, None)
        db.session.commit()
        return True
    except IntegrityError:
        db.session.rollback()
        return False


def settle(user: User, announcements: list[Announcement], sent: bool, now: datetime) -> None:
    """After the mail: sent rows are final; failed ones are released for the next run
    (written first, like ``claim``)."""
    user_id = user.id
    digests = [a.digest for a in announcements]
    db.session.commit()
    values = {"state": "sent", "sent_at": now} if sent else {"claimed_at": now - LEASE - timedelta(seconds=1)}
    db.session.execute(
        update(ReminderDelivery)
        .where(ReminderDelivery.user_id == user_id, ReminderDelivery.item_digest.in_(digests),
               ReminderDelivery.state == "pending")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def compose(digest: Digest, today: date) -> tuple[str, str]:
    """Subject and plain-text body in the person's language (call under force_locale)."""
    counts = {key: sum(1 for a in digest.announcements if a.threshold == key) for key, _ in SECTIONS}
    subject = translate(N_("[Suivi FSE+] À faire : %(overdue)s en retard, %(soon)s bientôt, %(new)s nouveau(x)"),
                        **counts)
    lines = [translate(N_("Bonjour %(name)s,"), name=digest.user.full_name or digest.user.email), ""]
    for key, title in SECTIONS:
        chosen = [a for a in digest.announcements if a.threshold == key]
        if not chosen:
            continue
        lines.append(f"{translate(title)} :")
        for announcement in sorted(chosen, key=lambda a: (a.item.due, a.item.key)):
            item = announcement.item
            if "%(due)s" in item.text:
                lines.append(f"- {describe(item)}")
            else:
                lines.append(translate(N_("- %(text)s (échéance : %(due)s)"), text=describe(item), due=format_day(item.due)))
            lines.append(f"  {url_for(item.endpoint, _external=True, **item.url_values)}")
        lines.append("")
    lines.append(translate(N_("Votre liste complète et vos préférences de rappel : %(url)s"),
                           url=url_for("reminders.todo", _external=True)))
    return subject, "\n".join(lines) + "\n"


def digests_for(today: date, now: datetime):
    """Each active person with something to announce, with their announcements."""
    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)).all()
    everything = due_items(today)
    for user in users:
        found = due_announcements(user, today, now, everything)
        if found:
            yield Digest(user, found)


def render(digest: Digest, today: date) -> tuple[str, str]:
    base = current_app.config["BUDGET_APP_BASE_URL"]
    with current_app.test_request_context("/", base_url=base), force_locale(digest.user.locale or "fr"):
        return compose(digest, today)

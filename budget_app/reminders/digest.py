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
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..accounts.models import OperationMember, User
from ..accounts.policy import limited_to_assignments, may
from ..kernel.extensions import db
from ..kernel.formatting import format_day
from ..kernel.i18n import N_, translate
from .items import LEGAL_KINDS, Item, ItemIndex, describe, due_items, items_for
from .models import ReminderDelivery, ReminderOptOut

SOON_DAYS = 7
LEASE = timedelta(minutes=15)
CLAIM_CHUNK = 500  # announcements inserted by one statement (SQLite's limit on parameters)
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


def item_digest(user_id: int, key: str, secret: bytes | None = None) -> str:
    """``secret``: SECRET_KEY's bytes, when the caller computes many digests."""
    if secret is None:
        secret = current_app.config["SECRET_KEY"].encode()
    return hmac.digest(secret, f"reminder:{user_id}:{key}".encode(), "sha256").hex()  # one call into OpenSSL


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


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def announcements_of(user: User, items: list[Item], off: set[str], recorded: dict, now: datetime, today: date):
    """Items whose current threshold (or a later one) was never announced to ``user``, and
    announcements left pending by a failed or dead run (``recorded``: digest -> rows)."""
    found = []
    secret, user_id = current_app.config["SECRET_KEY"].encode(), user.id
    for item in items:
        if item.kind in off and item.kind not in LEGAL_KINDS:
            continue
        digest = item_digest(user_id, item.key, secret)
        current = threshold(item, today)
        done = recorded.get(digest, [])
        stale = [row for row in done if row.state == "pending" and _aware(row.claimed_at) <= now - LEASE]
        if stale:
            latest = max(stale, key=lambda row: RANK[row.threshold])
            found.append(Announcement(item, latest.threshold, digest, latest.id, latest.claimed_at))
        elif not any(RANK[row.threshold] >= RANK[current] for row in done):
            found.append(Announcement(item, current, digest))
    return found


def digests_for(today: date, now: datetime, users=None) -> list[Digest]:
    """Each active person with something to announce, in a few queries for everyone: the
    items once (``due_items``), then assignments, opt-outs and past announcements."""
    if users is None:
        users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)).all()
    index = ItemIndex(due_items(today))
    assigned: dict[int, set] = {}
    for user_id, operation_id in db.session.execute(select(OperationMember.user_id, OperationMember.operation_id)):
        assigned.setdefault(user_id, set()).add(operation_id)
    off: dict[int, set] = {}
    for user_id, kind in db.session.execute(select(ReminderOptOut.user_id, ReminderOptOut.kind)):
        off.setdefault(user_id, set()).add(kind)
    recorded: dict[int, dict] = {}
    table = ReminderDelivery.__table__
    for row in db.session.execute(select(table.c.id, table.c.user_id, table.c.item_digest, table.c.threshold,
                                         table.c.state, table.c.claimed_at)):
        recorded.setdefault(row.user_id, {}).setdefault(row.item_digest, []).append(row)
    found = []
    for user in users:
        scope = assigned.get(user.id, set()) if limited_to_assignments(user) else None
        items = items_for(user, today, index, scope)
        chosen = announcements_of(user, items, off.get(user.id, set()), recorded.get(user.id, {}), now, today)
        if chosen:
            found.append(Digest(user, chosen))
    return found


def due_announcements(user: User, today: date, now: datetime) -> list[Announcement]:
    """``user``'s next digest alone (tests, the page's preview)."""
    digests = digests_for(today, now, [user])
    return digests[0].announcements if digests else []


def claim(digests: list[Digest], now: datetime) -> list[Digest]:
    """Record the announcements before mailing, in one transaction that starts with its
    writes (SQLite: a transaction that read, then writes, fails at once when another
    process wrote meanwhile). New ones are inserted unless already there (another run, or
    another server, got them first: ON CONFLICT DO NOTHING); pending ones are taken back
    only if nobody took them meanwhile. Returns what this run owns and must mail."""
    plan = [(digest.user.id, digest) for digest in digests]
    db.session.commit()
    insert = sqlite_insert if db.engine.dialect.name == "sqlite" else postgresql_insert
    table = ReminderDelivery.__table__
    fresh = [{"user_id": user_id, "item_digest": a.digest, "threshold": a.threshold, "state": "pending",
              "claimed_at": now, "attempts": 1}
             for user_id, digest in plan for a in digest.announcements if a.row_id is None]
    inserted = set()
    if fresh:
        # One statement executed for many rows (SQLAlchemy batches them into multi-row
        # INSERTs itself): compiled once, whatever the number of announcements.
        statement = insert(table).on_conflict_do_nothing().returning(table.c.user_id, table.c.item_digest,
                                                                     table.c.threshold)
        inserted.update(tuple(row) for row in db.session.connection().execute(statement, fresh))
    owned = []
    for user_id, digest in plan:
        mine = []
        for announcement in digest.announcements:
            if announcement.row_id is None:
                if (user_id, announcement.digest, announcement.threshold) in inserted:
                    mine.append(announcement)
                continue
            taken = db.session.execute(
                update(ReminderDelivery)
                .where(ReminderDelivery.id == announcement.row_id, ReminderDelivery.state == "pending",
                       ReminderDelivery.claimed_at == announcement.row_claimed_at)
                .values(claimed_at=now, attempts=ReminderDelivery.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount == 1:
                mine.append(announcement)
        if mine:
            owned.append(Digest(digest.user, mine))
    db.session.commit()
    return owned


def settle(results: list[tuple[int, list[str], bool]], now: datetime) -> None:
    """After the mails (user id, item digests, sent?): sent rows are final; failed ones are
    released for the next run. One transaction for a batch of people, starting with its
    writes (the reads of the mails' rendering end first)."""
    db.session.commit()
    table = ReminderDelivery.__table__
    for sent in (True, False):
        users = [user_id for user_id, _digests, ok in results if ok is sent]
        if not users:
            continue
        values = {"state": "sent", "sent_at": now} if sent else {"claimed_at": now - LEASE - timedelta(seconds=1)}
        # What this run claimed carries its ``now`` (``claim``): the announcements of these mails.
        db.session.execute(update(table).where(table.c.user_id.in_(users), table.c.state == "pending",
                                               table.c.claimed_at == now).values(**values))
    db.session.commit()


def compose(digest: Digest, today: date, texts: dict | None = None) -> tuple[str, str]:
    """Subject and plain-text body in the person's language (call under force_locale).
    ``texts``: what a run wrote already, by language (each item's line and link, the
    headings), so that an item reaching many people is written once per language."""
    texts = {} if texts is None else texts
    locale = digest.user.locale or "fr"

    def once(key, make):
        found = texts.get((locale, key))
        if found is None:
            found = texts[(locale, key)] = make()
        return found

    counts = {key: sum(1 for a in digest.announcements if a.threshold == key) for key, _ in SECTIONS}
    subject = translate(N_("[Suivi FSE+] À faire : %(overdue)s en retard, %(soon)s bientôt, %(new)s nouveau(x)"),
                        **counts)
    lines = [translate(N_("Bonjour %(name)s,"), name=digest.user.full_name or digest.user.email), ""]
    for key, title in SECTIONS:
        chosen = [a for a in digest.announcements if a.threshold == key]
        if not chosen:
            continue
        lines.append(once(("section", key), lambda title=title: f"{translate(title)} :"))
        for announcement in sorted(chosen, key=lambda a: (a.item.due, a.item.key)):
            lines.extend(once(("item", id(announcement.item)), lambda item=announcement.item: _item_lines(item)))
        lines.append("")
    lines.append(once("footer", lambda: translate(N_("Votre liste complète et vos préférences de rappel : %(url)s"),
                                                  url=url_for("reminders.todo", _external=True))))
    return subject, "\n".join(lines) + "\n"


def _item_lines(item: Item) -> tuple[str, str]:
    if "%(due)s" in item.text:
        text = f"- {describe(item)}"
    else:
        text = translate(N_("- %(text)s (échéance : %(due)s)"), text=describe(item), due=format_day(item.due))
    return text, f"  {url_for(item.endpoint, _external=True, **item.url_values)}"


def mail_context():
    """One request context for a whole run, so that links are built on BUDGET_APP_BASE_URL."""
    return current_app.test_request_context("/", base_url=current_app.config["BUDGET_APP_BASE_URL"])


def render(digest: Digest, today: date, texts: dict | None = None) -> tuple[str, str]:
    """Subject and body in the person's language (inside ``mail_context``); ``texts``: see
    ``compose``."""
    with force_locale(digest.user.locale or "fr"):
        return compose(digest, today, texts)

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

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..accounts.models import OperationMember, User
from ..accounts.policy import limited_to_assignments, may
from ..kernel.extensions import db
from ..kernel.i18n import N_
from .items import LEGAL_KINDS, Item, ItemIndex, due_items
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


@dataclass(slots=True)
class Announcement:
    item: Item
    threshold: str
    digest: str
    row_id: int | None = None  # a pending row to send again, as it was read
    row_claimed_at: datetime | None = None
    rank: int = 0  # the item's place among a run's items, by due date then key (the digest's order)


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


def announcements_of(user: User, items, off: set[str], recorded: tuple[dict, dict], now: datetime,
                     thresholds: dict, secret: bytes):
    """Items whose current threshold (or a later one) was never announced to ``user``, and
    announcements left pending by a failed or dead run. ``recorded``: the person's past
    announcements, (item digest -> highest threshold sent, item digest -> pending rows);
    ``thresholds``: each item's threshold today and its place in a digest, by ``id``."""
    found = []
    sent, pending = recorded
    prefix = f"reminder:{user.id}:"
    for item in items:
        if item.kind in off and item.kind not in LEGAL_KINDS:
            continue
        digest = hmac.digest(secret, (prefix + item.key).encode(), "sha256").hex()  # item_digest, inlined
        current, rank = thresholds[id(item)]
        waiting = pending.get(digest)
        if waiting:
            stale = [row for row in waiting if _aware(row.claimed_at) <= now - LEASE]
            if stale:
                latest = max(stale, key=lambda row: RANK[row.threshold])
                found.append(Announcement(item, latest.threshold, digest, latest.id, latest.claimed_at, rank))
                continue
            if any(RANK[row.threshold] >= RANK[current] for row in waiting):
                continue
        if sent.get(digest, -1) < RANK[current]:
            found.append(Announcement(item, current, digest, None, None, rank))
    return found


class Plan:
    """What a run reads once for everyone (the items, by ``due_items``; assignments;
    opt-outs); the people's digests are then made a batch at a time (``digests``), each
    batch reading only its people's past announcements, so that a run's memory does not
    grow with the number of people."""

    def __init__(self, today: date, now: datetime):
        self.today, self.now = today, now
        items = due_items(today)
        self.index = ItemIndex(items)
        ordered = sorted(items, key=lambda item: (item.due, item.key))
        self.thresholds = {id(item): (threshold(item, today), rank) for rank, item in enumerate(ordered)}
        self.assigned: dict[int, set] = {}
        for user_id, operation_id in db.session.execute(select(OperationMember.user_id, OperationMember.operation_id)):
            self.assigned.setdefault(user_id, set()).add(operation_id)
        self.off: dict[int, set] = {}
        for user_id, kind in db.session.execute(select(ReminderOptOut.user_id, ReminderOptOut.kind)):
            self.off.setdefault(user_id, set()).add(kind)
        self.secret = current_app.config["SECRET_KEY"].encode()

    @staticmethod
    def people() -> list[User]:
        return db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)).all()

    def digests(self, users) -> list[Digest]:
        """The digests of ``users`` (active ones), those with something to announce."""
        users = [user for user in users if user.active]
        if not users:
            return []
        table = ReminderDelivery.__table__
        ids = [user.id for user in users]
        # Sent ones as plain strings (most rows: no date to read), pending ones as rows.
        sent: dict[int, dict] = {}
        for user_id, digest, level in db.session.execute(
                select(table.c.user_id, table.c.item_digest, table.c.threshold)
                .where(table.c.user_id.in_(ids), table.c.state == "sent")).all():
            known = sent.setdefault(user_id, {})
            if known.get(digest, -1) < RANK[level]:
                known[digest] = RANK[level]
        pending: dict[int, dict] = {}
        for row in db.session.execute(select(table.c.id, table.c.user_id, table.c.item_digest, table.c.threshold,
                                             table.c.claimed_at)
                                      .where(table.c.user_id.in_(ids), table.c.state == "pending")).all():
            pending.setdefault(row.user_id, {}).setdefault(row.item_digest, []).append(row)
        found = []
        for user in users:
            scope = self.assigned.get(user.id, set()) if limited_to_assignments(user) else None
            user_id = user.id
            items = [item for item in self.index.candidates(user, scope)  # items.reaches, inlined
                     if item.only_user_id in (None, user_id) and item.not_user_id != user_id]
            chosen = announcements_of(user, items, self.off.get(user.id, set()),
                                      (sent.get(user.id, {}), pending.get(user.id, {})),
                                      self.now, self.thresholds, self.secret)
            if chosen:
                found.append(Digest(user, chosen))
        return found


def digests_for(today: date, now: datetime, users=None) -> list[Digest]:
    """Each active person (or each of ``users``) with something to announce."""
    plan = Plan(today, now)
    return plan.digests(plan.people() if users is None else users)


def due_announcements(user: User, today: date, now: datetime) -> list[Announcement]:
    """``user``'s next digest alone (tests, the page's preview)."""
    digests = digests_for(today, now, [user])
    return digests[0].announcements if digests else []


def _insert_fresh(rows: list[tuple], now: datetime) -> int:
    """Insert (user id, item digest, threshold) rows as pending, claimed at ``now``, unless
    already there (ON CONFLICT DO NOTHING): one statement, compiled once by SQLAlchemy and
    executed by the driver for all the rows (no parameter processing per row in Python).
    Returns how many were inserted as the driver counts them (-1 when it does not)."""
    connection = db.session.connection()
    dialect = connection.dialect
    table = ReminderDelivery.__table__
    insert = sqlite_insert if dialect.name == "sqlite" else postgresql_insert
    compiled = insert(table).on_conflict_do_nothing().compile(
        dialect=dialect, column_keys=["user_id", "item_digest", "threshold", "state", "claimed_at", "attempts"])
    process = table.c.claimed_at.type.dialect_impl(dialect).bind_processor(dialect)
    fixed = {"state": "pending", "claimed_at": process(now) if process else now, "attempts": 1}
    varying = ("user_id", "item_digest", "threshold")
    if dialect.positional and tuple(compiled.positiontup[:3]) == varying:  # the table's order
        tail = tuple(fixed[name] for name in compiled.positiontup[3:])
        parameters = [row + tail for row in rows]
    elif dialect.positional:
        order = compiled.positiontup
        parameters = [tuple({**fixed, **dict(zip(varying, row))}[name] for name in order) for row in rows]
    else:
        parameters = [{**fixed, "user_id": user_id, "item_digest": digest, "threshold": level}
                      for user_id, digest, level in rows]
    result = connection.exec_driver_sql(compiled.string, parameters)
    return result.rowcount


def _take_back(rows: list[Announcement], now: datetime) -> set | None:
    """Take back pending rows left by a failed or dead run, each only if nobody took it
    meanwhile (its ``claimed_at`` unchanged): one UPDATE executed for all of them. Returns
    None when all were taken, else the ids this run took."""
    connection = db.session.connection()
    table = ReminderDelivery.__table__
    statement = (update(table)
                 .where(table.c.id == bindparam("row"), table.c.state == "pending",
                        table.c.claimed_at == bindparam("was", type_=table.c.claimed_at.type))
                 .values(claimed_at=now, attempts=table.c.attempts + 1))
    result = connection.execute(statement, [{"row": a.row_id, "was": a.row_claimed_at} for a in rows])
    if connection.dialect.supports_sane_multi_rowcount and result.rowcount == len(rows):
        return None
    ids = sorted(a.row_id for a in rows)
    taken = set()
    for start in range(0, len(ids), CLAIM_CHUNK):
        taken.update(connection.execute(select(table.c.id).where(
            table.c.id.in_(ids[start:start + CLAIM_CHUNK]), table.c.claimed_at == now)).scalars())
    return taken


def claim(digests: list[Digest], now: datetime) -> list[Digest]:
    """Record the announcements before mailing, in one transaction that starts with its
    writes (SQLite: a transaction that read, then writes, fails at once when another
    process wrote meanwhile). New ones are inserted unless already there (another run, or
    another server, got them first); pending ones are taken back only if nobody took them
    meanwhile. When another run got some first, what this run got is read back (it carries
    this run's ``now``). Returns what this run owns and must mail."""
    db.session.commit()
    table = ReminderDelivery.__table__
    fresh = [(digest.user.id, a.digest, a.threshold) for digest in digests for a in digest.announcements
             if a.row_id is None]
    mine_fresh = None  # None: every fresh row is this run's
    if fresh and _insert_fresh(fresh, now) != len(fresh):
        users = sorted({user_id for user_id, _digest, _threshold in fresh})
        mine_fresh = set()
        for start in range(0, len(users), CLAIM_CHUNK):
            mine_fresh.update(tuple(row) for row in db.session.execute(
                select(table.c.user_id, table.c.item_digest, table.c.threshold)
                .where(table.c.user_id.in_(users[start:start + CLAIM_CHUNK]), table.c.state == "pending",
                       table.c.claimed_at == now, table.c.attempts == 1)))
    stale = [a for digest in digests for a in digest.announcements if a.row_id is not None]
    mine_stale = _take_back(stale, now) if stale else None

    def ours(user_id: int, announcement: Announcement) -> bool:
        if announcement.row_id is None:
            return mine_fresh is None or (user_id, announcement.digest, announcement.threshold) in mine_fresh
        return mine_stale is None or announcement.row_id in mine_stale

    owned = []
    for digest in digests:
        if mine_fresh is None and mine_stale is None:
            owned.append(digest)  # all this run's
            continue
        mine = [a for a in digest.announcements if ours(digest.user.id, a)]
        if len(mine) == len(digest.announcements):
            owned.append(digest)
        elif mine:
            owned.append(Digest(digest.user, mine))
    db.session.commit()
    return owned


def settle(results: list[tuple[int, bool]], now: datetime) -> None:
    """After the mails (user id, sent?): sent rows are final; failed ones are released for
    the next run. One transaction for a batch of people, starting with its writes (the
    reads of the mails' rendering end first)."""
    db.session.commit()
    table = ReminderDelivery.__table__
    for sent in (True, False):
        users = [user_id for user_id, ok in results if ok is sent]
        if not users:
            continue
        values = {"state": "sent", "sent_at": now} if sent else {"claimed_at": now - LEASE - timedelta(seconds=1)}
        # What this run claimed carries its ``now`` (``claim``): the announcements of these mails.
        db.session.execute(update(table).where(table.c.user_id.in_(users), table.c.state == "pending",
                                               table.c.claimed_at == now).values(**values))
    db.session.commit()

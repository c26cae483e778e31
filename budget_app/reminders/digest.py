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
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..accounts.models import OperationMember, User
from ..accounts.policy import limited_to_assignments, may
from ..kernel.extensions import db
from ..kernel.i18n import N_
from .items import LEGAL_KINDS, Item, due_items
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


def confidential(user) -> bool:
    """The referents: their reminders are about alerts, and nobody may learn when they come."""
    return may("alerts.dashboard", "GET", user=user)


_IPAD, _OPAD = bytes(x ^ 0x36 for x in range(256)), bytes(x ^ 0x5C for x in range(256))


@lru_cache(maxsize=4)
def keyed(secret: bytes) -> tuple:
    """HMAC-SHA256 keyed with ``secret`` (RFC 2104), as its two hash states with the key
    absorbed: a digest then costs two copies and two short updates, no key set-up (the
    same bytes as ``hmac.digest(secret, message, "sha256")``)."""
    if len(secret) > 64:
        secret = hashlib.sha256(secret).digest()
    key = secret.ljust(64, b"\0")
    return hashlib.sha256(key.translate(_IPAD)), hashlib.sha256(key.translate(_OPAD))


def keyed_hex(states: tuple, message: bytes) -> str:
    inner, outer = states[0].copy(), states[1].copy()
    inner.update(message)
    outer.update(inner.digest())
    return outer.hexdigest()


def item_digest(user_id: int, key: str, secret: bytes | None = None) -> str:
    """The item's key as stored for ``user_id``: keyed by SECRET_KEY (``secret``: its bytes),
    so that the table never says which alert, operation or person an item was about."""
    if secret is None:
        secret = current_app.config["SECRET_KEY"].encode()
    return keyed_hex(keyed(secret), f"reminder:{user_id}:{key}".encode())


@dataclass(frozen=True, slots=True)
class Reader:
    """A person as a run reads them (plain columns, no ORM object to load or expire); what
    the access policy asks of a user (``role``, ``is_authenticated``) included."""
    id: int
    email: str
    full_name: str | None
    locale: str | None
    role: str | None
    active: bool = True
    is_authenticated = True


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
    user: User | Reader
    announcements: list[Announcement]

    @property
    def message_id(self) -> str:
        parts = sorted(f"{a.digest}:{a.threshold}" for a in self.announcements)
        config = current_app.config
        token = keyed_hex(keyed(config["SECRET_KEY"].encode()), f"{self.user.id}|{'|'.join(parts)}".encode())[:40]
        domain = config["MAIL_DEFAULT_SENDER"].rpartition("@")[2] or "localhost"
        return f"<reminder.{token}@{domain}>"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _chosen(found: list, entries, user_id: int, off, sent: dict, pending: dict, now: datetime, base, outer):
    """Adds to ``found`` the ``entries`` (Plan's) whose current threshold (or a later one)
    was never announced to the person, and announcements left pending by a failed or dead
    run. ``sent``: item digest -> highest threshold sent; ``pending``: item digest -> rows;
    ``base``/``outer``: the keyed hash states with the person's prefix absorbed (``item_digest``)."""
    for item, current, level, rank, key, kind, only_user_id, not_user_id in entries:
        if (only_user_id is not None and only_user_id != user_id) or not_user_id == user_id:
            continue  # items.reaches
        if off and kind in off and kind not in LEGAL_KINDS:
            continue
        inner, hashed = base.copy(), outer.copy()
        inner.update(key)
        hashed.update(inner.digest())
        digest = hashed.hexdigest()
        waiting = pending.get(digest) if pending else None
        if waiting:
            stale = [row for row in waiting if _aware(row.claimed_at) <= now - LEASE]
            if stale:
                latest = max(stale, key=lambda row: RANK[row.threshold])
                found.append(Announcement(item, latest.threshold, digest, latest.id, latest.claimed_at, rank))
                continue
            if any(RANK[row.threshold] >= level for row in waiting):
                continue
        if sent.get(digest, -1) < level:
            found.append(Announcement(item, current, digest, None, None, rank))


class Plan:
    """What a run reads once for everyone (the items, by ``due_items``; assignments;
    opt-outs); the people's digests are then made a batch at a time (``digests``), each
    batch reading only its people's past announcements, so that a run's memory does not
    grow with the number of people. Each item is prepared once (its threshold, its place
    in a digest, its key's bytes), filed by where it is acted on and by operation; what a
    role may act on is asked of the access policy once per role, not per person."""

    def __init__(self, today: date, now: datetime):
        self.today, self.now = today, now
        items = due_items(today)
        ordered = sorted(items, key=lambda item: (item.due, item.key))
        self.by_action: dict[tuple, tuple[list, dict]] = {}
        for rank, item in enumerate(ordered):
            current = threshold(item, today)
            entry = (item, current, RANK[current], rank, item.key.encode(), item.kind, item.only_user_id,
                     item.not_user_id)
            general, by_operation = self.by_action.setdefault(item.acts_on, ([], {}))
            if item.operation_id is None:
                general.append(entry)
            else:
                by_operation.setdefault(item.operation_id, []).append(entry)
        self.roles: dict = {}
        self.assigned: dict[int, set] = {}
        for user_id, operation_id in db.session.execute(select(OperationMember.user_id, OperationMember.operation_id)):
            self.assigned.setdefault(user_id, set()).add(operation_id)
        self.off: dict[int, set] = {}
        for user_id, kind in db.session.execute(select(ReminderOptOut.user_id, ReminderOptOut.kind)):
            self.off.setdefault(user_id, set()).add(kind)
        self.secret = current_app.config["SECRET_KEY"].encode()

    @staticmethod
    def people() -> list[Reader]:
        """The active people, as plain rows."""
        return [Reader(*row) for row in db.session.execute(
            select(User.id, User.email, User.full_name, User.locale, User.role)
            .where(User.active.is_(True)).order_by(User.id))]

    def _role(self, user) -> tuple:
        """(limited to assigned operations?, the filed items of the actions the role may take)."""
        found = self.roles.get(user.role)
        if found is None:
            found = self.roles[user.role] = (limited_to_assignments(user), [
                filed for (endpoint, method), filed in self.by_action.items() if may(endpoint, method, user=user)])
        return found

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
        inner, outer = keyed(self.secret)
        found = []
        for user in users:
            user_id = user.id
            limited, actions = self._role(user)
            scope = self.assigned.get(user_id, ()) if limited else None
            base = inner.copy()
            base.update(f"reminder:{user_id}:".encode())
            chosen: list[Announcement] = []
            facts = (user_id, self.off.get(user_id), sent.get(user_id, {}), pending.get(user_id), self.now, base, outer)
            for general, by_operation in actions:
                _chosen(chosen, general, *facts)
                for operation_id in (by_operation if scope is None else scope):
                    entries = by_operation.get(operation_id)
                    if entries:
                        _chosen(chosen, entries, *facts)
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


_COLUMNS = ("user_id", "item_digest", "threshold", "state", "claimed_at", "attempts")
INSERT_ROWS = 150  # rows per multi-row INSERT (6 parameters each: under SQLite's historical limit of 999)


@lru_cache(maxsize=8)
def _insert_statement(dialect, rows: int) -> tuple[str, tuple | None]:
    """INSERT ... ON CONFLICT DO NOTHING of ``rows`` rows (one VALUES list, parameters
    named ``<column>_<row>``), compiled once by SQLAlchemy for ``dialect``: its SQL and, for
    a driver taking positional parameters, their names in order (None: named parameters)."""
    table = ReminderDelivery.__table__
    insert = sqlite_insert if dialect.name == "sqlite" else postgresql_insert
    values = [{column: bindparam(f"{column}_{row}") for column in _COLUMNS} for row in range(rows)]
    compiled = insert(table).values(values if rows > 1 else values[0]).on_conflict_do_nothing().compile(dialect=dialect)
    return compiled.string, (tuple(compiled.positiontup) if dialect.positional else None)


def _insert_fresh(rows: list[tuple], now: datetime) -> int:
    """Insert (user id, item digest, threshold) rows as pending, claimed at ``now``, unless
    already there (ON CONFLICT DO NOTHING), in the unique index's order: where the driver
    takes positional parameters (SQLite), by statements of ``INSERT_ROWS`` rows each, the
    rest (or every row, elsewhere) by one statement executed by the driver for each row;
    statements compiled once by SQLAlchemy, no parameter processed per row in Python.
    Returns how many were inserted as the driver counts them (-1 when it does not)."""
    connection = db.session.connection()
    dialect = connection.dialect
    process = ReminderDelivery.__table__.c.claimed_at.type.dialect_impl(dialect).bind_processor(dialect)
    tail = ("pending", process(now) if process else now, 1)  # _COLUMNS[3:]
    natural = tuple(f"{column}_{row}" for row in range(INSERT_ROWS) for column in _COLUMNS)
    rows = sorted(rows)
    counts, start = [], 0
    sql, order = _insert_statement(dialect, INSERT_ROWS)
    if order == natural:
        while len(rows) - start >= INSERT_ROWS:
            chunk = rows[start:start + INSERT_ROWS]
            counts.append(connection.exec_driver_sql(sql, tuple(value for row in chunk for value in row + tail)).rowcount)
            start += INSERT_ROWS
    if start < len(rows):
        sql, order = _insert_statement(dialect, 1)
        if order == natural[:len(_COLUMNS)]:
            parameters = [row + tail for row in rows[start:]]
        else:  # named parameters (psycopg), or positional in another order
            parameters = [dict(zip(natural, row + tail)) for row in rows[start:]]
            if order is not None:
                parameters = [tuple(values[name] for name in order) for values in parameters]
        counts.append(connection.exec_driver_sql(sql, parameters).rowcount)
    return -1 if -1 in counts else sum(counts)


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

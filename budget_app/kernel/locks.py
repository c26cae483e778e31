"""Rules that hold under concurrency (issue 21): a rule that reads then writes (a cap, a
total, "one per month") takes a lock on what scopes it before it reads, in the one
service that applies it, so forms, imports and commands are all covered.

- ``lock_rows``: ``SELECT … FOR UPDATE`` on the parent rows (an envelope, the people of a
  timesheet file), in id order so that two requests never wait on each other in a ring.
- ``lock_keys``: where no row scopes the rule (an invoice shared between operations is a
  supplier and a document number), a PostgreSQL transaction-level advisory lock on a
  bucket of the key (at most ``BUCKETS`` per rule, taken in order).

Both are held until the request's single commit (or rollback). On SQLite a request's
transaction is BEGIN IMMEDIATE (``budget_app.__init__``): writers already take turns, so
both are no-ops there (SQLite has no FOR UPDATE; SQLAlchemy leaves it out).
"""
import zlib

from sqlalchemy import select, text

from .extensions import db

BUCKETS = 1024
# One namespace (the first half of the advisory lock's key) per rule.
NAMESPACES = {"expense-document": 21_001, "staff-person": 21_002}


def lock_rows(model, ids) -> None:
    """Lock the rows of ``model`` whose id is in ``ids`` until the end of the transaction."""
    ids = sorted({id for id in ids if id is not None})
    if ids:
        db.session.execute(select(model.id).where(model.id.in_(ids)).order_by(model.id).with_for_update())


def bucket(key: str) -> int:
    return zlib.crc32(key.encode("utf-8")) % BUCKETS


def lock_keys(namespace: str, keys, held: set | None = None) -> None:
    """Lock the buckets of ``keys`` for rule ``namespace`` until the end of the transaction
    (PostgreSQL; nothing to do on SQLite). ``held`` (a set kept by the caller) skips the
    buckets this transaction already holds."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    buckets = sorted({bucket(key) for key in keys} - (held or set()))
    if buckets:
        # One executemany, in bucket order: psycopg pipelines the statements (an import of
        # 800 suppliers waited for 800 round trips), the server takes the locks in turn.
        db.session.execute(text("SELECT pg_advisory_xact_lock(:namespace, :bucket)"),
                           [{"namespace": NAMESPACES[namespace], "bucket": number} for number in buckets])
    if held is not None:
        held.update(buckets)

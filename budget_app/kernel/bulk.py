"""Rows inserted in bulk with their ids known, without a RETURNING per row: imports write
thousands of rows, then their audit entries naming each id.

- PostgreSQL: the ids are drawn from the table's sequence in one query, then the rows are
  sent with those ids by one executemany (psycopg pipelines it). An INSERT … RETURNING of
  thousands of rows would be sent as pages of multi-row statements that the driver parses
  again for every page (issue 23: most of a 10 000-participant import).
- SQLite: the first row's INSERT takes the database's single write lock and returns its id;
  the others get the ids that follow it, in one executemany.
"""
import gc
from contextlib import contextmanager

from sqlalchemy import insert, text

from .extensions import db


def insert_with_ids(table, rows: list[dict]) -> list[int]:
    """Insert ``rows`` (dicts of column values, without ``id``) into ``table``, whose
    primary key is an integer ``id``; each row gets its ``id``; returns the ids in order."""
    if not rows:
        return []
    if db.session.get_bind().dialect.name == "postgresql":
        ids = sorted(db.session.execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"),
            {"table": table.name, "count": len(rows)}).scalars())
        for row, id_ in zip(rows, ids):
            row["id"] = id_
        db.session.execute(insert(table), rows)
        return ids
    if db.session.get_bind().dialect.name != "sqlite":
        return db.session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars().all()
    first = db.session.execute(insert(table).returning(table.c.id), rows[:1]).scalar_one()
    rows[0]["id"] = first
    for offset, row in enumerate(rows[1:], start=1):
        row["id"] = first + offset
    if len(rows) > 1:
        db.session.execute(insert(table), rows[1:])
    return [first + offset for offset in range(len(rows))]


@contextmanager
def gc_paused():
    """Python's cycle collector off for the length of an import (``@gc_paused()`` or
    ``with gc_paused():``): reading, checking and writing 10 000 rows allocates millions of
    objects, and each burst triggered a collection walking the objects still held (a fifth
    of a 10 000-row import's time, issues 23 and 27). Rows are freed by reference counting
    as before; cycles wait for the collector, back on at the end (left off if something
    else had turned it off)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

"""Rows inserted in bulk with their ids known, without a RETURNING per row: imports write
thousands of rows, then their audit entries naming each id.

- PostgreSQL: the ids are drawn from the table's sequence in one query, then the rows are
  sent with those ids by one COPY (``insert_rows``). An INSERT … RETURNING of thousands of
  rows would be sent as pages of multi-row statements that the driver parses again for
  every page (issue 23: most of a 10 000-participant import); psycopg's executemany is one
  statement per row, each firing the table's statement triggers (issue 27).
- SQLite: the first row's INSERT takes the database's single write lock and returns its id;
  the others get the ids that follow it, in one executemany of the driver (``insert_rows``).
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
        insert_rows(table, rows)
        return ids
    if db.session.get_bind().dialect.name != "sqlite":
        return db.session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars().all()
    first = db.session.execute(insert(table).returning(table.c.id), rows[:1]).scalar_one()
    rows[0]["id"] = first
    for offset, row in enumerate(rows[1:], start=1):
        row["id"] = first + offset
    if len(rows) > 1:
        insert_rows(table, rows[1:])
    return [first + offset for offset in range(len(rows))]


def insert_rows(table, rows: list[dict]) -> None:
    """``session.execute(insert(table), rows)``, the same rows stored, faster: on SQLite the
    driver's executemany of one compiled INSERT; on PostgreSQL one COPY (the driver's
    pipelined executemany is one INSERT per row, and each fires the table's statement
    triggers: the expenses' month totals, issue 27). Every row carries the
    same keys; a column left out gets what the INSERT would give it (its server default),
    and a table whose left-out columns have Python-side defaults takes the INSERT."""
    if not rows:
        return
    session = db.session
    dialect = session.get_bind().dialect
    keys = list(rows[0])
    if len(rows) < COPY_FROM_ROWS or dialect.name not in ("postgresql", "sqlite") or any(
            column.default is not None or column.onupdate is not None
            for column in table.columns if column.key not in keys):
        session.execute(insert(table), rows)
        return
    if dialect.name == "sqlite":
        _executemany(session, table, keys, rows)
        return
    from psycopg import sql

    columns = [table.columns[key] for key in keys]
    processors = [column.type._cached_bind_processor(dialect) for column in columns]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(column.name) for column in columns))
    session.flush()  # what the session holds is written before the COPY (the same connection)
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        width = len(keys)
        for row in rows:
            if len(row) != width:  # and a missing key raises KeyError below
                raise ValueError("insert_rows: every row carries the same columns")
            copy.write_row([value if process is None else process(value)
                            for value, process in zip((row[key] for key in keys), processors)])


def _executemany(session, table, keys: list, rows: list[dict]) -> None:
    """SQLite: the INSERT compiled once and the rows sent by the driver's executemany, each
    value through its column type's bind processor, as SQLAlchemy would (issue 27: its
    per-row parameter handling was a tenth of a 10 000-row import)."""
    dialect = session.get_bind().dialect
    compiled = insert(table).compile(dialect=dialect, column_keys=keys)
    order = list(compiled.positiontup)
    if sorted(order) != sorted(keys):
        session.execute(insert(table), rows)
        return
    columns = [(key, table.columns[key].type._cached_bind_processor(dialect)) for key in order]
    width = len(keys)
    values = []
    for row in rows:
        if len(row) != width:  # and a missing key raises KeyError below
            raise ValueError("insert_rows: every row carries the same columns")
        values.append(tuple([row[key] if process is None else process(row[key]) for key, process in columns]))
    session.flush()  # what the session holds is written first, as before the COPY
    session.connection().exec_driver_sql(compiled.string, values)


# Fewer rows go by INSERT: a COPY (PostgreSQL) or a statement compiled apart (SQLite) costs
# a statement of its own.
COPY_FROM_ROWS = 50


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

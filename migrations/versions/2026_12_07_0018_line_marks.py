"""The marks on cost lines (``line_marks``): declared in bilan N, held. The bilan a line is
declared in moves from ``expenses.claim_id`` and ``staff_cost_lines.claim_id`` (foreign keys
pointing up to claims, now dropped) into *declared* marks; every hold of the managing
authority (``line_holds``) and every suspicion (``alert_cost_lines``) gets its *held* mark,
which the asking row names (``mark_id``). Downgrade puts the columns and their values back.

SQLite cannot drop a column named in a foreign key, and rebuilding ``expenses`` would lose
its triggers (0006) and break the tables that reference it: the foreign key clause is taken
out of (or put into) the stored CREATE TABLE (``PRAGMA writable_schema``, the procedure of
sqlite.org/lang_altertable.html section 7 for constraints existing rows satisfy), then the
column is dropped (or added) with ALTER TABLE.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""
import re

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

LIVE_DECLARATION = "kind = 'declared' AND released_at IS NULL"
DECLARED_LINES = (("expenses", "expense"), ("staff_cost_lines", "staff_cost_line"))
HOLDERS = (("line_holds", "placed_at", "released_at"), ("alert_cost_lines", "linked_at", "lifted_at"))


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _edit_sqlite_table(table: str, edit) -> None:
    """Rewrite the stored CREATE TABLE of ``table`` with ``edit(ddl)`` (SQLite only)."""
    connection = op.get_bind()
    ddl = connection.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                                     (table,)).scalar_one()
    new = edit(ddl)
    version = connection.exec_driver_sql("PRAGMA schema_version").scalar_one()
    connection.exec_driver_sql("PRAGMA writable_schema = ON")
    connection.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (new, table))
    connection.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    connection.exec_driver_sql("PRAGMA writable_schema = OFF")


def _drop_fk_column(table: str, column: str, referred: str) -> None:
    name = f"fk_{table}_{column}_{referred}"
    if not _sqlite():
        op.drop_constraint(name, table, type_="foreignkey")
        op.drop_column(table, column)
        return
    pattern = re.compile(rf",\s*(CONSTRAINT\s+\"?{name}\"?\s+)?FOREIGN KEY\s*\(\s*\"?{column}\"?\s*\)\s*"
                         rf"REFERENCES\s+\"?{referred}\"?\s*\(\s*\"?id\"?\s*\)")

    def without_fk(ddl: str) -> str:
        if len(pattern.findall(ddl)) != 1:
            raise RuntimeError(f"unexpected {table} schema: {ddl}")
        return pattern.sub("", ddl)

    _edit_sqlite_table(table, without_fk)
    op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")


def _add_fk_column(table: str, column: str, referred: str) -> None:
    name = f"fk_{table}_{column}_{referred}"
    op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
    if not _sqlite():
        op.create_foreign_key(name, table, referred, [column], ["id"])
        return

    def with_fk(ddl: str) -> str:
        # Right after the primary key, so that the table's last constraints stay last (the
        # downgrade of 0010 looks for them there).
        primary_key = re.compile(rf"CONSTRAINT\s+\"?pk_{table}\"?\s+PRIMARY KEY\s*\(\s*\"?id\"?\s*\)")
        if len(primary_key.findall(ddl)) != 1:
            raise RuntimeError(f"unexpected {table} schema: {ddl}")
        return primary_key.sub(lambda found: f"{found.group(0)}, \n\tCONSTRAINT {name} FOREIGN KEY({column}) "
                                             f"REFERENCES {referred} (id)", ddl)

    _edit_sqlite_table(table, with_fk)


def upgrade():
    op.create_table(
        "line_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_type", sa.String(length=16), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("bilan_id", sa.Integer(), nullable=True),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("line_type IN ('expense', 'staff_cost_line')", name=op.f("ck_line_marks_line_type_known")),
        sa.CheckConstraint("(kind = 'declared' AND bilan_id IS NOT NULL) OR (kind = 'held' AND bilan_id IS NULL)",
                           name=op.f("ck_line_marks_kind_known_declared_names_bilan")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_marks")),
    )
    op.create_index("ix_line_marks_line", "line_marks", ["line_type", "line_id"], unique=False)
    op.create_index("ix_line_marks_bilan", "line_marks", ["bilan_id"], unique=False)
    op.create_index("line_marks_declared_once", "line_marks", ["line_type", "line_id"], unique=True,
                    sqlite_where=sa.text(LIVE_DECLARATION), postgresql_where=sa.text(LIVE_DECLARATION))
    # Declared: the bilan a line was attached to, placed when that bilan was submitted.
    for table, line_type in DECLARED_LINES:
        op.execute(
            f"INSERT INTO line_marks (line_type, line_id, kind, bilan_id, placed_at) "
            f"SELECT '{line_type}', t.id, 'declared', t.claim_id, COALESCE(c.submitted_at, c.created_at) "
            f"FROM {table} t JOIN claims c ON c.id = t.claim_id ORDER BY t.id"
        )
    # Held: one mark per hold and per suspicion, its id kept by the asking row.
    for table, placed, released in HOLDERS:
        _add_fk_column(table, "mark_id", "line_marks")
        offset = op.get_bind().execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM line_marks")).scalar_one()
        op.execute(
            f"INSERT INTO line_marks (id, line_type, line_id, kind, bilan_id, placed_at, released_at) "
            f"SELECT {offset} + id, line_type, line_id, 'held', NULL, {placed}, {released} FROM {table}"
        )
        op.execute(f"UPDATE {table} SET mark_id = {offset} + id")
    if not _sqlite():
        op.execute("SELECT setval(pg_get_serial_sequence('line_marks', 'id'), "
                   "COALESCE((SELECT MAX(id) FROM line_marks), 0) + 1, false)")
    for table, _line_type in DECLARED_LINES:
        op.drop_index(f"ix_{table}_claim_id", table_name=table)
        _drop_fk_column(table, "claim_id", "claims")


def downgrade():
    for table, line_type in DECLARED_LINES:
        _add_fk_column(table, "claim_id", "claims")
        op.create_index(f"ix_{table}_claim_id", table, ["claim_id"], unique=False)
        op.execute(
            f"UPDATE {table} SET claim_id = (SELECT m.bilan_id FROM line_marks m WHERE m.line_type = '{line_type}' "
            f"AND m.line_id = {table}.id AND m.kind = 'declared' AND m.released_at IS NULL)"
        )
    for table, _placed, _released in HOLDERS:
        _drop_fk_column(table, "mark_id", "line_marks")
    op.drop_index("line_marks_declared_once", table_name="line_marks")
    op.drop_index("ix_line_marks_bilan", table_name="line_marks")
    op.drop_index("ix_line_marks_line", table_name="line_marks")
    op.drop_table("line_marks")

"""Retention extended the same way whatever the cause (issue 21, point 3): the managing
authority's procedures move from ``operations.retention_procedure`` (an audited column: its
reason was in the trail) to their own table ``retention_procedures``; what every page reads
is ``retention_extensions``, opened and closed by the daily computation (`retention update`)
for any cause. At upgrade, an extension is opened (from today) for each operation with a
procedure or an alert not closed (on it or on some of its cost lines), so nothing reads
differently before the first computation. Downgrade puts the column and its values back.

Revision ID: 0027_i21c
Revises: 0026
Create Date: 2026-12-07
"""
from datetime import date, datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0027_i21c"
down_revision = "0028_i24c"
branch_labels = None
depends_on = None

OPEN_EXTENSION = "until IS NULL"
CLOSED_ALERT_STATES = "('closed_founded', 'closed_unfounded')"


def upgrade():
    op.create_table(
        "retention_procedures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["operation_id"], ["operations.id"],
                                name=op.f("fk_retention_procedures_operation_id_operations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_procedures")),
    )
    op.create_index("ix_retention_procedures_operation_live", "retention_procedures", ["operation_id", "lifted_at"])
    op.create_table(
        "retention_extensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.CheckConstraint("until IS NULL OR until >= since", name=op.f("ck_retention_extensions_period_ordered")),
        sa.ForeignKeyConstraint(["operation_id"], ["operations.id"],
                                name=op.f("fk_retention_extensions_operation_id_operations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_extensions")),
    )
    op.create_index("retention_extensions_open_once", "retention_extensions", ["operation_id"], unique=True,
                    sqlite_where=sa.text(OPEN_EXTENSION), postgresql_where=sa.text(OPEN_EXTENSION))
    connection = op.get_bind()
    connection.execute(sa.text(
        "INSERT INTO retention_procedures (operation_id, reason, placed_at) "
        "SELECT id, retention_procedure, :now FROM operations WHERE retention_procedure IS NOT NULL ORDER BY id"
    ), {"now": datetime.now(timezone.utc)})
    connection.execute(sa.text(
        "INSERT INTO retention_extensions (operation_id, since) SELECT o.id, :today FROM operations o "
        "WHERE o.retention_procedure IS NOT NULL "
        f"OR EXISTS (SELECT 1 FROM alerts a WHERE a.operation_id = o.id AND a.state NOT IN {CLOSED_ALERT_STATES}) "
        "OR EXISTS (SELECT 1 FROM alert_cost_lines l JOIN alerts a ON a.id = l.alert_id "
        f"WHERE l.operation_id = o.id AND a.state NOT IN {CLOSED_ALERT_STATES}) ORDER BY o.id"
    ), {"today": date.today()})
    op.execute("ALTER TABLE operations DROP COLUMN retention_procedure")


def downgrade():
    op.add_column("operations", sa.Column("retention_procedure", sa.String(300), nullable=True))
    op.execute(
        "UPDATE operations SET retention_procedure = (SELECT MAX(p.reason) FROM retention_procedures p "
        "WHERE p.operation_id = operations.id AND p.lifted_at IS NULL)"
    )
    op.drop_index("retention_extensions_open_once", table_name="retention_extensions")
    op.drop_table("retention_extensions")
    op.drop_index("ix_retention_procedures_operation_live", table_name="retention_procedures")
    op.drop_table("retention_procedures")

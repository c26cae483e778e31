"""The figures the operations table keeps per operation (issue 27, ``reporting.kept_models``):
``pending_figures`` (what a statement would count today, by category) and
``pending_figure_states`` (the generation they were computed at, the days they hold for).

Backfill: one state row per existing operation, never computed; the first home page (or
``flask reporting rebuild-figures``, which the upgrade notes suggest) computes them.

Revision ID: 0034_dash
Revises: 0034_units
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

import budget_app.kernel.db_types

revision = "0034_dash"
down_revision = "0034_units"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pending_figure_states",
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("figures_generation", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["operation_id"], ["operations.id"],
                                name=op.f("fk_pending_figure_states_operation_id_operations")),
        sa.PrimaryKeyConstraint("operation_id", name=op.f("pk_pending_figure_states")),
    )
    op.create_table(
        "pending_figures",
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("amount", budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=False),
        sa.ForeignKeyConstraint(["operation_id"], ["operations.id"],
                                name=op.f("fk_pending_figures_operation_id_operations")),
        sa.PrimaryKeyConstraint("operation_id", "category", name=op.f("pk_pending_figures")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Every write of a cost line updates its operation's row: room for in-page (HOT)
        # updates, and vacuumed often (as ``expense_month_totals``, 0006).
        op.execute("ALTER TABLE pending_figure_states SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0, "
                   "autovacuum_vacuum_threshold = 1000, autovacuum_analyze_threshold = 1000)")
    op.execute("INSERT INTO pending_figure_states (operation_id, generation) SELECT id, 0 FROM operations")


def downgrade():
    op.drop_table("pending_figures")
    op.drop_table("pending_figure_states")

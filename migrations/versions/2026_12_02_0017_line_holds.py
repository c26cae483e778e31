"""Holds placed by the managing authority on cost lines (``line_holds``): a held line stays
out of every new bilan until released, and reads « En attente » like any other hold.

Revision ID: 0017
Revises: 0012
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "line_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("line_type", sa.String(length=16), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("release_reason", sa.String(length=300), nullable=True),
        sa.CheckConstraint("line_type IN ('expense', 'staff_cost_line')", name=op.f("ck_line_holds_line_type_known")),
        sa.CheckConstraint("released_at IS NULL OR release_reason IS NOT NULL",
                           name=op.f("ck_line_holds_release_has_reason")),
        sa.ForeignKeyConstraint(["operation_id"], ["operations.id"], name=op.f("fk_line_holds_operation_id_operations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_holds")),
    )
    op.create_index("ix_line_holds_operation_live", "line_holds", ["operation_id", "released_at"], unique=False)


def downgrade():
    op.drop_index("ix_line_holds_operation_live", table_name="line_holds")
    op.drop_table("line_holds")

"""Amendments entered by a finance officer wait for an administrator's approval:
``amendment_requests`` (pending, approved or rejected with a reason). Users get a name
(``full_name``) and a single-use password set-up link (``setup_token_hash``, ``setup_expires_at``).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("full_name", sa.String(120), nullable=True))
        batch.add_column(sa.Column("setup_token_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("setup_expires_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "amendment_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("plan_version_number", sa.Integer(), nullable=True),
        sa.CheckConstraint("state IN ('pending', 'approved', 'rejected')", name=op.f("ck_amendment_requests_state_known")),
        sa.ForeignKeyConstraint(["operation_id"], ["operations.id"],
                                name=op.f("fk_amendment_requests_operation_id_operations")),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"],
                                name=op.f("fk_amendment_requests_requested_by_id_users")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"], name=op.f("fk_amendment_requests_decided_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_amendment_requests")),
    )
    op.create_index(op.f("ix_amendment_requests_operation_id"), "amendment_requests", ["operation_id"])


def downgrade():
    op.drop_index("ix_amendment_requests_operation_id", table_name="amendment_requests")
    op.drop_table("amendment_requests")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("setup_expires_at")
        batch.drop_column("setup_token_hash")
        batch.drop_column("full_name")

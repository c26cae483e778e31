"""Reminders: announcements per person, item and threshold (idempotent digests), kinds a
person turned off, private calendar feeds.

Revision ID: 0026
Revises: 0023
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reminder_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("item_digest", sa.String(length=64), nullable=False),
        sa.Column("threshold", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.CheckConstraint("threshold IN ('new', 'soon', 'overdue')", name=op.f("ck_reminder_deliveries_threshold_known")),
        sa.CheckConstraint("state IN ('pending', 'sent')", name=op.f("ck_reminder_deliveries_state_known")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_reminder_deliveries_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_deliveries")),
        sa.UniqueConstraint("user_id", "item_digest", "threshold", name="one_announcement_per_threshold"),
    )
    op.create_index(op.f("ix_reminder_deliveries_user_id"), "reminder_deliveries", ["user_id"], unique=False)
    op.create_table(
        "reminder_opt_outs",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_reminder_opt_outs_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", "kind", name=op.f("pk_reminder_opt_outs")),
    )
    op.create_table(
        "calendar_feeds",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_calendar_feeds_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feeds_token_hash")),
    )


def downgrade():
    op.drop_table("calendar_feeds")
    op.drop_table("reminder_opt_outs")
    op.drop_index(op.f("ix_reminder_deliveries_user_id"), table_name="reminder_deliveries")
    op.drop_table("reminder_deliveries")

"""Alert events go to the referent's own log (``alert_log_entries``), never to the general
audit trail; reporters' follow-up sessions are kept on the server
(``alert_follow_up_sessions``). Existing alert rows of the append-only audit trail are left
as they are (the trail is append-only; see README, Security).

Revision ID: 0011
Revises: 0016
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "alert_log_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name=op.f("fk_alert_log_entries_alert_id_alerts")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_alert_log_entries_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_log_entries")),
    )
    op.create_index(op.f("ix_alert_log_entries_alert_id"), "alert_log_entries", ["alert_id"], unique=False)
    op.create_table(
        "alert_follow_up_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name=op.f("fk_alert_follow_up_sessions_alert_id_alerts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_follow_up_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_alert_follow_up_sessions_token_hash")),
    )
    op.create_index(
        op.f("ix_alert_follow_up_sessions_alert_id"), "alert_follow_up_sessions", ["alert_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_alert_follow_up_sessions_alert_id"), table_name="alert_follow_up_sessions")
    op.drop_table("alert_follow_up_sessions")
    op.drop_index(op.f("ix_alert_log_entries_alert_id"), table_name="alert_log_entries")
    op.drop_table("alert_log_entries")

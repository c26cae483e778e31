"""Keys per referent (alerts) and the second factor (accounts).

- ``alert_key_wraps``: each alert's content key wrapped for each holder (referent, recovery
  key, reporter, and transitionally the server key); ``alert_referent_keys``: each
  referent's key pair (private part under their password) and access grant;
  ``alert_recovery_keys``: the public part of the organisation's recovery key;
  ``alerts.sealed``, ``alert_follow_up_sessions.key_enc``.
- ``users.totp_*``, ``user_recovery_codes``; ``user_sessions.second_factor_pending``,
  ``fresh_at``, ``vault``.

Safe on SQLite and PostgreSQL, and holds no secret: this migration makes no key, reads no
key and prints nothing. Alerts already filed stay under the server key (``sealed`` false);
every referent active now is marked as having access and *pending*: at the first login of a
referent granted access, the recovery key is made (its private part shown once to that
referent, on screen only), the existing alerts are re-encrypted under a content key each,
wrapped for the recovery key and each such referent, and kept under the server key only
until each pending referent has logged in once; then those server wraps are deleted
(``budget_app/alerts/legacy.py``).

Revision ID: 0019
Revises: 0022
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("totp_secret_enc", sa.LargeBinary(), nullable=True))
    op.add_column("users", sa.Column("totp_confirmed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("users", sa.Column("totp_last_counter", sa.Integer(), nullable=True))
    op.add_column("user_sessions", sa.Column("second_factor_pending", sa.Boolean(), nullable=False,
                                             server_default=sa.false()))
    op.add_column("user_sessions", sa.Column("fresh_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("user_sessions", sa.Column("vault", sa.LargeBinary(), nullable=True))
    op.add_column("alerts", sa.Column("sealed", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("alert_follow_up_sessions", sa.Column("key_enc", sa.LargeBinary(), nullable=True))
    op.create_table(
        "user_recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_recovery_codes_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_recovery_codes")),
    )
    op.create_index(op.f("ix_user_recovery_codes_user_id"), "user_recovery_codes", ["user_id"], unique=False)
    op.create_table(
        "alert_key_wraps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("salt", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("holder IN ('referent', 'recovery', 'reporter', 'server')",
                           name=op.f("ck_alert_key_wraps_holder_known")),
        sa.CheckConstraint("(holder = 'referent') = (user_id IS NOT NULL)",
                           name=op.f("ck_alert_key_wraps_referent_has_user")),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name=op.f("fk_alert_key_wraps_alert_id_alerts")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_alert_key_wraps_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_key_wraps")),
    )
    op.create_index("ix_alert_key_wraps_alert_holder", "alert_key_wraps", ["alert_id", "holder"], unique=False)
    op.create_index("ix_alert_key_wraps_user", "alert_key_wraps", ["user_id"], unique=False)
    op.create_table(
        "alert_referent_keys",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=True),
        sa.Column("private_enc", sa.LargeBinary(), nullable=True),
        sa.Column("kdf_salt", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("granted_by", sa.Integer(), nullable=True),
        sa.Column("legacy_pending", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["granted_by"], ["users.id"], name=op.f("fk_alert_referent_keys_granted_by_users")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_alert_referent_keys_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_alert_referent_keys")),
    )
    op.create_table(
        "alert_recovery_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_recovery_keys")),
    )
    # The referents who read the alerts until now keep them: pending until their next login.
    op.execute(
        "INSERT INTO alert_referent_keys (user_id, created_at, granted_at, legacy_pending) "
        "SELECT id, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, true FROM users "
        "WHERE role = 'antifraud_referent' AND active = true"
    )


def downgrade():
    # Alerts sealed since cannot go back under the server key alone (that needs a referent's
    # key): downgrading is refused once an alert is sealed, rather than leaving it unreadable.
    sealed = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM alerts WHERE sealed = true")).scalar()
    if sealed:
        raise RuntimeError(f"{sealed} alert(s) are sealed with keys per referent: downgrading below 0019 "
                           "would leave them unreadable. Restore a backup made before 0019 instead.")
    op.drop_table("alert_recovery_keys")
    op.drop_table("alert_referent_keys")
    op.drop_index("ix_alert_key_wraps_user", table_name="alert_key_wraps")
    op.drop_index("ix_alert_key_wraps_alert_holder", table_name="alert_key_wraps")
    op.drop_table("alert_key_wraps")
    op.drop_index(op.f("ix_user_recovery_codes_user_id"), table_name="user_recovery_codes")
    op.drop_table("user_recovery_codes")
    for table, columns in (
        ("alert_follow_up_sessions", ("key_enc",)),
        ("alerts", ("sealed",)),
        ("user_sessions", ("vault", "fresh_at", "second_factor_pending")),
        ("users", ("totp_last_counter", "totp_confirmed_at", "totp_secret_enc")),
    ):
        for column in columns:
            # Native on PostgreSQL and SQLite ≥ 3.35; no table rebuild, which SQLite refuses
            # for ``users`` while other tables' rows refer to it (foreign keys on).
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")

"""Flat-rate range check on SQLite: rates are stored there as integers scaled by 10 000
(db_types.ScaledDecimal), so ``rate <= 40`` refused every real rate. PostgreSQL is unchanged.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 12:40:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

OLD = "CHECK (rate > 0 AND rate <= 40)"
NEW = "CHECK (rate > 0 AND rate <= 400000)"


def _rebuild(old: str, new: str) -> None:
    """SQLite cannot alter a constraint: rebuild the table from its own DDL with the check replaced."""
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return
    ddl = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'plan_flat_rates'"
    ).scalar_one()
    if old not in ddl:
        raise RuntimeError("unexpected plan_flat_rates schema: " + ddl)
    op.execute("DROP INDEX ix_plan_flat_rates_version_id")
    op.execute("ALTER TABLE plan_flat_rates RENAME TO _plan_flat_rates_old")
    op.execute(ddl.replace(old, new))
    op.execute("INSERT INTO plan_flat_rates (id, version_id, code, rate) SELECT id, version_id, code, rate FROM _plan_flat_rates_old")
    op.execute("DROP TABLE _plan_flat_rates_old")
    op.execute("CREATE INDEX ix_plan_flat_rates_version_id ON plan_flat_rates (version_id)")


def upgrade():
    _rebuild(OLD, NEW)


def downgrade():
    _rebuild(NEW, OLD)

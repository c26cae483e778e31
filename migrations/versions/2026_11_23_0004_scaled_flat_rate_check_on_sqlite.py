"""Flat-rate range check on SQLite: rates are stored there as integers scaled by 10 000
(db_types.ScaledDecimal), so ``rate <= 40`` refused every real rate. On PostgreSQL, the
operation checks declared by the model, which 0002 (columns added to an existing table)
did not create. SQLite keeps those to the service: adding a check there means rebuilding
the operations table, which other tables reference.

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


OPERATION_CHECKS = {
    "ck_operations_status_known": "status IN ('programmed', 'running', 'closed')",
    "ck_operations_period_ordered": "start_date < end_date",
    "ck_operations_fse_rate_range": "fse_rate > 0 AND fse_rate <= 100",
    "ck_operations_advance_rate_range": "advance_rate >= 0 AND advance_rate <= 100",
    "ck_operations_fse_amount_not_negative": "fse_amount >= 0",
    "ck_operations_hours_divisor_known": "hours_divisor IN (1720, 1607)",
}


def upgrade():
    _rebuild(OLD, NEW)
    if op.get_bind().dialect.name == "postgresql":
        for name, condition in OPERATION_CHECKS.items():
            op.create_check_constraint(name, "operations", condition)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name in reversed(list(OPERATION_CHECKS)):
            op.drop_constraint(name, "operations", type_="check")
    _rebuild(NEW, OLD)

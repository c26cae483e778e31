"""Operation check constraints under their declared names on PostgreSQL

Revision 0004 created the operation checks with the naming convention applied twice
(``ck_operations_ck_operations_status_known``); the models declare
``ck_operations_status_known``. Renamed so that models and database agree (the
migration test now compares check constraints). SQLite has none of these (0004).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

CHECKS = ("status_known", "period_ordered", "fse_rate_range", "advance_rate_range", "fse_amount_not_negative",
          "hours_divisor_known")


def _rename(old_prefix: str, new_prefix: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for check in CHECKS:
        op.execute(f'ALTER TABLE operations RENAME CONSTRAINT "{old_prefix}{check}" TO "{new_prefix}{check}"')


def upgrade():
    _rename("ck_operations_ck_operations_", "ck_operations_")


def downgrade():
    _rename("ck_operations_", "ck_operations_ck_operations_")

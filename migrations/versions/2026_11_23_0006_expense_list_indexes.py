"""Indexes for the expense list (keyset pagination by each sort order, filtered page)
and for the duplicate check by supplier and date; on SQLite, the allocation-key check
constraint on the scaled integer column

On SQLite a Rate() column holds the percent times 10 000 (db_types.ScaledDecimal), so the
bound "<= 100" of 0003 refused every key above 0,01 %: the check is rewritten there with
the scaled bound. PostgreSQL (NUMERIC) keeps the constraint of 0003 unchanged.

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-23 12:30:00

"""
from alembic import op

revision = "0006"
down_revision = "0003"
branch_labels = None
depends_on = None


SCALED_RANGE = "allocation_percent > 0 AND allocation_percent <= 1000000"
PERCENT_RANGE = "allocation_percent > 0 AND allocation_percent <= 100"


def _allocation_range(bounds):
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("expenses", schema=None, recreate="always") as batch_op:
        batch_op.drop_constraint(op.f("ck_expenses_allocation_range"), type_="check")
        batch_op.create_check_constraint(op.f("ck_expenses_allocation_range"), bounds)


def upgrade():
    _allocation_range(SCALED_RANGE)
    with op.batch_alter_table("expenses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_expenses_operation_category_incurred", ["operation_id", "category", "incurred_on", "id"], unique=False
        )
        batch_op.create_index("ix_expenses_operation_eligible", ["operation_id", "eligible_amount", "id"], unique=False)
        batch_op.create_index("ix_expenses_operation_supplier_name", ["operation_id", "supplier_name", "id"], unique=False)
        batch_op.create_index("ix_expenses_supplier_incurred", ["supplier_key", "incurred_on"], unique=False)


def downgrade():
    with op.batch_alter_table("expenses", schema=None) as batch_op:
        batch_op.drop_index("ix_expenses_supplier_incurred")
        batch_op.drop_index("ix_expenses_operation_supplier_name")
        batch_op.drop_index("ix_expenses_operation_eligible")
        batch_op.drop_index("ix_expenses_operation_category_incurred")
    _allocation_range(PERCENT_RANGE)

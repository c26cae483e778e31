"""Indexes for the expense list (keyset pagination by each sort order, filtered page)
and for the duplicate check by supplier and date

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-23 12:30:00

"""
from alembic import op

revision = "0006"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
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

"""Partial VAT recovery: ``vat_prorata_rates`` (an operation's VAT recovery pro-rata per
calendar year), ``expenses.vat_partly_recoverable`` and ``expenses.vat_prorata`` (the
pro-rata applied to the line), with their checks.

On SQLite the checks are written into the stored table definition (``expenses`` is
referenced by other tables and carries triggers), as in 0010.

Revision ID: 0028_i25
Revises: 0027_i25
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

import budget_app.kernel.db_types
from budget_app.kernel.sqlite_schema import edit_stored_table, stored_table_sql

revision = "0028_i25"
down_revision = "0027_i25"
branch_labels = None
depends_on = None

ONE_TREATMENT = "NOT (vat_recoverable AND vat_partly_recoverable)"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _prorata_range(hundred: int) -> str:
    return f"vat_prorata IS NULL OR (vat_prorata >= 0 AND vat_prorata <= {hundred})"


def _sqlite_checks() -> str:
    return (f", \n\tCONSTRAINT ck_expenses_vat_treatment_one CHECK ({ONE_TREATMENT})"
            f", \n\tCONSTRAINT ck_expenses_vat_prorata_range CHECK ({_prorata_range(1000000)})")


def upgrade():
    hundred = 1000000 if _sqlite() else 100
    op.create_table(
        "vat_prorata_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("percent", budget_app.kernel.db_types.ScaledDecimal(7, 4), nullable=False),
        sa.CheckConstraint(f"percent >= 0 AND percent <= {hundred}", name=op.f("ck_vat_prorata_rates_percent_range")),
        sa.ForeignKeyConstraint(["operation_id"], ["operations.id"],
                                name=op.f("fk_vat_prorata_rates_operation_id_operations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vat_prorata_rates")),
        sa.UniqueConstraint("operation_id", "year", name="one_vat_prorata_per_year"),
    )
    op.create_index(op.f("ix_vat_prorata_rates_operation_id"), "vat_prorata_rates", ["operation_id"], unique=False)
    op.add_column("expenses", sa.Column("vat_partly_recoverable", sa.Boolean(), nullable=False,
                                        server_default=sa.false()))
    op.add_column("expenses", sa.Column("vat_prorata", budget_app.kernel.db_types.ScaledDecimal(7, 4), nullable=True))
    if _sqlite():
        ddl = stored_table_sql(op.get_bind(), "expenses").rstrip()
        edit_stored_table(op.get_bind(), "expenses", [(ddl, ddl[:-1].rstrip() + _sqlite_checks() + "\n)")])
    else:
        op.create_check_constraint(op.f("ck_expenses_vat_treatment_one"), "expenses", ONE_TREATMENT)
        op.create_check_constraint(op.f("ck_expenses_vat_prorata_range"), "expenses", _prorata_range(100))


def downgrade():
    if _sqlite():
        edit_stored_table(op.get_bind(), "expenses", [(_sqlite_checks(), "")])
    else:
        op.drop_constraint(op.f("ck_expenses_vat_prorata_range"), "expenses", type_="check")
        op.drop_constraint(op.f("ck_expenses_vat_treatment_one"), "expenses", type_="check")
    op.drop_column("expenses", "vat_prorata")
    op.drop_column("expenses", "vat_partly_recoverable")
    op.drop_index(op.f("ix_vat_prorata_rates_operation_id"), table_name="vat_prorata_rates")
    op.drop_table("vat_prorata_rates")

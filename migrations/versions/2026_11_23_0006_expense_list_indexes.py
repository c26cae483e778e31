"""Expense list: indexes for keyset pagination by each sort order and the filtered page,
an index for the duplicate check by supplier and date, monthly totals kept by triggers;
on SQLite, the allocation-key check constraint on the scaled integer column

On SQLite a Rate() column holds the percent times 10 000 (db_types.ScaledDecimal), so the
bound "<= 100" of 0003 refused every key above 0,01 %: the check is rewritten there with
the scaled bound. PostgreSQL (NUMERIC) keeps the constraint of 0003 unchanged.

Revision ID: 0006
Revises: 0007
Create Date: 2026-11-23 12:30:00

"""
import sqlalchemy as sa
from alembic import op

import budget_app.kernel.db_types

revision = "0006"
down_revision = "0007"
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


MONEY = ("amount_excl_vat", "vat", "eligible_amount")
KEYS = "operation_id, category, month"

SQLITE_ADD = """
    INSERT INTO expense_month_totals (operation_id, category, month, line_count, amount_excl_vat, vat, eligible_amount)
    SELECT NEW.operation_id, NEW.category, substr(NEW.incurred_on, 1, 7), 1, NEW.amount_excl_vat, NEW.vat, NEW.eligible_amount
    WHERE NEW.deleted_at IS NULL
    ON CONFLICT (operation_id, category, month) DO UPDATE SET line_count = line_count + 1,
        amount_excl_vat = amount_excl_vat + excluded.amount_excl_vat, vat = vat + excluded.vat,
        eligible_amount = eligible_amount + excluded.eligible_amount;
"""
SQLITE_SUBTRACT = """
    UPDATE expense_month_totals SET line_count = line_count - 1,
        amount_excl_vat = amount_excl_vat - OLD.amount_excl_vat, vat = vat - OLD.vat,
        eligible_amount = eligible_amount - OLD.eligible_amount
    WHERE OLD.deleted_at IS NULL AND operation_id = OLD.operation_id AND category = OLD.category
      AND month = substr(OLD.incurred_on, 1, 7);
"""
WATCHED = "operation_id, category, incurred_on, amount_excl_vat, vat, eligible_amount, deleted_at"

# PostgreSQL: statement-level triggers with transition tables, so a bulk insert (an import
# of 10 000 lines) updates each month's row once, not once per line (each row update
# leaves a dead version behind until VACUUM).
POSTGRES_FUNCTION = """
CREATE FUNCTION expense_month_totals_keep() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE expense_month_totals AS t SET line_count = t.line_count - o.line_count,
            amount_excl_vat = t.amount_excl_vat - o.amount_excl_vat, vat = t.vat - o.vat,
            eligible_amount = t.eligible_amount - o.eligible_amount
        FROM (SELECT operation_id, category, to_char(incurred_on, 'YYYY-MM') AS month, count(*) AS line_count,
                     sum(amount_excl_vat) AS amount_excl_vat, sum(vat) AS vat, sum(eligible_amount) AS eligible_amount
              FROM old_rows WHERE deleted_at IS NULL GROUP BY 1, 2, 3) AS o
        WHERE t.operation_id = o.operation_id AND t.category = o.category AND t.month = o.month;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO expense_month_totals AS t (operation_id, category, month, line_count, amount_excl_vat, vat, eligible_amount)
        SELECT operation_id, category, to_char(incurred_on, 'YYYY-MM'), count(*),
               sum(amount_excl_vat), sum(vat), sum(eligible_amount)
        FROM new_rows WHERE deleted_at IS NULL GROUP BY 1, 2, 3
        ON CONFLICT (operation_id, category, month) DO UPDATE SET line_count = t.line_count + EXCLUDED.line_count,
            amount_excl_vat = t.amount_excl_vat + EXCLUDED.amount_excl_vat, vat = t.vat + EXCLUDED.vat,
            eligible_amount = t.eligible_amount + EXCLUDED.eligible_amount;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""
POSTGRES_TRIGGERS = {
    "insert": "AFTER INSERT ON expenses REFERENCING NEW TABLE AS new_rows",
    "update": "AFTER UPDATE ON expenses REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "AFTER DELETE ON expenses REFERENCING OLD TABLE AS old_rows",
}


def _create_month_totals():
    op.create_table(
        "expense_month_totals",
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("amount_excl_vat", budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=False),
        sa.Column("vat", budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=False),
        sa.Column("eligible_amount", budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=False),
        sa.ForeignKeyConstraint(
            ["operation_id"], ["operations.id"], name=op.f("fk_expense_month_totals_operation_id_operations")
        ),
        sa.PrimaryKeyConstraint("operation_id", "category", "month", name=op.f("pk_expense_month_totals")),
    )
    if op.get_bind().dialect.name == "sqlite":
        month = "substr(incurred_on, 1, 7)"
        op.execute(f"CREATE TRIGGER expenses_month_totals_insert AFTER INSERT ON expenses BEGIN {SQLITE_ADD} END")
        op.execute(f"CREATE TRIGGER expenses_month_totals_delete AFTER DELETE ON expenses BEGIN {SQLITE_SUBTRACT} END")
        op.execute(
            f"CREATE TRIGGER expenses_month_totals_update AFTER UPDATE OF {WATCHED} ON expenses "
            f"BEGIN {SQLITE_SUBTRACT} {SQLITE_ADD} END"
        )
    else:
        month = "to_char(incurred_on, 'YYYY-MM')"
        op.execute(POSTGRES_FUNCTION)
        for name, when in POSTGRES_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER expenses_month_totals_{name} {when} "
                "FOR EACH STATEMENT EXECUTE FUNCTION expense_month_totals_keep()"
            )
        # The few rows of this table change with every line: vacuum it often.
        op.execute(
            "ALTER TABLE expense_month_totals SET (autovacuum_vacuum_scale_factor = 0, "
            "autovacuum_vacuum_threshold = 1000, autovacuum_analyze_threshold = 1000)"
        )
    # Lines recorded before this revision.
    op.execute(
        f"INSERT INTO expense_month_totals ({KEYS}, line_count, amount_excl_vat, vat, eligible_amount) "
        f"SELECT operation_id, category, {month}, count(*), sum(amount_excl_vat), sum(vat), sum(eligible_amount) "
        f"FROM expenses WHERE deleted_at IS NULL GROUP BY operation_id, category, {month}"
    )


def _drop_month_totals():
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS expenses_month_totals_{name}")
    else:
        for name in POSTGRES_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS expenses_month_totals_{name} ON expenses")
        op.execute("DROP FUNCTION IF EXISTS expense_month_totals_keep()")
    op.drop_table("expense_month_totals")


def upgrade():
    _allocation_range(SCALED_RANGE)
    _create_month_totals()
    with op.batch_alter_table("expenses", schema=None) as batch_op:
        # (operation, category) is the prefix of the new (operation, category, date, id).
        batch_op.drop_index("ix_expenses_operation_category")
        batch_op.create_index(
            "ix_expenses_operation_category_incurred", ["operation_id", "category", "incurred_on", "id"], unique=False
        )
        batch_op.create_index("ix_expenses_operation_eligible", ["operation_id", "eligible_amount", "id"], unique=False)
        batch_op.create_index("ix_expenses_operation_supplier_name", ["operation_id", "supplier_name", "id"], unique=False)
        batch_op.create_index("ix_expenses_supplier_incurred", ["supplier_key", "incurred_on"], unique=False)


def downgrade():
    _drop_month_totals()
    with op.batch_alter_table("expenses", schema=None) as batch_op:
        batch_op.drop_index("ix_expenses_supplier_incurred")
        batch_op.drop_index("ix_expenses_operation_supplier_name")
        batch_op.drop_index("ix_expenses_operation_eligible")
        batch_op.drop_index("ix_expenses_operation_category_incurred")
        batch_op.create_index("ix_expenses_operation_category", ["operation_id", "category"], unique=False)
    _allocation_range(PERCENT_RANGE)

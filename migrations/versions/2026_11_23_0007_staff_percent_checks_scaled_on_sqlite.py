"""Staff percent checks (fixed %, working share) in SQLite's scaled units

On SQLite, ``Rate()`` columns hold the percent × 10 000 as an integer (budget_app.db_types),
so the checks "<= 100" of revision 0003 refused every share above 0,01 %. They are
rewritten there as "<= 1000000"; PostgreSQL (NUMERIC) is unchanged.

Revision ID: 0007
Revises: 0004
Create Date: 2026-11-23 12:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0004'
branch_labels = None
depends_on = None

CHECKS = (
    ("staff_assignments", "fixed_percent_for_fixed_share",
     "(method = 'fixed_share' AND fixed_percent > 0 AND fixed_percent <= {100})"
     " OR (method = 'hourly' AND fixed_percent IS NULL)"),
    ("annual_costs", "working_share_range", "working_share > 0 AND working_share <= {100}"),
)


def _rewrite(hundred_from: str, hundred_to: str):
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, name, condition in CHECKS:
        with op.batch_alter_table(table, recreate="always") as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
            batch_op.create_check_constraint(op.f(f"ck_{table}_{name}"), condition.replace("{100}", hundred_to))


def upgrade():
    _rewrite("100", "1000000")


def downgrade():
    _rewrite("1000000", "100")

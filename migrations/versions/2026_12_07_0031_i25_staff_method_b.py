"""Staff method B (CPR 55(2)(b), primer §4): ``monthly_costs`` (per assignment and year, the
latest documented monthly gross employment cost and the monthly working hours of the
employment document, with the rate they give), ``staff_cost_lines.monthly_hours``, and the
method ``hourly_monthly`` accepted by the staff assignments' checks.

SQLite cannot alter a CHECK and a rebuild of ``staff_assignments`` would break the tables
that reference it: the checks are edited in the stored table definition, as in 0010.

Revision ID: 0027_i25
Revises: 0026
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

import budget_app.kernel.db_types
from budget_app.kernel.sqlite_schema import edit_stored_table

revision = "0027_i25"
down_revision = "0027_i21c"
branch_labels = None
depends_on = None

OLD_METHODS = "method IN ('hourly', 'fixed_share')"
NEW_METHODS = "method IN ('hourly', 'hourly_monthly', 'fixed_share')"
OLD_NO_PERCENT = "(method = 'hourly' AND fixed_percent IS NULL)"
NEW_NO_PERCENT = "(method IN ('hourly', 'hourly_monthly') AND fixed_percent IS NULL)"
PERCENT_CHECK = "(method = 'fixed_share' AND fixed_percent > 0 AND fixed_percent <= 100) OR "


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _checks(methods: str, no_percent: str, old_methods: str, old_no_percent: str) -> None:
    if _sqlite():
        edit_stored_table(op.get_bind(), "staff_assignments", [(old_methods, methods), (old_no_percent, no_percent)])
        return
    op.drop_constraint(op.f("ck_staff_assignments_method_known"), "staff_assignments", type_="check")
    op.create_check_constraint(op.f("ck_staff_assignments_method_known"), "staff_assignments", methods)
    op.drop_constraint(op.f("ck_staff_assignments_fixed_percent_for_fixed_share"), "staff_assignments", type_="check")
    op.create_check_constraint(op.f("ck_staff_assignments_fixed_percent_for_fixed_share"), "staff_assignments",
                               PERCENT_CHECK + no_percent)


def upgrade():
    op.create_table(
        "monthly_costs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("monthly_cost", budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=False),
        sa.Column("monthly_hours", budget_app.kernel.db_types.ScaledDecimal(9, 2), nullable=False),
        sa.Column("hourly_rate", budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=False),
        sa.Column("computation", sa.Text(), nullable=False),
        sa.CheckConstraint("monthly_cost > 0", name=op.f("ck_monthly_costs_monthly_cost_positive")),
        sa.CheckConstraint("monthly_hours > 0", name=op.f("ck_monthly_costs_monthly_hours_positive")),
        sa.ForeignKeyConstraint(["assignment_id"], ["staff_assignments.id"],
                                name=op.f("fk_monthly_costs_assignment_id_staff_assignments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monthly_costs")),
        sa.UniqueConstraint("assignment_id", "year", name="one_monthly_cost_per_year"),
    )
    op.create_index(op.f("ix_monthly_costs_assignment_id"), "monthly_costs", ["assignment_id"], unique=False)
    op.add_column("staff_cost_lines", sa.Column("monthly_hours", budget_app.kernel.db_types.ScaledDecimal(9, 2),
                                                nullable=True))
    _checks(NEW_METHODS, NEW_NO_PERCENT, OLD_METHODS, OLD_NO_PERCENT)


def downgrade():
    _checks(OLD_METHODS, OLD_NO_PERCENT, NEW_METHODS, NEW_NO_PERCENT)
    op.drop_column("staff_cost_lines", "monthly_hours")
    op.drop_index(op.f("ix_monthly_costs_assignment_id"), table_name="monthly_costs")
    op.drop_table("monthly_costs")

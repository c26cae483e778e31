"""Staff payment dates (primer §9): the day a month's salary was paid, as entered on the
timesheet (``timesheets.salary_paid_on``) and as counted on the cost line
(``staff_cost_lines.paid_on``: the timesheet's date, else the month's end + the operation's
``salary_pay_delay`` days). Existing lines get their month's last day.

Revision ID: 0028_i24c
Revises: 0027_i24c
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0028_i24c"
down_revision = "0027_i24c"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE on every database (no batch rebuild: earlier migrations edit the
    # stored CREATE TABLE of these tables on SQLite).
    op.add_column("operations", sa.Column("salary_pay_delay", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("timesheets", sa.Column("salary_paid_on", sa.Date(), nullable=True))
    op.add_column("staff_cost_lines", sa.Column("paid_on", sa.Date(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("UPDATE staff_cost_lines SET paid_on = date(month, 'start of month', '+1 month', '-1 day')")
    else:
        op.execute("UPDATE staff_cost_lines SET paid_on = "
                   "(date_trunc('month', month) + interval '1 month' - interval '1 day')::date")


def downgrade():
    op.drop_column("staff_cost_lines", "paid_on")
    op.drop_column("timesheets", "salary_paid_on")
    op.drop_column("operations", "salary_pay_delay")

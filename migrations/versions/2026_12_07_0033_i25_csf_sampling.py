"""Service-done check by sampling (primer §8): the operation's settings
(``operations.csf_sample_percent``, ``operations.csf_extrapolation``; the range check on
PostgreSQL only, like the table's other checks: 0004) and the drawn sample of a bilan
(``claims.sample_seed``, ``claims.sample_percent``).

Revision ID: 0029_i25
Revises: 0028_i25
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

import budget_app.kernel.db_types

revision = "0029_i25"
down_revision = "0028_i25"
branch_labels = None
depends_on = None

SAMPLE_RANGE = "csf_sample_percent IS NULL OR (csf_sample_percent > 0 AND csf_sample_percent <= 100)"


def upgrade():
    op.add_column("operations", sa.Column("csf_sample_percent", budget_app.kernel.db_types.ScaledDecimal(7, 4),
                                          nullable=True))
    op.add_column("operations", sa.Column("csf_extrapolation", sa.Boolean(), nullable=False,
                                          server_default=sa.false()))
    if op.get_bind().dialect.name != "sqlite":
        op.create_check_constraint(op.f("ck_operations_csf_sample_percent_range"), "operations", SAMPLE_RANGE)
    op.add_column("claims", sa.Column("sample_seed", sa.Integer(), nullable=True))
    op.add_column("claims", sa.Column("sample_percent", budget_app.kernel.db_types.ScaledDecimal(7, 4), nullable=True))


def downgrade():
    op.drop_column("claims", "sample_percent")
    op.drop_column("claims", "sample_seed")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_operations_csf_sample_percent_range"), "operations", type_="check")
    op.drop_column("operations", "csf_extrapolation")
    op.drop_column("operations", "csf_sample_percent")

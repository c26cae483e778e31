"""Settlement on what was received: the shortfall (or excess) of earlier payments carried
onto a bilan's payment, frozen when it is recorded (primer §5.5).

Revision ID: 0027_i24c
Revises: 0026
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

import budget_app.kernel.db_types

revision = "0027_i24c"
down_revision = "0027_i22c"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE (no batch rebuild on SQLite: migrations 0010 and 0016 edit the
    # stored CREATE TABLE of claims and expect it in place).
    op.add_column("claims", sa.Column("carried_forward", budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=True))


def downgrade():
    op.drop_column("claims", "carried_forward")

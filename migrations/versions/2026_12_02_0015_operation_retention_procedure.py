"""A procedure recorded by the managing authority that extends the retention of an
operation's records (CPR art. 82(2)): ``operations.retention_procedure`` (its reason).

Revision ID: 0015
Revises: 0010
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("operations", sa.Column("retention_procedure", sa.String(300), nullable=True))


def downgrade():
    with op.batch_alter_table("operations") as batch:  # SQLite before 3.35 has no DROP COLUMN
        batch.drop_column("retention_procedure")

"""When the supporting documents of an operation were purged at the end of their retention
(CPR art. 82): ``operations.documents_purged_at`` (set by ``retention purge``).

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("operations", sa.Column("documents_purged_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("operations") as batch:  # SQLite before 3.35 has no DROP COLUMN
        batch.drop_column("documents_purged_at")

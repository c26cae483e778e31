"""Service-done decisions carry a version (optimistic locking, issue 21): a controller's
decision on a bilan line is refused when the line was decided meanwhile by someone else
(``claim_lines.version``, 1 for existing lines).

Revision ID: 0021
Revises: 0018
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("claim_lines", sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade():
    with op.batch_alter_table("claim_lines") as batch:  # SQLite before 3.35 has no DROP COLUMN
        batch.drop_column("version")

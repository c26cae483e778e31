"""Staff evidence (primer §1, §4): ``staff_documents`` (contracts, payslips, mission letters,
signed timesheets of a person on an operation, each covering a month, a year or a mission
letter's dates), and ``operations.staff_evidence_from``: operations that exist now require
the evidence for staff months starting from today only, so no line prepared before this
migration drops out of a bilan silently.

Revision ID: 0023
Revises: 0019
Create Date: 2026-12-07
"""
from datetime import date

import sqlalchemy as sa
from alembic import op

import budget_app.kernel.db_types

revision = "0023"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    # Rate columns are integers scaled by 10 000 on SQLite (kernel.db_types.rate_check).
    hundred = 1000000 if op.get_bind().dialect.name == "sqlite" else 100
    op.create_table(
        "staff_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("first_month", sa.Date(), nullable=False),
        sa.Column("last_month", sa.Date(), nullable=False),
        sa.Column("fixed_percent", budget_app.kernel.db_types.ScaledDecimal(7, 4), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('contract', 'payroll', 'mission_letter', 'timesheet_signed', 'payslip')",
            name=op.f("ck_staff_documents_kind_known"),
        ),
        sa.CheckConstraint("first_month <= last_month", name=op.f("ck_staff_documents_months_in_order")),
        sa.CheckConstraint(
            f"fixed_percent IS NULL OR (fixed_percent > 0 AND fixed_percent <= {hundred})",
            name=op.f("ck_staff_documents_fixed_percent_range"),
        ),
        sa.ForeignKeyConstraint(["assignment_id"], ["staff_assignments.id"],
                                name=op.f("fk_staff_documents_assignment_id_staff_assignments")),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"], name=op.f("fk_staff_documents_uploaded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_documents")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_staff_documents_stored_name")),
    )
    op.create_index("ix_staff_documents_assignment_kind_months", "staff_documents",
                    ["assignment_id", "kind", "first_month", "last_month"], unique=False)
    op.create_index(op.f("ix_staff_documents_sha256"), "staff_documents", ["sha256"], unique=False)
    op.add_column("operations", sa.Column("staff_evidence_from", sa.Date(), nullable=True))
    operations = sa.table("operations", sa.column("staff_evidence_from", sa.Date()))
    op.execute(operations.update().values(staff_evidence_from=date.today()))


def downgrade():
    op.drop_column("operations", "staff_evidence_from")
    op.drop_index(op.f("ix_staff_documents_sha256"), table_name="staff_documents")
    op.drop_index("ix_staff_documents_assignment_kind_months", table_name="staff_documents")
    op.drop_table("staff_documents")

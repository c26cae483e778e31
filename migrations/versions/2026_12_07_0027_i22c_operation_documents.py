"""Operation documents (issue 22; primer §8): ``operation_documents`` (the signed agreement,
amendments with the plan version they signed, publicity evidence, procurement files; withdrawn
with a reason, never deleted before the retention purge), ``procurement_covers`` (the expenses
a procurement file covers), and ``operations.procurement_threshold`` (None: 40 000 € HT).

Revision ID: 0027_i22c
Revises: 0026
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

import budget_app.kernel.db_types

revision = "0027_i22c"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "operation_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("plan_version_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.String(length=255), nullable=True),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_by_id", sa.Integer(), nullable=True),
        sa.Column("removal_reason", sa.String(length=500), nullable=True),
        sa.CheckConstraint("kind IN ('agreement', 'amendment', 'publicity', 'procurement')",
                           name=op.f("ck_operation_documents_kind_known")),
        sa.CheckConstraint("kind NOT IN ('agreement', 'amendment') OR plan_version_id IS NOT NULL",
                           name=op.f("ck_operation_documents_plan_version_of_agreement")),
        sa.ForeignKeyConstraint(["operation_id"], ["operations.id"],
                                name=op.f("fk_operation_documents_operation_id_operations")),
        sa.ForeignKeyConstraint(["plan_version_id"], ["plan_versions.id"],
                                name=op.f("fk_operation_documents_plan_version_id_plan_versions")),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"],
                                name=op.f("fk_operation_documents_uploaded_by_id_users")),
        sa.ForeignKeyConstraint(["removed_by_id"], ["users.id"],
                                name=op.f("fk_operation_documents_removed_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operation_documents")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_operation_documents_stored_name")),
    )
    op.create_index("ix_operation_documents_operation_kind", "operation_documents", ["operation_id", "kind"],
                    unique=False)
    op.create_index(op.f("ix_operation_documents_sha256"), "operation_documents", ["sha256"], unique=False)
    op.create_table(
        "procurement_covers",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("expense_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["operation_documents.id"],
                                name=op.f("fk_procurement_covers_document_id_operation_documents")),
        sa.ForeignKeyConstraint(["expense_id"], ["expenses.id"], name=op.f("fk_procurement_covers_expense_id_expenses")),
        sa.PrimaryKeyConstraint("document_id", "expense_id", name=op.f("pk_procurement_covers")),
    )
    op.create_index(op.f("ix_procurement_covers_expense_id"), "procurement_covers", ["expense_id"], unique=False)
    op.add_column("operations", sa.Column("procurement_threshold", budget_app.kernel.db_types.ScaledDecimal(14, 2),
                                          nullable=True))


def downgrade():
    op.drop_column("operations", "procurement_threshold")
    op.drop_index(op.f("ix_procurement_covers_expense_id"), table_name="procurement_covers")
    op.drop_table("procurement_covers")
    op.drop_index(op.f("ix_operation_documents_sha256"), table_name="operation_documents")
    op.drop_index("ix_operation_documents_operation_kind", table_name="operation_documents")
    op.drop_table("operation_documents")

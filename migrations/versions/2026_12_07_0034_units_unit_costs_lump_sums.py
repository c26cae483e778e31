"""Unit costs and lump sums (CPR 53(1)(b)-(c)): the plan's lines of these kinds
(``plan_unit_lines``), the units delivered and deliverables achieved (``unit_records``) with
their evidence (``unit_evidence``), a
cost line that carries marks (line type ``unit_record`` in ``line_marks`` and ``line_holds``)
and is snapshotted in a bilan (``claim_lines.kind = 'unit'``, ``claim_lines.unit_record_id``).

On SQLite the checks of the tables others refer to are rewritten in the stored table
definition (``kernel.sqlite_schema``).

Revision ID: 0034_units
Revises: 0029_i25
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

import budget_app.kernel.db_types
from budget_app.kernel.sqlite_schema import edit_stored_table

revision = "0034_units"
down_revision = "0029_i25"
branch_labels = None
depends_on = None

OLD_TYPES = "line_type IN ('expense', 'staff_cost_line')"
NEW_TYPES = "line_type IN ('expense', 'staff_cost_line', 'unit_record')"
OLD_KIND = "kind IN ('expense', 'staff')"
NEW_KIND = "kind IN ('expense', 'staff', 'unit')"
OLD_SOURCE = ("(kind = 'expense' AND expense_id IS NOT NULL AND staff_cost_line_id IS NULL)"
              " OR (kind = 'staff' AND staff_cost_line_id IS NOT NULL AND expense_id IS NULL)")
NEW_SOURCE = ("(kind = 'expense' AND expense_id IS NOT NULL AND staff_cost_line_id IS NULL AND unit_record_id IS NULL)"
              " OR (kind = 'staff' AND staff_cost_line_id IS NOT NULL AND expense_id IS NULL AND unit_record_id IS NULL)"
              " OR (kind = 'unit' AND unit_record_id IS NOT NULL AND expense_id IS NULL AND staff_cost_line_id IS NULL)")
CATEGORIES = "category IN ('PERSONNEL', 'FONCTIONNEMENT', 'PRESTATIONS', 'PARTICIPANTS', 'NATURE')"
UNITS_ONLY = ("(kind = 'unit' AND planned_units IS NOT NULL AND planned_units >= 0)"
              " OR (kind = 'lump_sum' AND planned_units IS NULL AND counted_from_participants = false)")
FK = "fk_claim_lines_unit_record_id_unit_records"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _swap_checks(old_types, new_types, old_kind, new_kind, old_source, new_source):
    if _sqlite():
        connection = op.get_bind()
        for table in ("line_marks", "line_holds"):
            edit_stored_table(connection, table, [(f"CHECK ({old_types})", f"CHECK ({new_types})")])
        edit_stored_table(connection, "claim_lines", [(f"CHECK ({old_kind})", f"CHECK ({new_kind})"),
                                                      (f"CHECK ({old_source})", f"CHECK ({new_source})")])
        return
    for table in ("line_marks", "line_holds"):
        op.drop_constraint(op.f(f"ck_{table}_line_type_known"), table, type_="check")
        op.create_check_constraint(op.f(f"ck_{table}_line_type_known"), table, new_types)
    op.drop_constraint(op.f("ck_claim_lines_kind_known"), "claim_lines", type_="check")
    op.drop_constraint(op.f("ck_claim_lines_one_source"), "claim_lines", type_="check")
    op.create_check_constraint(op.f("ck_claim_lines_kind_known"), "claim_lines", new_kind)
    op.create_check_constraint(op.f("ck_claim_lines_one_source"), "claim_lines", new_source)


def upgrade():
    op.create_table(
        "plan_unit_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("rate", budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=False),
        sa.Column("planned_units", budget_app.kernel.db_types.ScaledDecimal(9, 2), nullable=True),
        sa.Column("evidence_required", sa.Text(), nullable=True),
        sa.Column("in_flat_rate_base", sa.Boolean(), nullable=False),
        sa.Column("counted_from_participants", sa.Boolean(), nullable=False),
        sa.CheckConstraint("kind IN ('unit', 'lump_sum')", name=op.f("ck_plan_unit_lines_kind_known")),
        sa.CheckConstraint(CATEGORIES, name=op.f("ck_plan_unit_lines_category_known")),
        sa.CheckConstraint("rate > 0", name=op.f("ck_plan_unit_lines_rate_positive")),
        sa.CheckConstraint(UNITS_ONLY, name=op.f("ck_plan_unit_lines_units_only_for_unit_costs")),
        sa.ForeignKeyConstraint(["version_id"], ["plan_versions.id"],
                                name=op.f("fk_plan_unit_lines_version_id_plan_versions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_unit_lines")),
    )
    op.create_index(op.f("ix_plan_unit_lines_version_id"), "plan_unit_lines", ["version_id"], unique=False)
    op.create_table(
        "unit_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("plan_line_id", sa.Integer(), nullable=False),
        sa.Column("delivered_on", sa.Date(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("quantity", budget_app.kernel.db_types.ScaledDecimal(9, 2), nullable=True),
        sa.Column("achieved", sa.Boolean(), nullable=True),
        sa.Column("rate", budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=False),
        sa.Column("amount", budget_app.kernel.db_types.ScaledDecimal(14, 2), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("participant_codes", sa.Text(), nullable=True),
        sa.Column("is_complete", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delete_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("(quantity IS NOT NULL AND achieved IS NULL) OR (quantity IS NULL AND achieved IS NOT NULL)",
                           name=op.f("ck_unit_records_units_or_deliverable")),
        sa.CheckConstraint("quantity IS NULL OR quantity >= 0", name=op.f("ck_unit_records_quantity_not_negative")),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_unit_records_amount_not_negative")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_unit_records_created_by_id_users")),
        sa.ForeignKeyConstraint(["operation_id"], ["operations.id"], name=op.f("fk_unit_records_operation_id_operations")),
        sa.ForeignKeyConstraint(["plan_line_id"], ["plan_unit_lines.id"],
                                name=op.f("fk_unit_records_plan_line_id_plan_unit_lines")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_records")),
    )
    op.create_index("ix_unit_records_operation_delivered", "unit_records", ["operation_id", "delivered_on"],
                    unique=False)
    op.create_index(op.f("ix_unit_records_plan_line_id"), "unit_records", ["plan_line_id"], unique=False)
    op.create_table(
        "unit_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["record_id"], ["unit_records.id"], name=op.f("fk_unit_evidence_record_id_unit_records")),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"], name=op.f("fk_unit_evidence_uploaded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_evidence")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_unit_evidence_stored_name")),
    )
    op.create_index(op.f("ix_unit_evidence_record_id"), "unit_evidence", ["record_id"], unique=False)
    op.create_index(op.f("ix_unit_evidence_sha256"), "unit_evidence", ["sha256"], unique=False)
    if _sqlite():
        op.add_column("claim_lines", sa.Column("unit_record_id", sa.Integer(), nullable=True))
        ddl_end = "unit_record_id INTEGER"
        connection = op.get_bind()
        edit_stored_table(connection, "claim_lines", [(
            ddl_end, f"{ddl_end}, CONSTRAINT {FK} FOREIGN KEY(unit_record_id) REFERENCES unit_records (id)")])
    else:
        op.add_column("claim_lines", sa.Column("unit_record_id", sa.Integer(), nullable=True))
        op.create_foreign_key(op.f(FK), "claim_lines", "unit_records", ["unit_record_id"], ["id"])
    _swap_checks(OLD_TYPES, NEW_TYPES, OLD_KIND, NEW_KIND, OLD_SOURCE, NEW_SOURCE)


def downgrade():
    op.execute("DELETE FROM line_marks WHERE line_type = 'unit_record'")
    op.execute("DELETE FROM line_holds WHERE line_type = 'unit_record'")
    op.execute("DELETE FROM claim_lines WHERE kind = 'unit'")
    _swap_checks(NEW_TYPES, OLD_TYPES, NEW_KIND, OLD_KIND, NEW_SOURCE, OLD_SOURCE)
    if _sqlite():
        connection = op.get_bind()
        edit_stored_table(connection, "claim_lines", [(
            f", CONSTRAINT {FK} FOREIGN KEY(unit_record_id) REFERENCES unit_records (id)", "")])
        op.drop_column("claim_lines", "unit_record_id")
    else:
        op.drop_constraint(op.f(FK), "claim_lines", type_="foreignkey")
        op.drop_column("claim_lines", "unit_record_id")
    op.drop_index(op.f("ix_unit_evidence_sha256"), table_name="unit_evidence")
    op.drop_index(op.f("ix_unit_evidence_record_id"), table_name="unit_evidence")
    op.drop_table("unit_evidence")
    op.drop_index(op.f("ix_unit_records_plan_line_id"), table_name="unit_records")
    op.drop_index("ix_unit_records_operation_delivered", table_name="unit_records")
    op.drop_table("unit_records")
    op.drop_index(op.f("ix_plan_unit_lines_version_id"), table_name="plan_unit_lines")
    op.drop_table("plan_unit_lines")

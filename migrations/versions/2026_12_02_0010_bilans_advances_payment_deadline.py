"""Bilans over an operation's life: bilan kind, operation settings (fixed FSE+ amount,
advance override and recovery, payment deadline), OPCO and State-operator beneficiaries,
participants' cost sub-category, prorated fixed-share months

- organisations.kind accepts ``opco`` and ``state_operator`` (primer §8);
- operations: ``fse_amount_fixed``, ``advance_override`` (+ reason), ``advance_recovery``,
  ``payment_deadline`` (checks on PostgreSQL only, like the table's other checks: 0004);
- expenses.subcategory (PARTICIPANTS: REMUNERATION or AUTRES); the participants' costs of
  an operation whose plan chose RESTANTS_40 were its participants' pay and allowances (the
  only part that rate let be declared), so they become REMUNERATION;
- staff_cost_lines.days_in_period (fixed share of a month partly outside the operation);
- claims.kind (interim | final); a bilan already ending on its operation's end date is final.

SQLite cannot alter a CHECK and a table rebuild would break the tables that reference
these ones (foreign keys are on): the checks are written into the stored table definition
(``PRAGMA writable_schema``), the procedure SQLite's documentation gives for constraint
changes that existing rows already satisfy (sqlite.org/lang_altertable.html, section 7).

Revision ID: 0010
Revises: 0013
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0013"
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('collectivite', 'association', 'other')"
NEW_KINDS = "kind IN ('collectivite', 'association', 'opco', 'state_operator', 'other')"
SUBCATEGORY_CHECK = (
    "subcategory IS NULL OR (category = 'PARTICIPANTS' AND subcategory IN ('REMUNERATION', 'AUTRES'))"
)
CLAIM_KIND_CHECK = "kind IN ('interim', 'final')"
OPERATION_CHECKS = {
    "ck_operations_advance_recovery_known": "advance_recovery IN ('interim', 'final')",
    "ck_operations_advance_override_has_reason": "advance_override = false OR advance_override_reason IS NOT NULL",
    "ck_operations_payment_deadline_after_end": "payment_deadline IS NULL OR payment_deadline >= end_date",
}


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _edit_sqlite_table(table: str, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` in the stored CREATE TABLE of ``table`` (SQLite only)."""
    connection = op.get_bind()
    ddl = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    if ddl.count(old) != 1:
        raise RuntimeError(f"unexpected {table} schema: {ddl}")
    version = connection.exec_driver_sql("PRAGMA schema_version").scalar_one()
    connection.exec_driver_sql("PRAGMA writable_schema = ON")
    connection.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (ddl.replace(old, new), table)
    )
    connection.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    connection.exec_driver_sql("PRAGMA writable_schema = OFF")


def _add_sqlite_check(table: str, name: str, condition: str) -> None:
    connection = op.get_bind()
    ddl = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    body = ddl.rstrip()
    if not body.endswith(")"):
        raise RuntimeError(f"unexpected {table} schema: {ddl}")
    _edit_sqlite_table(table, body, body[:-1].rstrip() + f", \n\tCONSTRAINT {name} CHECK ({condition})\n)")


def _drop_sqlite_check(table: str, name: str, condition: str) -> None:
    _edit_sqlite_table(table, f", \n\tCONSTRAINT {name} CHECK ({condition})\n", "\n")


def upgrade():
    # Beneficiary kinds.
    if _sqlite():
        _edit_sqlite_table("organisations", OLD_KINDS, NEW_KINDS)
    else:
        op.drop_constraint(op.f("ck_organisations_kind_known"), "organisations", type_="check")
        op.create_check_constraint(op.f("ck_organisations_kind_known"), "organisations", NEW_KINDS)

    # Operation settings.
    op.add_column("operations", sa.Column("fse_amount_fixed", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("operations", sa.Column("advance_override", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("operations", sa.Column("advance_override_reason", sa.Text(), nullable=True))
    op.add_column("operations", sa.Column("advance_recovery", sa.String(length=16), nullable=False,
                                          server_default="interim"))
    op.add_column("operations", sa.Column("payment_deadline", sa.Date(), nullable=True))
    if not _sqlite():
        for name, condition in OPERATION_CHECKS.items():
            op.create_check_constraint(op.f(name), "operations", condition)

    # Participants' costs: pay and allowances, or the rest.
    op.add_column("expenses", sa.Column("subcategory", sa.String(length=16), nullable=True))
    op.execute(
        "UPDATE expenses SET subcategory = 'REMUNERATION' WHERE category = 'PARTICIPANTS' AND operation_id IN ("
        " SELECT plan_versions.operation_id FROM plan_versions"
        " JOIN plan_flat_rates ON plan_flat_rates.version_id = plan_versions.id"
        " WHERE plan_flat_rates.code = 'RESTANTS_40')"
    )
    if _sqlite():
        _add_sqlite_check("expenses", "ck_expenses_subcategory_of_participants", SUBCATEGORY_CHECK)
    else:
        op.create_check_constraint(op.f("ck_expenses_subcategory_of_participants"), "expenses", SUBCATEGORY_CHECK)

    # Prorated fixed-share months.
    op.add_column("staff_cost_lines", sa.Column("days_in_period", sa.Integer(), nullable=True))

    # Bilan kind.
    op.add_column("claims", sa.Column("kind", sa.String(length=16), nullable=False, server_default="interim"))
    op.execute(
        "UPDATE claims SET kind = 'final' WHERE period_end = ("
        " SELECT operations.end_date FROM operations WHERE operations.id = claims.operation_id)"
    )
    if _sqlite():
        _add_sqlite_check("claims", "ck_claims_kind_known", CLAIM_KIND_CHECK)
    else:
        op.create_check_constraint(op.f("ck_claims_kind_known"), "claims", CLAIM_KIND_CHECK)


def downgrade():
    if _sqlite():
        _drop_sqlite_check("claims", "ck_claims_kind_known", CLAIM_KIND_CHECK)
    else:
        op.drop_constraint(op.f("ck_claims_kind_known"), "claims", type_="check")
    op.drop_column("claims", "kind")
    op.drop_column("staff_cost_lines", "days_in_period")
    if _sqlite():
        _drop_sqlite_check("expenses", "ck_expenses_subcategory_of_participants", SUBCATEGORY_CHECK)
    else:
        op.drop_constraint(op.f("ck_expenses_subcategory_of_participants"), "expenses", type_="check")
    op.drop_column("expenses", "subcategory")
    if not _sqlite():
        for name in reversed(list(OPERATION_CHECKS)):
            op.drop_constraint(op.f(name), "operations", type_="check")
    for column in ("payment_deadline", "advance_recovery", "advance_override_reason", "advance_override",
                   "fse_amount_fixed"):
        op.drop_column("operations", column)
    if _sqlite():
        _edit_sqlite_table("organisations", NEW_KINDS, OLD_KINDS)
    else:
        op.drop_constraint(op.f("ck_organisations_kind_known"), "organisations", type_="check")
        op.create_check_constraint(op.f("ck_organisations_kind_known"), "organisations", OLD_KINDS)

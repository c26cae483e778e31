"""A credit note line can be reduced by the service-done check (the controller keeps only
the part that leaves the line it reduces at zero or more, primer §9), and a final bilan can
record a repayment (negative amount paid: FSE+ due below what was already paid, §5.5).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

OLD_DECISION = (
    "decision IS NULL OR (decision = 'kept' AND retained_amount = declared_amount)"
    " OR (decision = 'reduced' AND retained_amount >= 0 AND retained_amount < declared_amount"
    " AND reason IS NOT NULL)"
    " OR (decision = 'excluded' AND retained_amount = 0 AND reason IS NOT NULL)"
)
NEW_DECISION = (
    "decision IS NULL OR (decision = 'kept' AND retained_amount = declared_amount)"
    " OR (decision = 'reduced' AND reason IS NOT NULL AND ((declared_amount > 0 AND retained_amount >= 0"
    " AND retained_amount < declared_amount) OR (declared_amount < 0 AND retained_amount <= 0"
    " AND retained_amount > declared_amount)))"
    " OR (decision = 'excluded' AND retained_amount = 0 AND reason IS NOT NULL)"
)


def _edit_sqlite_table(table: str, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` in the stored CREATE TABLE of ``table`` (SQLite only; as in
    0010: rebuilding claims and claim_lines would drop what refers to them)."""
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


def _replace_check(table: str, old: tuple, new: tuple) -> None:
    (old_name, old_condition), (new_name, new_condition) = old, new
    if op.get_bind().dialect.name == "sqlite":
        _edit_sqlite_table(table, f"CONSTRAINT ck_{table}_{old_name} CHECK ({old_condition})",
                           f"CONSTRAINT ck_{table}_{new_name} CHECK ({new_condition})")
    else:
        op.drop_constraint(op.f(f"ck_{table}_{old_name}"), table, type_="check")
        op.create_check_constraint(op.f(f"ck_{table}_{new_name}"), table, new_condition)


def _swap(claim_lines_check: str, paid_old: tuple, paid_new: tuple):
    current = OLD_DECISION if claim_lines_check == NEW_DECISION else NEW_DECISION
    _replace_check("claim_lines", ("decision_consistent", current), ("decision_consistent", claim_lines_check))
    _replace_check("claims", paid_old, paid_new)


PAID_BEFORE = ("amount_paid_not_negative", "amount_paid IS NULL OR amount_paid >= 0")
PAID_AFTER = ("amount_paid_negative_only_final", "amount_paid IS NULL OR amount_paid >= 0 OR kind = 'final'")


def upgrade():
    _swap(NEW_DECISION, PAID_BEFORE, PAID_AFTER)


def downgrade():
    _swap(OLD_DECISION, PAID_AFTER, PAID_BEFORE)

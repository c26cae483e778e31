"""Upgrade from empty to head and back to base, and no drift between models and migrations."""
import re

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import CheckConstraint, inspect

from budget_app.kernel.extensions import db


def test_models_match_the_migrated_schema(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_downgrade_to_base_and_upgrade_again(app):
    downgrade(revision="base")
    db.session.remove()
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    db.session.remove()
    assert "audit_entries" in inspect(db.engine).get_table_names()


def _normalised(sql: str) -> str:
    return re.sub(r"[\s()\"'`]", "", str(sql)).lower()


def _model_checks(dialect: str) -> dict:
    """(table, constraint name) -> SQL of every CHECK the models declare for this dialect."""
    checks = {}
    for table in db.metadata.sorted_tables:
        for constraint in table.constraints:
            if not isinstance(constraint, CheckConstraint):
                continue
            ddl_if = getattr(constraint, "_ddl_if", None)
            if ddl_if is not None and ddl_if.dialect is not None and ddl_if.dialect != dialect:
                continue
            name = db.engine.dialect.identifier_preparer.format_constraint(constraint)
            checks[(table.name, name.strip('"'))] = str(constraint.sqltext)
    return checks


def test_check_constraints_of_models_and_database_agree(app):
    """compare_metadata ignores CHECK constraints: every check the models declare exists in
    the migrated database under the same name, and no other; on SQLite (which keeps the DDL
    text) their conditions are the same too."""
    dialect = db.engine.dialect.name
    declared = _model_checks(dialect)
    inspector = inspect(db.engine)
    found = {}
    for table in inspector.get_table_names():
        for check in inspector.get_check_constraints(table):
            if check.get("name"):
                found[(table, check["name"])] = check["sqltext"]
    assert sorted(set(declared) - set(found)) == [], "declared in the models, missing in the database"
    assert sorted(set(found) - set(declared)) == [], "in the database, not declared in the models"
    if dialect == "sqlite":
        different = {key: (declared[key], found[key]) for key in declared
                     if _normalised(declared[key]) != _normalised(found[key])}
        assert different == {}


def test_0010_keeps_existing_rows_and_accepts_the_new_values(app):
    """Upgrading a database holding data (the SQLite checks are rewritten in place, with
    foreign keys on): rows stay, participants' costs under RESTANTS_40 become pay and
    allowances, a bilan ending on its operation's end date becomes final; OPCOs are accepted."""
    from sqlalchemy import text

    downgrade(revision="0009")
    db.session.remove()
    statements = [
        "INSERT INTO organisations (id, name, kind, is_demo) VALUES (1, 'Asso', 'association', false)",
        "INSERT INTO operations (id, code, title, organisation_id, start_date, end_date, fse_rate, fse_amount,"
        " advance_rate, hours_divisor, status, is_demo) VALUES (1, 'OP', 'Op', 1, '2023-01-01', '2023-12-31',"
        " :rate, :amount, 0, 1720, 'running', false)",
        "INSERT INTO plan_versions (id, operation_id, number, created_at) VALUES (1, 1, 1, '2023-01-01 00:00:00')",
        "INSERT INTO plan_flat_rates (id, version_id, code, rate) VALUES (1, 1, 'RESTANTS_40', :flat)",
        "INSERT INTO expenses (id, operation_id, category, incurred_on, supplier_name, supplier_key, document_number,"
        " document_key, label, amount_excl_vat, vat, vat_recoverable, allocation_percent, eligible_amount,"
        " is_complete, created_at, version) VALUES (1, 1, 'PARTICIPANTS', '2023-02-01', 'ASP', 'asp', 'R1', 'R1',"
        " 'Rémunération', :cost, 0, false, :key, :cost, true, '2023-02-01 00:00:00', 1)",
        "INSERT INTO claims (id, operation_id, number, period_start, period_end, state, created_at)"
        " VALUES (1, 1, 1, '2023-01-01', '2023-12-31', 'draft', '2024-01-05 00:00:00')",
    ]
    sqlite = db.engine.dialect.name == "sqlite"
    values = {"rate": 600000 if sqlite else 60, "amount": 60000 if sqlite else 600, "flat": 400000 if sqlite else 40,
              "cost": 100000 if sqlite else 1000, "key": 1000000 if sqlite else 100}
    with db.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), values)
    upgrade()
    db.session.remove()
    with db.engine.begin() as connection:
        assert connection.execute(text("SELECT subcategory FROM expenses")).scalar_one() == "REMUNERATION"
        assert connection.execute(text("SELECT kind FROM claims")).scalar_one() == "final"
        assert connection.execute(text("SELECT advance_recovery FROM operations")).scalar_one() == "interim"
        connection.execute(text("INSERT INTO organisations (id, name, kind, is_demo) VALUES (2, 'OPCO', 'opco', false)"))
    with db.engine.connect() as connection:
        if sqlite:
            assert connection.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
            assert connection.execute(text("PRAGMA foreign_key_check")).all() == []


def test_0019_marks_the_referents_of_before_and_goes_back_down(app):
    """Upgrading a database with referents and an alert: the active referents keep access
    (pending their next login), the disabled one and the others get nothing, the alert stays
    under the server key until then (``sealed`` false); no key is made. Down again works
    while nothing is sealed."""
    from sqlalchemy import text

    downgrade(revision="0018")
    db.session.remove()
    with db.engine.begin() as connection:
        for number, (role, active) in enumerate(
                [("antifraud_referent", True), ("antifraud_referent", False), ("admin", True)], start=1):
            connection.execute(text(
                "INSERT INTO users (id, email, password_hash, role, locale, active, is_demo, created_at)"
                " VALUES (:id, :email, 'x', :role, 'fr', :active, false, '2026-01-01 00:00:00')"),
                {"id": number, "email": f"u{number}@example.org", "role": role, "active": active})
        connection.execute(text(
            "INSERT INTO alerts (id, reference, kind, state, anonymous, received_at, received_on,"
            " acknowledgment_due, feedback_due, reveal_persons) VALUES (1, 'SIG-2026-000001', 'fraud', 'received',"
            " true, '2026-01-02 00:00:00', '2026-01-02', '2026-01-12', '2026-04-02', false)"))
    upgrade()
    db.session.remove()
    with db.engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT user_id, legacy_pending, granted_at IS NOT NULL, public_key FROM alert_referent_keys")).all()
        assert [(row[0], bool(row[1]), bool(row[2]), row[3]) for row in rows] == [(1, True, True, None)]
        assert connection.execute(text("SELECT sealed FROM alerts")).scalar_one() in (False, 0)
        assert connection.execute(text("SELECT COUNT(*) FROM alert_recovery_keys")).scalar_one() == 0
    downgrade(revision="0018")
    db.session.remove()
    assert "alert_key_wraps" not in inspect(db.engine).get_table_names()
    upgrade()
    db.session.remove()

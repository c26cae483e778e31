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

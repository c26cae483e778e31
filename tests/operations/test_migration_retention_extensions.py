"""Migration 0027_i21c: downgrading puts the authority's live procedure back into
``operations.retention_procedure``; upgrading moves it into ``retention_procedures`` and
opens an extension for each operation with a procedure or an alert not closed, so nothing
reads differently before the first daily computation."""
from datetime import date

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from budget_app.alerts import filing
from budget_app.kernel.extensions import db
from budget_app.operations.retention import place_procedure, update_extensions


def _rows(sql: str) -> list:
    with db.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql)).all()]


def test_0027_moves_procedures_and_opens_the_extensions_and_back(app, make_operation, tmp_path):
    app.config["ALERT_KEY_FILE"] = str(tmp_path / "alert_key")
    procedure = make_operation("OP-PROC")
    alerted = make_operation("OP-ALERT")
    make_operation("OP-NONE")
    place_procedure(procedure, "Procédure judiciaire n° 24/118")
    filing.file_alert(filing.Report(kind="fraud", facts="faits", operation_id=alerted.id))
    update_extensions(date(2026, 1, 5))
    db.session.commit()
    ids = {"procedure": procedure.id, "alerted": alerted.id}
    db.session.remove()

    downgrade(revision="0028_i24c")
    db.session.remove()
    assert {"retention_procedures", "retention_extensions"}.isdisjoint(inspect(db.engine).get_table_names())
    assert _rows("SELECT id, retention_procedure FROM operations WHERE retention_procedure IS NOT NULL") == [
        (ids["procedure"], "Procédure judiciaire n° 24/118")]

    upgrade()
    db.session.remove()
    assert _rows("SELECT operation_id, reason, lifted_at FROM retention_procedures") == [
        (ids["procedure"], "Procédure judiciaire n° 24/118", None)]
    assert sorted(_rows("SELECT operation_id FROM retention_extensions WHERE until IS NULL")) == sorted(
        [(ids["procedure"],), (ids["alerted"],)])
    assert "retention_procedure" not in {column["name"] for column in inspect(db.engine).get_columns("operations")}
    if db.engine.dialect.name == "sqlite":
        assert _rows("PRAGMA foreign_key_check") == []

"""Migration 0018 moves a line's marks, both ways: downgrading puts the bilan a line is
declared in back into ``expenses.claim_id`` / ``staff_cost_lines.claim_id``; upgrading moves
them into *declared* marks again and gives every live hold and suspicion its *held* mark."""
from datetime import date

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from budget_app.alerts import filing, suspicions
from budget_app.claims import holds, lifecycle
from budget_app.kernel.extensions import db
from tests.expenses.factories import make_expense
from tests.staff.factories import make_staff_line


def _rows(sql: str) -> list:
    with db.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql)).all()]


def test_0018_moves_declarations_and_holds_into_marks_and_back(app, claims_world, make_user, tmp_path):
    app.config["ALERT_KEY_FILE"] = str(tmp_path / "alert_key")
    operation = claims_world["operation"]
    declared = make_expense(operation, "100.00")
    staff = make_staff_line(operation, "2880.00")
    bilan = lifecycle.create_draft(operation, date(2023, 1, 1), date(2023, 1, 31))
    lifecycle.submit_claim(bilan, today=date(2023, 2, 15))
    held = make_expense(operation, "40.00", incurred_on=date(2023, 2, 10), paid_on=date(2023, 2, 12))
    suspected = make_expense(operation, "30.00", incurred_on=date(2023, 2, 11), paid_on=date(2023, 2, 12))
    holds.place_hold(operation, "expense", held.id, "Pièce à compléter")
    referent = make_user("antifraud_referent", email="referent@example.org")
    alert, _secret = filing.file_alert(filing.Report(kind="fraud", facts="faits", operation_id=operation.id))
    suspicions.link_operation(alert, operation)
    suspicions.link_cost_lines(alert, referent, [("expense", suspected.id)])
    db.session.commit()
    ids = {"bilan": bilan.id, "declared": declared.id, "staff": staff.id, "held": held.id, "suspected": suspected.id}
    # This test is about 0018's marks; below 0019 an alert sealed with keys per referent
    # refuses the downgrade (its own test): the alert is marked as under the server key.
    db.session.execute(text("UPDATE alerts SET sealed = false"))
    db.session.commit()
    db.session.remove()

    downgrade(revision="0017")
    db.session.remove()
    assert "line_marks" not in inspect(db.engine).get_table_names()
    assert _rows("SELECT id, claim_id FROM expenses WHERE claim_id IS NOT NULL") == [(ids["declared"], ids["bilan"])]
    assert _rows("SELECT id, claim_id FROM staff_cost_lines") == [(ids["staff"], ids["bilan"])]

    upgrade()
    db.session.remove()
    assert sorted(_rows("SELECT line_type, line_id, bilan_id FROM line_marks WHERE kind = 'declared'"
                        " AND released_at IS NULL")) == [("expense", ids["declared"], ids["bilan"]),
                                                         ("staff_cost_line", ids["staff"], ids["bilan"])]
    assert _rows("SELECT m.line_type, m.line_id FROM line_holds h JOIN line_marks m ON m.id = h.mark_id"
                 " WHERE m.kind = 'held' AND m.released_at IS NULL") == [("expense", ids["held"])]
    assert _rows("SELECT m.line_type, m.line_id FROM alert_cost_lines a JOIN line_marks m ON m.id = a.mark_id"
                 " WHERE m.kind = 'held' AND m.released_at IS NULL") == [("expense", ids["suspected"])]
    assert "claim_id" not in {column["name"] for column in inspect(db.engine).get_columns("expenses")}
    if db.engine.dialect.name == "sqlite":
        assert _rows("PRAGMA foreign_key_check") == []
        assert _rows("PRAGMA integrity_check") == [("ok",)]
    # A new mark after the move gets a fresh id (PostgreSQL's sequence follows the moved ids).
    with db.engine.begin() as connection:
        connection.execute(text("INSERT INTO line_marks (line_type, line_id, kind, placed_at)"
                                " VALUES ('expense', 1, 'held', CURRENT_TIMESTAMP)"))

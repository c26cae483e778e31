"""Holds placed by the managing authority: a held line stays out of every new bilan until
released, and reads « En attente » exactly like a line under suspicion, so that for everyone
but the anti-fraud referent the wording never tells an alert (loi 2022-401, issue 13)."""
import re
from datetime import date

from sqlalchemy import select

from budget_app.alerts import filing, suspicions
from budget_app.claims import holds, lifecycle
from budget_app.claims.selection import compute_period
from budget_app.kernel.audit.models import AuditEntry
from budget_app.kernel.extensions import db
from tests.expenses.factories import make_expense

BASE = "/operations/HL-RSA-2023"
JANUARY = (date(2023, 1, 1), date(2023, 1, 31))


def _world(app, claims_world, make_user, tmp_path):
    app.config["ALERT_KEY_FILE"] = str(tmp_path / "alert_key")
    operation = claims_world["operation"]
    kept = make_expense(operation, "100.00", incurred_on=date(2023, 1, 10), paid_on=date(2023, 1, 12))
    suspect = make_expense(operation, "40.00", label="Ligne A", incurred_on=date(2023, 1, 11), paid_on=date(2023, 1, 12))
    held = make_expense(operation, "40.00", label="Ligne B", incurred_on=date(2023, 1, 11), paid_on=date(2023, 1, 12))
    referent = make_user("antifraud_referent", email="referent@example.org")
    alert, _secret = filing.file_alert(filing.Report(kind="fraud", facts="faits", operation_id=operation.id))
    suspicions.link_cost_lines(alert, referent, [("expense", suspect.id)])
    holds.place_hold(operation, "expense", held.id, "Facture illisible : original demandé")
    db.session.commit()
    return operation, kept, suspect, held, referent


def _row(page: str, label: str) -> str:
    """The table row naming ``label``, its line number removed."""
    row = next(row for row in re.findall(r"<tr.*?</tr>", page, re.S) if label in row)
    return re.sub(r"\d+", "N", row.replace(label, "LABEL"))


def test_a_held_line_reads_like_a_line_under_suspicion(app, claims_world, make_user, login, tmp_path):
    _operation, _kept, _suspect, _held, referent = _world(app, claims_world, make_user, tmp_path)
    client = app.test_client()
    for reader in (claims_world["officer"], claims_world["controller"], claims_world["admin"]):
        login(client, reader)
        for page in (client.get(f"{BASE}/demandes/?month=2023-01").get_data(as_text=True),
                     client.get(f"{BASE}/depenses").get_data(as_text=True)):
            assert _row(page, "Ligne A") == _row(page, "Ligne B"), reader.role
            assert "en attente" in _row(page, "Ligne B").lower()
    login(client, referent)
    page = client.get(f"{BASE}/demandes/?month=2023-01").get_data(as_text=True)
    assert "Sous suspicion" in _row(page, "Ligne A") and "Sous suspicion" not in _row(page, "Ligne B")
    assert "En attente" in _row(page, "Ligne B")


def test_a_held_line_stays_out_until_released_and_both_steps_are_audited(app, claims_world, make_user, tmp_path):
    """January: 100,00 + 40,00 (suspected) + 40,00 (held): only 100,00 € counts; once B is
    released, 140,00 €."""
    operation, _kept, _suspect, held, _referent = _world(app, claims_world, make_user, tmp_path)
    computation = compute_period(operation, *JANUARY)
    assert computation.figures.categories["FONCTIONNEMENT"] == 100
    assert {line.id: line.reason for line in computation.left_out if line.kind == "expense"}[held.id] == "held"
    holds.release_hold(operation, "expense", held.id, "Original reçu le 02/02/2023")
    db.session.commit()
    assert compute_period(operation, *JANUARY).figures.categories["FONCTIONNEMENT"] == 140
    # Audited as a hold (the entry a suspicion leaves too), the reason kept in line_holds.
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "line_marks",
                                                          AuditEntry.after["line_id"].as_integer() == held.id)
                                 .order_by(AuditEntry.id)).all()
    assert [entry.action for entry in entries] == ["hold", "release_hold"]
    assert "Facture" not in str(entries[0].after) and "Original" not in str(entries[1].after)
    hold = db.session.scalars(select(holds.LineHold).where(holds.LineHold.line_id == held.id)).one()
    assert (hold.reason, hold.release_reason) == ("Facture illisible : original demandé", "Original reçu le 02/02/2023")


def test_hold_refusals_from_the_command_line(runner, claims_world):
    operation = claims_world["operation"]
    line = make_expense(operation, "100.00", incurred_on=date(2023, 1, 10), paid_on=date(2023, 1, 12))
    for args, message in (
        (["--reason", "x"], "indiquez --expense N ou --staff-line N"),
        (["--expense", str(line.id), "--staff-line", "1", "--reason", "x"], "indiquez --expense N ou --staff-line N"),
        (["--expense", str(line.id), "--reason", "   "], "Indiquez le motif"),
        (["--expense", "999999", "--reason", "x"], "n° 999999 introuvable dans l'opération HL-RSA-2023"),
    ):
        result = runner.invoke(args=["bilans", "hold", "HL-RSA-2023", *args])
        assert result.exit_code == 1 and message in result.output, result.output
    result = runner.invoke(args=["bilans", "release", "HL-RSA-2023", "--expense", str(line.id), "--reason", "x"])
    assert result.exit_code == 1 and "n'est pas en attente" in result.output
    claim = lifecycle.create_draft(operation, *JANUARY)
    lifecycle.submit_claim(claim, today=date(2023, 2, 15))
    db.session.commit()
    assert db.session.scalar(select(db.func.count()).select_from(holds.LineHold)) == 0
    # A declared line is held too (issue 21): it stays in its bilan, its FSE+ share waits.
    result = runner.invoke(args=["bilans", "hold", "HL-RSA-2023", "--expense", str(line.id), "--reason", "x"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(db.func.count()).select_from(holds.LineHold)) == 1

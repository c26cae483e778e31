"""Retention (CPR art. 82, primer §7): 31 December of the year of the final payment + 5
years, "à déterminer" before it, extended while an alert on the operation is open or a
procedure is recorded -- from the next daily computation (`retention update`), said to those
who purge, never why; no document or declared cost line deleted before it (a cause not yet
applied included); the admin page of ended operations; `retention purge` with confirmation,
manifest and trail."""
import csv
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from budget_app.alerts import filing, handling
from budget_app.claims.models import Claim
from budget_app.expenses.models import SupportingDocument
from budget_app.kernel.audit.models import AuditEntry
from budget_app.kernel.errors import DomainError
from budget_app.kernel.formatting import today_in_paris
from budget_app.kernel.extensions import db
from budget_app.kernel import storage
from tests.s3 import storage_config  # noqa: F401 (local folder and S3 bucket)
from budget_app.operations.retention import retention_end, retention_of, update_extensions
from tests.expenses.factories import attach_document, make_expense


@pytest.fixture(autouse=True)
def own_alert_key(app, tmp_path):
    app.config["ALERT_KEY_FILE"] = str(tmp_path / "alert_key")


def _paid_final_claim(operation, paid_on):
    """The final claim (its period reaches the operation's end), paid on ``paid_on``."""
    claim = Claim(operation_id=operation.id, number=1, kind="final", period_start=operation.start_date,
                  period_end=operation.end_date, state="paid", total_eligible=D("10.00"), fse_asked=D("6.00"),
                  paid_on=paid_on, amount_paid=D("6.00"))
    db.session.add(claim)
    operation.last_payment_date = paid_on
    db.session.commit()
    return claim


def _open_alert(operation):
    alert, _secret = filing.file_alert(filing.Report(
        kind="fraud", facts="Faits", operation_id=operation.id, operation_text="", persons="", dates=""))
    db.session.commit()
    return alert


def _daily_computation(today=None):
    update_extensions(today)
    db.session.commit()


def test_golden_dates():
    assert retention_end(date(2025, 3, 15)) == date(2030, 12, 31)
    assert retention_end(date(2025, 12, 31)) == date(2030, 12, 31)
    assert retention_end(date(2026, 1, 1)) == date(2031, 12, 31)


def test_to_be_determined_until_the_final_payment(app, make_operation):
    operation = make_operation("OP-R")
    interim = Claim(operation_id=operation.id, number=1, period_start=date(2023, 1, 1), period_end=date(2023, 12, 31),
                    state="paid", paid_on=date(2024, 3, 1), amount_paid=D("6.00"))
    db.session.add(interim)
    operation.last_payment_date = date(2024, 3, 1)
    db.session.commit()
    assert retention_of(operation).end is None  # an interim payment is not the final one
    final = Claim(operation_id=operation.id, number=2, kind="final", period_start=date(2024, 1, 1),
                  period_end=date(2024, 12, 31),
                  state="paid", paid_on=date(2025, 4, 2), amount_paid=D("6.00"))
    db.session.add(final)
    db.session.commit()
    retention = retention_of(operation)
    assert (retention.last_payment, retention.end, retention.extended) == (date(2025, 4, 2), date(2030, 12, 31),
                                                                           False)
    assert not retention.ended(date(2030, 12, 31)) and retention.ended(date(2031, 1, 1))


def test_closed_operation_with_a_recorded_last_payment(app, make_operation):
    operation = make_operation("OP-OLD", status="closed", last_payment_date=date(2020, 6, 30))
    assert retention_of(operation).end == date(2025, 12, 31)


def test_operation_page_and_extension_said_neutrally(app, make_operation, make_user, login, client):
    officer = make_user("finance_officer", email="fo@example.org")
    operation = make_operation("OP-P", members=[officer])
    admin = make_user("admin", email="admin@example.org")
    login(client, officer)
    page = client.get("/operations/OP-P/").get_data(as_text=True)
    assert "à déterminer" in page
    _paid_final_claim(operation, date(2025, 3, 15))
    _open_alert(operation)
    assert not retention_of(operation).extended  # until the daily computation
    _daily_computation()
    assert retention_of(operation).extended
    page = client.get("/operations/OP-P/").get_data(as_text=True)
    shown = page.split("data-testid=\"retention\">")[1].split("</td>")[0]
    assert "jusqu'au 31/12/2030" in shown and "prolongée" not in page, shown
    login(client, admin)
    page = client.get("/operations/OP-P/").get_data(as_text=True)
    assert "jusqu'au 31/12/2030 — prolongée : procédure en cours (RPDC art. 82(2))" in page
    for word in ("signalement", "alerte", "suspicion", "fraude"):
        assert word not in page.lower().split("<main")[-1]


def test_no_document_or_declared_line_deleted_before_the_end(app, make_operation):
    operation = make_operation("OP-D")
    expense = make_expense(operation, "10.00")
    document = attach_document(expense)
    db.session.delete(document)
    with pytest.raises(DomainError, match="fin de conservation sera fixée après le paiement final"):
        db.session.flush()
    db.session.rollback()
    _paid_final_claim(operation, date(2025, 3, 15))
    db.session.delete(db.session.get(SupportingDocument, document.id))
    with pytest.raises(DomainError, match="au moins jusqu'au 31/12/2030"):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(SupportingDocument, document.id) is not None


@pytest.fixture
def ended(app, make_operation):
    """OP-END: paid in 2019, kept until 31/12/2024 (ended), two documents; OP-LIVE paid in
    2025 (kept until 2030), one document; OP-HELD ended but an alert is open."""
    operations = {}
    for code, paid_on in (("OP-END", date(2019, 5, 10)), ("OP-LIVE", date(2025, 5, 10)),
                          ("OP-HELD", date(2019, 5, 10))):
        operation = make_operation(code, start_date=date(2017, 1, 1), end_date=date(2018, 12, 31))
        expense = make_expense(operation, "10.00", incurred_on=date(2018, 3, 1), paid_on=date(2018, 3, 2))
        attach_document(expense, name=f"{code}-facture.pdf", content=f"%PDF-1.4 {code}\n".encode())
        if code == "OP-END":
            attach_document(expense, kind="payment", name="=virement.pdf", content=b"%PDF-1.4 virement\n")
        _paid_final_claim(operation, paid_on)
        operations[code] = operation
    _open_alert(operations["OP-HELD"])
    _daily_computation()
    return operations


def test_admin_page_lists_ended_operations_only(ended, make_user, login, client):
    login(client, make_user("admin", email="admin@example.org"))
    page = client.get("/conservation").get_data(as_text=True)
    assert "OP-END" in page and "31/12/2024" in page
    assert "OP-LIVE" not in page and "OP-HELD" not in page


def test_purge_asks_then_removes_documents_keeps_trail_writes_manifest(ended, runner, tmp_path):
    manifest = tmp_path / "purge.csv"
    documents = db.session.scalars(select(SupportingDocument).order_by(SupportingDocument.id)).all()
    paths = {document.original_name: Stored(document.stored_name) for document in documents}
    before = runner.invoke(args=["retention", "purge", "--before", "2025-01-01", "--manifest", str(manifest)],
                           input="n\n")
    assert before.exit_code == 1 and "OP-END" in before.output and "rien n'a été supprimé" in before.output
    assert not manifest.exists() and all(path.exists() for path in paths.values())

    result = runner.invoke(args=["retention", "purge", "--before", "2025-01-01", "--manifest", str(manifest)],
                           input="o\n")
    assert result.exit_code == 0, result.output
    assert "2 pièce(s) supprimée(s)" in result.output
    assert not paths["OP-END-facture.pdf"].exists() and not paths["=virement.pdf"].exists()
    assert paths["OP-LIVE-facture.pdf"].exists() and paths["OP-HELD-facture.pdf"].exists()
    remaining = {document.original_name for document in db.session.scalars(select(SupportingDocument))}
    assert remaining == {"OP-LIVE-facture.pdf", "OP-HELD-facture.pdf"}
    with open(manifest, encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream, delimiter=";"))
    assert sorted(row["Nom d'origine"] for row in rows) == ["'=virement.pdf", "OP-END-facture.pdf"]
    assert all(row["Opération"] == "OP-END" and row["Fin de conservation"] == "31/12/2024" for row in rows)
    trail = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "supporting_documents")).all()
    assert len([entry for entry in trail if entry.action == "create"]) == 4  # the history is kept
    assert sorted(entry.before["original_name"] for entry in trail if entry.action == "delete") == [
        "=virement.pdf", "OP-END-facture.pdf"]
    purge = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "retention_purge")).one()
    assert purge.after["documents"] == 2 and purge.after["manifest"] == "purge.csv"
    assert ended["OP-END"].documents_purged_at is not None

    again = runner.invoke(args=["retention", "purge", "--before", "2025-01-01", "--yes"])
    assert again.exit_code == 0 and "Aucune opération" in again.output


def test_purge_never_touches_an_operation_whose_retention_has_not_ended(ended, runner, tmp_path):
    future = (date.today() + timedelta(days=365 * 20)).isoformat()
    result = runner.invoke(args=["retention", "purge", "--before", future, "--yes", "--manifest",
                                 str(tmp_path / "m.csv")])
    assert result.exit_code == 0, result.output
    assert "OP-LIVE" not in result.output and "OP-HELD" not in result.output
    remaining = {document.original_name for document in db.session.scalars(select(SupportingDocument))}
    assert remaining == {"OP-LIVE-facture.pdf", "OP-HELD-facture.pdf"}


def test_held_operation_ends_when_the_alert_is_closed(ended, make_user):
    referent = make_user("antifraud_referent", email="referent@example.org")
    alert = db.session.scalars(select(handling.Alert)).one()
    assert not retention_of(ended["OP-HELD"]).ended(date(2026, 1, 1))
    handling.change_state(alert, "acknowledged", referent, "reçu", "Nous avons bien reçu votre signalement.")
    assert not retention_of(ended["OP-HELD"]).ended(date(2026, 1, 1))
    handling.change_state(alert, "closed_unfounded", referent, "sans suite", "Classé sans suite.")
    db.session.commit()
    assert not retention_of(ended["OP-HELD"]).ended(date(2026, 1, 1))  # until the daily computation
    _daily_computation()
    assert retention_of(ended["OP-HELD"]).ended(date(2026, 1, 1))


def test_a_procedure_recorded_by_the_authority_reads_and_times_like_an_alert(ended, make_user, login, client,
                                                                            runner):
    """CPR 82(2): legal proceedings extend the retention. The managing authority records them
    (`retention hold`, its reason kept in its own record); like an alert, the procedure shows
    only after the daily computation, which writes the same neutral entry for both (the
    operation and the day, as the system); the operation page then reads exactly as for an
    operation under an alert, so "prolongée" never tells an admin or an auditor that an alert
    exists."""
    admin = make_user("admin", email="admin@example.org")
    login(client, admin)

    def shown(code):
        page = client.get(f"/operations/{code}/").get_data(as_text=True)
        return page.split('data-testid="retention">')[1].split("</td>")[0].replace(code, "")

    def trail(operation):
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "operations",
                                                              AuditEntry.object_id == str(operation.id))
                                     .order_by(AuditEntry.id)).all()
        return [(entry.actor, entry.action, entry.after) for entry in entries]

    operation, held = ended["OP-END"], ended["OP-HELD"]
    assert "prolongée" not in shown("OP-END")
    before = trail(operation)
    result = runner.invoke(args=["retention", "hold", "OP-END", "--reason", "  Procédure judiciaire\tn° 24/118  "])
    assert result.exit_code == 0, result.output
    assert "prochain calcul quotidien" in result.output
    listed = runner.invoke(args=["retention", "procedures"])
    assert "OP-END" in listed.output and "Procédure judiciaire n° 24/118" in listed.output
    # Nothing shows, nothing is written in the trail, until the daily computation.
    assert trail(operation) == before and "prolongée" not in shown("OP-END")
    assert "OP-END" in client.get("/conservation").get_data(as_text=True)
    update = runner.invoke(args=["retention", "update"])
    assert update.exit_code == 0 and "1 prolongation(s) ouverte(s), 0 levée(s)" in update.output, update.output
    db.session.expire_all()
    assert retention_of(operation).extended and not retention_of(operation).ended()
    assert shown("OP-END") == shown("OP-HELD")
    assert "prolongée : procédure en cours" in shown("OP-END")
    assert "OP-END" not in client.get("/conservation").get_data(as_text=True)
    today = today_in_paris().isoformat()  # the app's day is Paris's, not the machine's
    # The same entry as the one the alert's extension left (the ``ended`` fixture's computation).
    assert trail(operation)[len(before):] == [("system", "retention_extended", {"since": today})]
    assert [row for row in trail(held) if row[1] == "retention_extended"] == [
        ("system", "retention_extended", {"since": today})]
    assert "24/118" not in str(db.session.scalars(select(AuditEntry.after)).all())
    result = runner.invoke(args=["retention", "purge", "--before", "2026-01-01", "--yes"])
    assert "OP-END" not in result.output
    assert runner.invoke(args=["retention", "release", "OP-END"]).exit_code == 0
    assert "prolongée" in shown("OP-END")  # until the daily computation, again
    assert runner.invoke(args=["retention", "update"]).exit_code == 0
    db.session.expire_all()
    assert retention_of(operation).ended() and "prolongée" not in shown("OP-END")
    assert trail(operation)[-1] == ("system", "retention_extension_ended", {"until": today})


def test_a_cause_not_yet_applied_already_protects_the_documents(ended, runner, tmp_path):
    """An alert filed (or a procedure recorded) after the last computation: the operation
    still reads ended, but no document of it can be deleted, and the purge applies the daily
    computation before listing anything."""
    operation = ended["OP-END"]
    _open_alert(operation)
    assert retention_of(operation).ended()
    document = db.session.scalars(select(SupportingDocument).where(
        SupportingDocument.original_name == "OP-END-facture.pdf")).one()
    db.session.delete(document)
    with pytest.raises(DomainError, match="conservées au moins"):
        db.session.flush()
    db.session.rollback()
    result = runner.invoke(args=["retention", "purge", "--before", "2026-01-01", "--yes",
                                 "--manifest", str(tmp_path / "m.csv")])
    assert result.exit_code == 0 and "OP-END" not in result.output, result.output
    db.session.expire_all()
    assert retention_of(operation).extended


def test_the_daily_computation_is_idempotent(ended):
    opened_before = db.session.scalar(select(db.func.count(AuditEntry.id)).where(
        AuditEntry.action == "retention_extended"))
    assert update_extensions() == (0, 0)
    assert update_extensions(today_in_paris() + timedelta(days=1)) == (0, 0)
    assert db.session.scalar(select(db.func.count(AuditEntry.id)).where(
        AuditEntry.action == "retention_extended")) == opened_before == 1


def test_a_procedure_needs_a_reason_and_an_operation(ended, runner):
    result = runner.invoke(args=["retention", "hold", "OP-END", "--reason", "   "])
    assert result.exit_code == 1 and "Indiquez la procédure" in result.output
    result = runner.invoke(args=["retention", "hold", "OP-NONE", "--reason", "x"])
    assert result.exit_code == 1 and "Opération inconnue : OP-NONE" in result.output
    result = runner.invoke(args=["retention", "release", "OP-END"])
    assert result.exit_code == 1 and "Aucune procédure enregistrée" in result.output
    assert runner.invoke(args=["retention", "hold", "OP-END", "--reason", "x"]).exit_code == 0
    result = runner.invoke(args=["retention", "hold", "OP-END", "--reason", "y"])
    assert result.exit_code == 1 and "déjà enregistrée" in result.output
    result = runner.invoke(args=["retention", "update", "--today", "31/02/2026"])
    assert result.exit_code == 1 and "Erreur" in result.output, result.output


def test_staff_evidence_is_kept_then_purged_with_the_supporting_documents(ended, runner, tmp_path):
    """Retention covers the staff documents: none deleted before the end (OP-LIVE), and the
    purge of OP-END removes its contract and signed timesheet with its invoices, listed in
    the manifest (2 supporting documents + 2 staff documents = 4)."""
    from budget_app.staff.models import StaffDocument
    from tests.staff.factories import make_staff_line

    for code in ("OP-END", "OP-LIVE"):
        make_staff_line(ended[code], "100.00", month=date(2018, 3, 1), hours=D("5"), rate=D("20.00"))
    live = db.session.scalars(select(StaffDocument).where(
        StaffDocument.assignment.has(operation_id=ended["OP-LIVE"].id))).first()
    db.session.delete(live)
    with pytest.raises(DomainError, match="au moins jusqu'au 31/12/2030"):
        db.session.flush()
    db.session.rollback()
    staff_paths = {document.original_name: Stored(document.stored_name)
                   for document in db.session.scalars(select(StaffDocument))}
    manifest = tmp_path / "purge.csv"
    result = runner.invoke(args=["retention", "purge", "--before", "2025-01-01", "--manifest", str(manifest),
                                 "--yes"])
    assert result.exit_code == 0, result.output
    assert "4 pièce(s) supprimée(s)" in result.output
    remaining = {document.original_name for document in db.session.scalars(select(StaffDocument))}
    assert len(remaining) == 2 and all(staff_paths[name].exists() for name in remaining)
    assert all(not path.exists() for name, path in staff_paths.items() if name not in remaining)
    with open(manifest, encoding="utf-8-sig", newline="") as stream:
        kinds = sorted(row["Type"] for row in csv.DictReader(stream, delimiter=";"))
    assert kinds == ["contract", "invoice", "payment", "timesheet_signed"]


class Stored:
    """A stored document, local file or bucket object: ``exists()`` asks the storage."""

    def __init__(self, key):
        self.key = key

    def exists(self):
        return storage.exists(self.key)


def test_unit_evidence_is_kept_then_purged_with_the_supporting_documents(ended, runner, tmp_path):
    """The evidence of units delivered is a supporting document for CPR 82: not deleted
    before the end (OP-LIVE), purged with OP-END's invoices and listed in the manifest
    (2 supporting documents + 1 unit evidence = 3)."""
    from budget_app.operations.unit_lines import add_unit_line
    from budget_app.units.models import UnitEvidence
    from budget_app.units.services import attach_evidence, record_units
    from tests.operations.factories import make_plan

    for code in ("OP-END", "OP-LIVE"):
        operation = ended[code]
        make_plan(operation, costs={("FONCTIONNEMENT", 2018): "100.00"}, flat_rates={})
        line = add_unit_line(operation, "unit", 2018, "PRESTATIONS", "heure d'atelier", D("37.50"), D("10"))
        record = record_units(operation, line.id, date(2018, 3, 31), quantity=D("2"))
        attach_evidence(record, f"{code}-emargement.pdf", f"%PDF-1.4 {code} emargement\n".encode())
    db.session.commit()
    live = db.session.scalars(select(UnitEvidence).where(UnitEvidence.original_name == "OP-LIVE-emargement.pdf")).one()
    db.session.delete(live)
    with pytest.raises(DomainError, match="au moins jusqu'au 31/12/2030"):
        db.session.flush()
    db.session.rollback()
    stored = Stored(db.session.scalars(select(UnitEvidence.stored_name).where(
        UnitEvidence.original_name == "OP-END-emargement.pdf")).one())
    manifest = tmp_path / "purge.csv"
    result = runner.invoke(args=["retention", "purge", "--before", "2025-01-01", "--manifest", str(manifest),
                                 "--yes"])
    assert result.exit_code == 0, result.output
    assert "3 pièce(s) supprimée(s)" in result.output
    assert not stored.exists()
    assert [document.original_name for document in db.session.scalars(select(UnitEvidence))] == [
        "OP-LIVE-emargement.pdf"]
    with open(manifest, encoding="utf-8-sig", newline="") as stream:
        kinds = sorted(row["Type"] for row in csv.DictReader(stream, delimiter=";"))
    assert kinds == ["invoice", "payment", "unit_evidence"]

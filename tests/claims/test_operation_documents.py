"""Operation documents (issue 22, point 2): the signed agreement, the amendments (attached to
the plan version they signed), publicity evidence (CPR art. 50) and procurement files linked
to the expenses they cover; listed on the operation page as expected → present → missing;
in the evidence pack with their SHA-256; purged and backed up like every document.

The world: HL-RSA-2023 (claims_world) with its agreement (plan version 1) and amendment n° 1
(plan version 2, adding external services), January 2023:
- expense A, « Cabinet Conseil RH », 45 000,00 € HT, at or above the 40 000,00 € HT default
  threshold: a procurement file is expected;
- expense B, « Papeterie du Velay », 500,00 € HT: none expected.
Worked by hand, before anything is attached, the next bilan misses 4 documents: the agreement,
amendment n° 1's signed copy, publicity evidence, A's procurement file. After the four are
attached: 0 missing. The bilan of January counts A and B (45 500,00 €, lines 1 and 2 by
date); its pack holds the four documents, A's procurement file against line 1.
"""
import csv
import hashlib
import io
import json
import zipfile
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import func, select

from budget_app.claims import lifecycle
from budget_app.expenses.models import OperationDocument, ProcurementCover
from budget_app.kernel.audit.models import AuditEntry
from budget_app.kernel.extensions import db
from budget_app.kernel import storage
from tests.expenses.factories import make_expense
from tests.operations.factories import make_plan

JANUARY = (date(2023, 1, 1), date(2023, 1, 31))
ROOT = "HL-RSA-2023-bilan-1-dossier-de-preuves"
CONTENTS = {
    "agreement": b"%PDF-1.4\n% convention signee\n%%EOF\n",
    "amendment": b"%PDF-1.4\n% avenant 1 signe\n%%EOF\n",
    "publicity": b"\x89PNG\r\n\x1a\n" + b"\x00" * 32,
    "procurement": b"%PDF-1.4\n% trois devis et le marche\n%%EOF\n",
}
NAMES = {"agreement": "convention.pdf", "amendment": "avenant-1.pdf", "publicity": "affiche.png",
         "procurement": "devis-et-marche.pdf"}


@pytest.fixture
def dossier_world(claims_world):
    operation = claims_world["operation"]
    amendment = make_plan(operation, costs={("PERSONNEL", 2023): "362500.00", ("PERSONNEL", 2024): "362500.00",
                                            ("PRESTATIONS", 2023): "60000.00"})
    amendment.amendment_number = "1"
    db.session.commit()
    big = make_expense(operation, "45000.00", category="PRESTATIONS", incurred_on=date(2023, 1, 10),
                       paid_on=date(2023, 1, 20), supplier="Cabinet Conseil RH", label="Accompagnement RH")
    small = make_expense(operation, "500.00", category="PRESTATIONS", incurred_on=date(2023, 1, 12),
                         paid_on=date(2023, 1, 20))
    return {**claims_world, "big": big, "small": small, "amendment": amendment}


def _file(tmp_path, kind, name=None, content=None) -> str:
    path = tmp_path / (name or NAMES[kind])
    path.write_bytes(content if content is not None else CONTENTS[kind])
    return str(path)


def _attach(runner, tmp_path, kind, *options, name=None, content=None):
    return runner.invoke(args=["operations", "documents", "attach", "HL-RSA-2023", "--kind", kind, *options,
                               _file(tmp_path, kind, name, content)])


def _plain(text: str) -> str:
    """Amounts are written with narrow and no-break spaces (« 40 000,00 € »)."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def _listed(runner) -> str:
    result = runner.invoke(args=["operations", "documents", "list", "HL-RSA-2023"])
    assert result.exit_code == 0, result.output
    return _plain(result.output)


def _count() -> int:
    return db.session.scalar(select(func.count(OperationDocument.id)))


def _stored_files(app) -> set:
    folder = Path(app.config["BUDGET_APP_UPLOAD_DIR"])
    return {path.name for path in folder.iterdir()} if folder.is_dir() else set()


def _attach_all(runner, tmp_path, world):
    for kind, options in (("agreement", []), ("amendment", ["--amendment", "1"]),
                          ("publicity", ["--description", "affiche à l'accueil"]),
                          ("procurement", ["--expense", str(world["big"].id)])):
        result = _attach(runner, tmp_path, kind, *options)
        assert result.exit_code == 0, result.output


def test_golden_walk_from_attaching_to_the_pack(dossier_world, runner, tmp_path, client, login):
    operation, big, small = dossier_world["operation"], dossier_world["big"], dossier_world["small"]
    listed = _listed(runner)
    assert "Manquants : 4." in listed and "40 000,00 € HT" in listed
    assert f"[manquant] Mise en concurrence, dépense n° {big.id} : Cabinet Conseil RH" in listed
    assert f"dépense n° {small.id}" not in listed

    _attach_all(runner, tmp_path, dossier_world)
    listed = _listed(runner)
    assert "Manquants : 0." in listed and "[manquant]" not in listed
    assert "[présent] Avenant signé n° 1 (version 2)" in listed

    # Attached where they belong, each with its SHA-256 and an audit entry.
    documents = {document.kind: document for document in db.session.scalars(select(OperationDocument))}
    assert {kind: document.sha256 for kind, document in documents.items()} == {
        kind: hashlib.sha256(content).hexdigest() for kind, content in CONTENTS.items()}
    assert documents["agreement"].plan_version.number == 1
    assert documents["amendment"].plan_version_id == dossier_world["amendment"].id
    assert [cover.expense_id for cover in documents["procurement"].covers] == [big.id]
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "operation_document_attach")
                                 .order_by(AuditEntry.id)).all()
    assert [entry.after["kind"] for entry in entries] == ["agreement", "amendment", "publicity", "procurement"]
    assert entries[-1].after["expenses"] == str(big.id)

    # The operation page lists them present.
    login(client, dossier_world["officer"])
    page = client.get("/operations/HL-RSA-2023/").get_data(as_text=True)
    section = page[page.index('data-testid="operation-documents"'):]
    section = section[:section.index("</table>")]
    assert "devis-et-marche.pdf" in section and "manquant" not in section
    assert 'data-testid="attach-operation-document"' in page

    # The bilan counts both expenses; its pack holds the four documents with their digests.
    claim = lifecycle.create_draft(operation, *JANUARY)
    lifecycle.submit_claim(claim, today=date(2023, 2, 15))
    db.session.commit()
    positions = {line.expense_id: line.position for line in claim.lines}
    assert set(positions) == {big.id, small.id}
    target = tmp_path / "dossier.zip"
    result = runner.invoke(args=["claims", "pack", "HL-RSA-2023", "1", "-o", str(target)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(target) as archive:
        manifest = list(csv.DictReader(io.StringIO(archive.read(f"{ROOT}/manifeste.csv").decode("utf-8-sig")),
                                       delimiter=";"))
        files = {row["Fichier"]: row for row in manifest}
        expected = {"agreement": "operation/convention/convention.pdf",
                    "amendment": "operation/avenants/1-avenant-1.pdf",
                    "publicity": "operation/publicite/affiche.png",
                    "procurement": "operation/mise-en-concurrence/devis-et-marche.pdf"}
        for kind, name in expected.items():
            row = files[name]
            digest = hashlib.sha256(CONTENTS[kind]).hexdigest()
            assert row["SHA-256"] == row["SHA-256 enregistré"] == digest and row["État"] == "présent"
            assert hashlib.sha256(archive.read(f"{ROOT}/{name}")).hexdigest() == digest
        assert files[expected["procurement"]]["Ligne"] == str(positions[big.id])
        assert files[expected["agreement"]]["Ligne"] == ""

    # The controller sees them from the bilan's page, and the procurement file beside line 1.
    login(client, dossier_world["controller"])
    page = client.get("/operations/HL-RSA-2023/demandes/1").get_data(as_text=True)
    assert 'data-testid="operation-documents"' in page and "convention.pdf" in page
    line = page[page.index(f'data-testid="evidence-{positions[big.id]}"'):]
    assert f"/operations/HL-RSA-2023/documents/{documents['procurement'].id}" in line[:line.index("</td>")]
    assert 'data-testid="attach-operation-document"' not in client.get("/operations/HL-RSA-2023/").get_data(
        as_text=True)


def test_the_page_shows_what_is_missing_and_a_removed_document_no_longer_counts(dossier_world, runner, tmp_path,
                                                                                 client, login):
    _attach_all(runner, tmp_path, dossier_world)
    publicity = db.session.scalar(select(OperationDocument).where(OperationDocument.kind == "publicity"))
    login(client, dossier_world["officer"])
    url = f"/operations/HL-RSA-2023/documents/{publicity.id}/retrait"
    refused = client.post(url, data={"reason": " "})
    assert refused.status_code == 302 and publicity.removed_at is None
    done = client.post(url, data={"reason": "mauvaise affiche (autre opération)"})
    assert done.status_code == 302
    db.session.refresh(publicity)
    assert publicity.removed_at is not None and publicity.removal_reason == "mauvaise affiche (autre opération)"
    page = client.get("/operations/HL-RSA-2023/").get_data(as_text=True)
    row = page[page.index('data-testid="expected-publicity"'):]
    assert "<strong>manquant</strong>" in row[:row.index("</tr>")]
    assert "1 document attendu manquant" in page and 'data-testid="removed-documents"' in page
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "operation_document_remove"))
    assert entry.note == "mauvaise affiche (autre opération)" and entry.object_id == str(publicity.id)
    # The file stays until the retention purge (CPR 82).
    assert storage.exists(publicity.stored_name)


@pytest.mark.parametrize("kind, options, name, content, message", [
    ("contract", [], "contrat.pdf", CONTENTS["agreement"], "Type de document inconnu : contract"),
    ("procurement", ["--expense", "999999"], None, None, "Aucune dépense n° 999999 sur l'opération HL-RSA-2023"),
    ("procurement", [], None, None, "Indiquez la ou les dépenses"),
    ("publicity", ["--expense", "BIG"], None, None, "Seul un dossier de mise en concurrence"),
    ("amendment", ["--amendment", "7"], None, None, "Avenant n° 7 inconnu"),
    ("agreement", ["--amendment", "1"], None, None, "Seul un avenant signé"),
    ("publicity", [], "page.html", b"<html>affiche</html>", "n'est pas d'un type accepté"),
    ("agreement", [], "convention.pdf", b"<html>pas un pdf</html>", "ne correspond pas à son extension"),
])
def test_bad_input_is_refused_with_a_message_and_changes_nothing(dossier_world, runner, tmp_path, app, kind,
                                                                   options, name, content, message):
    options = [str(dossier_world["big"].id) if option == "BIG" else option for option in options]
    files, entries = _stored_files(app), db.session.scalar(select(func.count(AuditEntry.id)))
    result = _attach(runner, tmp_path, kind, *options, name=name, content=content)
    assert result.exit_code == 1 and message in result.output, result.output
    assert _count() == 0 and _stored_files(app) == files
    assert db.session.scalar(select(func.count(AuditEntry.id))) == entries


def test_an_expense_of_another_operation_is_refused(dossier_world, make_operation, runner, tmp_path, app):
    other = make_operation("OP-AUTRE")
    foreign = make_expense(other, "50000.00", category="PRESTATIONS")
    files = _stored_files(app)
    result = _attach(runner, tmp_path, "procurement", "--expense", str(dossier_world["big"].id),
                     "--expense", str(foreign.id))
    assert result.exit_code == 1 and f"Aucune dépense n° {foreign.id} sur l'opération HL-RSA-2023" in result.output
    assert _count() == 0 and db.session.scalar(select(func.count()).select_from(ProcurementCover)) == 0
    assert _stored_files(app) == files


def test_the_page_refuses_bad_input_and_keeps_what_was_typed(dossier_world, client, login, app):
    login(client, dossier_world["officer"])
    files = _stored_files(app)
    response = client.post("/operations/HL-RSA-2023/documents", data={
        "kind": "procurement", "expenses": "12abc", "description": "trois devis",
        "file": (io.BytesIO(CONTENTS["procurement"]), "devis.pdf")}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "N° de dépense invalide « 12abc »" in page
    assert 'value="trois devis"' in page and 'value="12abc"' in page
    response = client.post("/operations/HL-RSA-2023/documents", data={
        "kind": "publicity", "file": (io.BytesIO(b"MZ\x90\x00binary"), "affiche.exe")},
        content_type="multipart/form-data")
    assert response.status_code == 400 and "pas d&#39;un type accepté" in response.get_data(as_text=True)
    assert _count() == 0 and _stored_files(app) == files


@pytest.mark.parametrize("role, status", [("officer", 302), ("admin", 302), ("controller", 403),
                                          ("auditor", 403), ("stranger", 404)])
def test_who_may_attach(dossier_world, make_user, client, login, role, status):
    users = {**dossier_world, "auditor": make_user("auditor", email="audit@example.org"),
             "stranger": make_user("finance_officer", email="autre@example.org")}
    login(client, users[role])
    response = client.post("/operations/HL-RSA-2023/documents", data={
        "kind": "procurement", "expenses": str(dossier_world["big"].id),
        "file": (io.BytesIO(CONTENTS["procurement"]), "devis.pdf")}, content_type="multipart/form-data")
    assert response.status_code == status
    assert _count() == (1 if status == 302 else 0)


def test_controllers_and_auditors_read_and_download(dossier_world, make_user, runner, tmp_path, client, login):
    _attach_all(runner, tmp_path, dossier_world)
    agreement = db.session.scalar(select(OperationDocument).where(OperationDocument.kind == "agreement"))
    for user in (dossier_world["controller"], make_user("auditor", email="audit@example.org")):
        login(client, user)
        page = client.get("/operations/HL-RSA-2023/").get_data(as_text=True)
        assert "convention.pdf" in page and 'data-testid="attach-operation-document"' not in page
        assert "Retirer" not in page
        download = client.get(f"/operations/HL-RSA-2023/documents/{agreement.id}")
        assert download.status_code == 200 and download.data == CONTENTS["agreement"]
        assert download.headers["Content-Security-Policy"] == "sandbox"


def test_the_threshold_is_an_operation_setting(dossier_world, runner, tmp_path):
    """The primer fixes no procurement threshold: 40 000,00 € HT by default, set per operation."""
    small = dossier_world["small"]
    result = runner.invoke(args=["operations", "procurement-threshold", "HL-RSA-2023", "400,00"])
    assert result.exit_code == 0 and "400,00 € HT" in _plain(result.output)
    listed = _listed(runner)
    assert f"[manquant] Mise en concurrence, dépense n° {small.id}" in listed and "Manquants : 5." in listed
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "operations")
                               .order_by(AuditEntry.id.desc())).first()
    assert entry.after == {"procurement_threshold": "400.00"}
    refused = runner.invoke(args=["operations", "procurement-threshold", "HL-RSA-2023", "0"])
    assert refused.exit_code == 1 and "doit être positif" in refused.output
    reset = runner.invoke(args=["operations", "procurement-threshold", "HL-RSA-2023", "--default"])
    assert "40 000,00 € HT (par défaut)" in _plain(reset.output)


def test_retention_purge_deletes_them_and_lists_them(app, make_operation, runner, tmp_path):
    """An operation paid in 2019 (kept until 31/12/2024): its documents, a withdrawn one
    included, are deleted by the purge and listed in its manifest."""
    from budget_app.claims.models import Claim
    from budget_app.expenses.operation_documents import attach_document, remove_document

    operation = make_operation("OP-END", start_date=date(2017, 1, 1), end_date=date(2018, 12, 31))
    make_plan(operation, costs={("PRESTATIONS", 2017): "1000.00"})
    agreement, _same = attach_document(operation, "agreement", "convention.pdf", CONTENTS["agreement"])
    poster, _same = attach_document(operation, "publicity", "affiche.png", CONTENTS["publicity"])
    remove_document(poster, "doublon")
    db.session.add(Claim(operation_id=operation.id, number=1, kind="final", period_start=operation.start_date,
                         period_end=operation.end_date, state="paid", total_eligible=D("10.00"),
                         fse_asked=D("6.00"), paid_on=date(2019, 5, 10), amount_paid=D("6.00")))
    operation.last_payment_date = date(2019, 5, 10)
    db.session.commit()
    keys = [agreement.stored_name, poster.stored_name]
    manifest = tmp_path / "purge.csv"
    result = runner.invoke(args=["retention", "purge", "--before", "2025-01-01", "--manifest", str(manifest),
                                 "--yes"])
    assert result.exit_code == 0, result.output
    assert "2 pièce(s) supprimée(s)" in result.output
    assert _count() == 0 and not any(storage.exists(key) for key in keys)
    with open(manifest, encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream, delimiter=";"))
    assert sorted((row["Type"], row["SHA-256"]) for row in rows) == sorted(
        [("agreement", hashlib.sha256(CONTENTS["agreement"]).hexdigest()),
         ("publicity", hashlib.sha256(CONTENTS["publicity"]).hexdigest())])


def test_the_backup_holds_them(dossier_world, runner, tmp_path):
    _attach_all(runner, tmp_path, dossier_world)
    db.session.commit()
    result = runner.invoke(args=["backup", "create", str(tmp_path / "sauvegarde")])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "sauvegarde" / "manifest.json").read_text())
    saved = {entry["sha256"] for entry in manifest["files"] if entry["path"].startswith("uploads/")}
    assert {hashlib.sha256(content).hexdigest() for content in CONTENTS.values()} <= saved


def test_in_english(dossier_world, make_user, client, login):
    login(client, make_user("finance_officer", email="en@example.org", operations=["HL-RSA-2023"], locale="en"))
    page = _plain(client.get("/operations/HL-RSA-2023/").get_data(as_text=True))
    assert "Operation documents" in page and "4 expected documents missing" in page
    assert "Signed grant agreement" in page and "Signed amendment no. 1 (plan version 2)" in page
    assert f"Procurement of expense no. {dossier_world['big'].id}: Cabinet Conseil RH, €45,000.00 excl. VAT" in page
    response = client.post("/operations/HL-RSA-2023/documents", data={
        "kind": "amendment", "amendment": "9", "file": (io.BytesIO(CONTENTS["amendment"]), "avenant.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Unknown amendment no. 9 on operation HL-RSA-2023 (amendments: n° 1)." in response.get_data(as_text=True)


def test_a_closed_operation_takes_no_document(dossier_world, runner, tmp_path):
    dossier_world["operation"].status = "closed"
    db.session.commit()
    result = _attach(runner, tmp_path, "agreement")
    assert result.exit_code == 1 and "clôturée" in result.output and _count() == 0


def test_the_same_file_attached_twice_is_said(dossier_world, runner, tmp_path):
    assert _attach(runner, tmp_path, "publicity").exit_code == 0
    again = _attach(runner, tmp_path, "publicity", name="copie.png")
    assert again.exit_code == 0 and "Attention : le même fichier est déjà joint (affiche.png)." in again.output
    assert _count() == 2


@pytest.mark.parametrize("options, message", [
    (["--expense", str(2**40)], f"Aucune dépense n° {2**40} sur l'opération HL-RSA-2023"),
    (["--expense", "BIG", "--description", "trois\x07devis"], "Caractère de contrôle interdit (U+0007)"),
    (["--expense", "BIG", "--description", "é" * 256], "Le texte dépasse 255 caractères"),
])
def test_crafted_command_input_is_a_message(dossier_world, runner, tmp_path, options, message):
    options = [str(dossier_world["big"].id) if option == "BIG" else option for option in options]
    result = _attach(runner, tmp_path, "procurement", *options)
    assert result.exit_code == 1 and message in result.output, result.output
    assert _count() == 0
    removed = runner.invoke(args=["operations", "documents", "remove", "HL-RSA-2023", str(2**40), "--reason", "x"])
    assert removed.exit_code == 1 and f"Aucun document n° {2**40}" in removed.output

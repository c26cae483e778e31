"""The evidence pack: every document of the claim's lines, the claim as XLSX and PDF, the
timesheets and computations, the decisions, and a manifest whose SHA-256 and sizes match
the archive; a document missing on disk is listed as missing and the command exits 1."""
import csv
import hashlib
import io
import zipfile
from datetime import date
from decimal import Decimal as D

import pytest

from budget_app.claims import control, lifecycle
from budget_app.claims.pack import ALTERED, MISSING, PRESENT
from budget_app.expenses.models import SupportingDocument
from budget_app.kernel.extensions import db
from budget_app.kernel import storage
from tests.s3 import storage_config  # noqa: F401 (local folder and S3 bucket)
from tests.expenses.factories import attach_document, make_expense
from tests.staff.factories import make_staff_line

JANUARY = (date(2023, 1, 1), date(2023, 1, 31))
ROOT = "HL-RSA-2023-bilan-1-dossier-de-preuves"


def _read(archive: zipfile.ZipFile):
    manifest = archive.read(f"{ROOT}/manifeste.csv").decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(manifest), delimiter=";"))


@pytest.fixture
def submitted(claims_world):
    """A claim with two expenses (three documents, one named with a path) and a staff line."""
    operation = claims_world["operation"]
    first = make_expense(operation, "120.00", label="Location de salle")
    second = make_expense(operation, "80.00", label="Fournitures")
    attach_document(first, name="facture.pdf", content=b"%PDF-1.4 facture\n%%EOF\n")
    attach_document(first, kind="payment", name="../../virement.pdf", content=b"%PDF-1.4 virement\n%%EOF\n")
    attach_document(second, name="facture.pdf", content=b"%PDF-1.4 autre\n%%EOF\n")
    make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00"))
    claim = lifecycle.create_draft(operation, *JANUARY)
    lifecycle.submit_claim(claim, today=date(2023, 2, 15))
    db.session.commit()
    return {**claims_world, "claim": claim}


def test_pack_holds_every_document_listed_with_matching_sha256(submitted, runner, tmp_path):
    claim = submitted["claim"]
    line = claim.lines.filter_by(kind="expense").first()
    control.decide_line(claim, line, "excluded", submitted["controller"], reason="not_justified", comment="Copie")
    control.finish_control(claim, submitted["controller"])
    db.session.commit()
    target = tmp_path / "dossier.zip"
    result = runner.invoke(args=["bilans", "pack", "HL-RSA-2023", "1", "-o", str(target)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(target) as archive:
        assert archive.testzip() is None
        manifest = _read(archive)
        names = set(archive.namelist())
        listed = {f"{ROOT}/{row['Fichier']}" for row in manifest}
        assert names == listed | {f"{ROOT}/manifeste.csv"}
        for row in manifest:
            data = archive.read(f"{ROOT}/{row['Fichier']}")
            assert row["État"] == PRESENT
            assert hashlib.sha256(data).hexdigest() == row["SHA-256"] and len(data) == int(row["Taille (octets)"])
        control_csv = archive.read(f"{ROOT}/controle.csv").decode("utf-8-sig")
        timesheets = archive.read(f"{ROOT}/personnel/fiches-de-temps-et-calculs.csv").decode("utf-8-sig")
    files = {row["Fichier"]: row for row in manifest}
    positions = {line.expense_id: line.position for line in claim.lines if line.kind == "expense"}
    documents = db.session.query(SupportingDocument).order_by(SupportingDocument.id).all()
    for document in documents:
        name = document.original_name.rsplit("/", 1)[-1]
        expected = f"pieces/{positions[document.expense_id]}-{name}"
        assert expected in files, expected
        assert files[expected]["SHA-256"] == document.sha256 and files[expected]["Ligne"] == str(
            positions[document.expense_id])
    assert {"bilan.xlsx", "bilan.pdf", "lignes.csv", "controle.csv"} <= set(files)
    assert "Écartée" in control_csv and "Copie" in control_csv
    assert "120 h × 24,00 €/h = 2 880,00 €" in timesheets and '"Verrouillée (demandée)"' in timesheets


def test_missing_document_is_listed_and_the_command_exits_1(submitted, runner, tmp_path):
    document = db.session.query(SupportingDocument).filter_by(original_name="../../virement.pdf").one()
    storage.delete(document.stored_name)
    altered = db.session.query(SupportingDocument).filter_by(original_name="facture.pdf").first()
    storage.put(b"%PDF-1.4 changed\n", altered.stored_name)
    target = tmp_path / "dossier.zip"
    result = runner.invoke(args=["bilans", "pack", "HL-RSA-2023", "1", "-o", str(target)])
    assert result.exit_code == 1
    assert "pièce absente du stockage" in result.output and "virement.pdf" in result.output
    with zipfile.ZipFile(target) as archive:
        manifest = {row["Fichier"]: row for row in _read(archive)}
        missing = next(row for name, row in manifest.items() if name.endswith("-virement.pdf"))
        assert missing["État"] == MISSING and missing["SHA-256 enregistré"] == document.sha256
        assert f"{ROOT}/pieces/{missing['Ligne']}-virement.pdf" not in archive.namelist()
        changed = [row for row in manifest.values() if row["État"] == ALTERED]
        assert len(changed) == 1 and changed[0]["SHA-256 enregistré"] == altered.sha256


def test_pack_downloads_as_a_stream_from_the_claim_page(submitted, client, login):
    login(client, submitted["officer"])
    page = client.get("/operations/HL-RSA-2023/demandes/1").get_data(as_text=True)
    assert "dossier-de-preuves.zip" in page
    response = client.get("/operations/HL-RSA-2023/demandes/1/dossier-de-preuves.zip")
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Disposition"] == f'attachment; filename="{ROOT}.zip"'
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        assert archive.testzip() is None
        # xlsx, pdf, csv, 3 documents, the staff line's contract and signed timesheet, timesheets,
        # participants indicators
        assert len(_read(archive)) == 10


def test_a_draft_has_no_pack(claims_world, runner, tmp_path):
    make_expense(claims_world["operation"], "10.00")
    lifecycle.create_draft(claims_world["operation"], *JANUARY)
    db.session.commit()
    result = runner.invoke(args=["bilans", "pack", "HL-RSA-2023", "1", "-o", str(tmp_path / "x.zip")])
    assert result.exit_code == 1 and "brouillon" in result.output
    assert not (tmp_path / "x.zip").exists() and not (tmp_path / "x.zip.part").exists()

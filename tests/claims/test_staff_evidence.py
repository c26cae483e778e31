"""Staff evidence in statements, bilans and the evidence pack (issue 22's done-when).

The world: HL-RSA-2023's plan (staff costs, indirect costs at 15 %, FSE+ 60 %), January 2023,
two hourly people:
- Martin, 120 h × 24,00 €/h = 2 880,00 €: contract 2023 and signed timesheet attached;
- Petit, 100 h × 30,00 €/h = 3 000,00 €: contract 2023 attached, no signed timesheet.

Worked by hand:
- the statement counts both: staff 5 880,00 €, indirect 15 % 882,00 €, total 6 762,00 €,
  « dont pièces manquantes » 1 line, 3 000,00 €;
- the bilan counts Martin only: staff 2 880,00 €, indirect 432,00 €, total 3 312,00 €,
  FSE+ 60 % 1 987,20 €; Petit's line is left out, « Pièce du mois manquante ».
"""
import csv
import hashlib
import io
import zipfile
from datetime import date
from decimal import Decimal as D

import pytest

from budget_app.claims import lifecycle
from budget_app.claims.report import MISSING_LABEL, build_report, summary_rows
from budget_app.claims.selection import LEFT_OUT_REASONS, compute_period
from budget_app.kernel.extensions import db
from budget_app.staff.models import StaffDocument
from tests.staff.factories import make_staff_line

JANUARY = (date(2023, 1, 1), date(2023, 1, 31))
ROOT = "HL-RSA-2023-bilan-1-dossier-de-preuves"


def _attach(runner, tmp_path, person, kind, period_option, period, content):
    path = tmp_path / f"{kind}-{person}-{period}.pdf"
    path.write_bytes(content)
    result = runner.invoke(args=["staff", "documents", "attach", "HL-RSA-2023", person, period_option, period,
                                 "--kind", kind, str(path)])
    assert result.exit_code == 0, result.output
    return hashlib.sha256(content).hexdigest()


@pytest.fixture
def staff_world(claims_world, runner, tmp_path):
    operation = claims_world["operation"]
    martin = make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00"), name="Martin", evidence=False)
    petit = make_staff_line(operation, "3000.00", hours=D("100"), rate=D("30.00"), name="Petit", evidence=False)
    martin_number, petit_number = martin.person.registration_number, petit.person.registration_number
    hashes = {
        "contract-martin": _attach(runner, tmp_path, martin_number, "contract", "--year", "2023",
                                   b"%PDF-1.4\n% contrat Martin\n%%EOF\n"),
        "timesheet-martin": _attach(runner, tmp_path, martin_number, "timesheet_signed", "--month", "2023-01",
                                    b"%PDF-1.4\n% fiche signee Martin janvier\n%%EOF\n"),
        "contract-petit": _attach(runner, tmp_path, petit_number, "contract", "--year", "2023",
                                  b"%PDF-1.4\n% contrat Petit\n%%EOF\n"),
    }
    return {**claims_world, "martin": martin, "petit": petit, "hashes": hashes}


def test_a_staff_only_bilan_from_evidence_to_pack(staff_world, runner, tmp_path):
    operation, martin, petit = staff_world["operation"], staff_world["martin"], staff_world["petit"]

    # The statement counts every line and names the one still missing its documents.
    statement = build_report(operation, *JANUARY)
    assert (statement.figures.categories["PERSONNEL"], statement.figures.total) == (D("5880.00"), D("6762.00"))
    assert [(line.id, line.reason) for line in statement.missing.lines] == [(petit.id, "staff_month_evidence")]
    rows = {label: value for label, value, _kind in summary_rows(statement)}
    assert rows[f"{MISSING_LABEL} (1 ligne)"] == D("3000.00")

    # The bilan counts the complete line only and lists the other with its reason.
    claim = lifecycle.create_draft(operation, *JANUARY)
    draft = compute_period(operation, *JANUARY, claim=claim, as_of=date(2023, 2, 15))
    assert [(line.id, line.reason, line.amount) for line in draft.left_out] == [
        (petit.id, "staff_month_evidence", D("3000.00"))]
    assert LEFT_OUT_REASONS["staff_month_evidence"].startswith("Pièce du mois manquante")
    submitted = lifecycle.submit_claim(claim, today=date(2023, 2, 15))
    db.session.commit()
    assert (submitted.figures.total, submitted.figures.fse_asked) == (D("3312.00"), D("1987.20"))
    assert [line.staff_cost_line_id for line in claim.lines] == [martin.id]

    # The pack holds every document of the included line with its SHA-256, dated.
    target = tmp_path / "dossier.zip"
    result = runner.invoke(args=["claims", "pack", "HL-RSA-2023", "1", "-o", str(target)])
    assert result.exit_code == 0, result.output
    number = martin.person.registration_number
    with zipfile.ZipFile(target) as archive:
        manifest = list(csv.DictReader(io.StringIO(archive.read(f"{ROOT}/manifeste.csv").decode("utf-8-sig")),
                                       delimiter=";"))
        files = {row["Fichier"]: row for row in manifest}
        contract = files[f"personnel/pieces/{number}/2023-contract-contract-{number}-2023.pdf"]
        sheet = files[f"personnel/pieces/{number}/2023-01-timesheet_signed-timesheet_signed-{number}-2023-01.pdf"]
        assert contract["SHA-256"] == staff_world["hashes"]["contract-martin"] and contract["Ligne"] == "1"
        assert sheet["SHA-256"] == staff_world["hashes"]["timesheet-martin"] and sheet["Ligne"] == "1"
        for row in (contract, sheet):
            data = archive.read(f"{ROOT}/{row['Fichier']}")
            assert hashlib.sha256(data).hexdigest() == row["SHA-256"] == row["SHA-256 enregistré"]
        # Petit's line is not in the bilan: his contract is not in its pack.
        assert not any(petit.person.registration_number in name for name in files)
        # ZIP entries carry their real dates, not 01/01/1980.
        assert all(info.date_time[0] >= 2026 for info in archive.infolist())


def test_expected_present_missing_on_the_staff_page(staff_world, client, login):
    login(client, staff_world["officer"])
    page = client.get("/operations/HL-RSA-2023/personnel/pieces").get_data(as_text=True)
    petit = staff_world["petit"].person.registration_number
    section = page[page.index(f'data-testid="evidence-{petit}"'):]
    section = section[:section.index("</table>")]
    assert "manquante" in section and "Fiche de temps signée" in section
    assert "1 pièce exigée manquante" in page


def test_the_page_attaches_with_the_house_checks(staff_world, client, login):
    login(client, staff_world["officer"])
    petit = staff_world["petit"].person.registration_number
    url = "/operations/HL-RSA-2023/personnel/pieces"
    refused = client.post(url, data={"person": petit, "kind": "timesheet_signed", "month": "01/2023",
                                     "file": (io.BytesIO(b"<html>not a pdf</html>"), "fiche.pdf")},
                          content_type="multipart/form-data")
    assert refused.status_code == 400 and "ne correspond pas à son extension" in refused.get_data(as_text=True)
    assert db.session.query(StaffDocument).count() == 3
    content = b"%PDF-1.4\n% fiche signee Petit\n%%EOF\n"
    done = client.post(url, data={"person": petit, "kind": "timesheet_signed", "month": "01/2023",
                                  "file": (io.BytesIO(content), "fiche.pdf")}, content_type="multipart/form-data")
    assert done.status_code == 302
    document = db.session.query(StaffDocument).order_by(StaffDocument.id.desc()).first()
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    # The same file again is accepted and flagged.
    client.post(url, data={"person": petit, "kind": "timesheet_signed", "month": "01/2023",
                           "file": (io.BytesIO(content), "copie.pdf")}, content_type="multipart/form-data")
    assert "déjà joint ailleurs" in client.get(url).get_data(as_text=True)
    # Now complete: a bilan counts both lines (5 880,00 + 882,00 = 6 762,00 €).
    claim = lifecycle.create_draft(staff_world["operation"], *JANUARY)
    assert compute_period(staff_world["operation"], *JANUARY, claim=claim).figures.total == D("6762.00")


@pytest.mark.parametrize("args, message", [
    (["--kind", "timesheet_signed", "--year", "2023"], "se joint à un mois"),
    (["--kind", "contract", "--month", "2023-01"], "se joint à une année"),
    (["--kind", "contract", "--year", "2031"], "Indiquez une année de l'opération"),
    (["--kind", "mission_letter", "--year", "2023"], "ne concerne pas"),
    (["--kind", "timesheet_signed", "--month", "2031-01"], "hors de la période"),
])
def test_the_command_refuses_with_a_message_and_writes_nothing(staff_world, runner, tmp_path, args, message):
    path = tmp_path / "piece.pdf"
    path.write_bytes(b"%PDF-1.4\n% x\n%%EOF\n")
    number = staff_world["petit"].person.registration_number
    result = runner.invoke(args=["staff", "documents", "attach", "HL-RSA-2023", number, *args, str(path)])
    assert result.exit_code == 1 and message in result.output, result.output
    assert db.session.query(StaffDocument).count() == 3


def test_months_before_the_operation_date_need_no_evidence(staff_world):
    """An operation that existed when the rule came holds the migration's day: its earlier
    staff months count as before (nothing prepared drops out silently)."""
    operation = staff_world["operation"]
    operation.staff_evidence_from = date(2023, 2, 1)
    db.session.commit()
    claim = lifecycle.create_draft(operation, *JANUARY)
    assert compute_period(operation, *JANUARY, claim=claim).figures.total == D("6762.00")
    operation.staff_evidence_from = date(2023, 1, 1)
    db.session.commit()
    assert compute_period(operation, *JANUARY, claim=claim).figures.total == D("3312.00")

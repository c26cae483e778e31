"""Every step of a bilan from the command line (issue: `bilans create|submit|control|
finish|pay|show`), all or nothing, `Erreur : …` and exit 1 on bad input."""
import json
from datetime import date
from decimal import Decimal as D

from openpyxl import Workbook
from sqlalchemy import func, select

from budget_app.claims.models import Claim, ClaimLine
from budget_app.kernel.extensions import db
from tests.staff.factories import make_staff_line


def run(runner, *args):
    return runner.invoke(args=[str(arg) for arg in args])


def test_the_whole_life_from_the_command_line(runner, claims_world, tmp_path):
    """The primer's month as an interim bilan: 8 372,00 €, FSE+ 5 023,20 €. The controller's
    file reduces Martin's line to 2 400,00 € (100 h of 120): 2 400 + 4 400 = 6 800,00 €,
    + 15 % = 1 020,00 €, total 7 820,00 €, FSE+ due 4 692,00 €."""
    operation = claims_world["operation"]
    make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00"))
    make_staff_line(operation, "4400.00", hours=D("137.5"), rate=D("32.00"), name="Durand")
    result = run(runner, "bilans", "create", "HL-RSA-2023", "--from", "2023-01-01", "--to", "31/01/2023")
    assert result.exit_code == 0, result.output
    assert "Bilan intermédiaire n° 1 créé" in result.output
    result = run(runner, "bilans", "submit", "HL-RSA-2023", 1)
    assert result.exit_code == 0 and "8\u202f372,00" in result.output and "5\u202f023,20" in result.output
    decisions = tmp_path / "csf.csv"
    decisions.write_text("Ligne;Décision;Montant retenu;Motif;Commentaire\n"
                         "2;reduce;2 400,00;staff_time;100 h justifiées sur 120\n1;keep;;;\n", encoding="utf-8")
    result = run(runner, "bilans", "control", "HL-RSA-2023", 1, "--decisions", decisions, "--as", "ctrl@example.org")
    assert result.exit_code == 0, result.output
    result = run(runner, "bilans", "finish", "HL-RSA-2023", 1, "--as", "ctrl@example.org")
    assert result.exit_code == 0, result.output
    result = run(runner, "bilans", "pay", "HL-RSA-2023", 1, "--amount", "4 692,00", "--date", date.today().isoformat())
    assert result.exit_code == 0, result.output
    result = run(runner, "bilans", "show", "HL-RSA-2023", 1, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["kind"], data["state"]) == ("interim", "paid")
    assert data["declared"]["total"] == "8372.00" and data["declared"]["fse"] == "5023.20"
    assert data["declared"]["categories"] == {"PERSONNEL": "7280.00"}
    assert data["retained"]["flat_rates"] == {"INDIRECTS_15": "1020.00"}
    assert (data["total_retained"], data["fse_due"], data["payment_expected"], data["amount_paid"]) == (
        "7820.00", "4692.00", "4692.00", "4692.00")
    assert data["declared"]["fse_rate"] == "60.0000" and data["payment_deadline"] == "2025-06-30"
    text = run(runner, "bilans", "show", "HL-RSA-2023", 1).output
    assert "Bilan intermédiaire n° 1 du 01/01/2023 au 31/01/2023 (Payé)" in text
    declared, retained = text.split("Déclaré :")[1].split("Retenu après contrôle :")
    assert "Dépenses directes de personnel" in declared and "7\u202f280,00" in declared
    assert "1\u202f092,00" in declared and "8\u202f372,00" in declared and "5\u202f023,20" in declared
    assert "6\u202f800,00" in retained and "1\u202f020,00" in retained and "7\u202f820,00" in retained
    assert "FSE+ dû" in retained and "4\u202f692,00" in retained


def test_a_wrong_decisions_file_writes_nothing(runner, claims_world, tmp_path):
    operation = claims_world["operation"]
    make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00"))
    make_staff_line(operation, "4400.00", hours=D("137.5"), rate=D("32.00"), name="Durand")
    run(runner, "bilans", "create", "HL-RSA-2023", "--from", "2023-01-01", "--to", "2023-01-31")
    run(runner, "bilans", "submit", "HL-RSA-2023", 1)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Ligne", "Décision", "Montant retenu", "Motif", "Commentaire"])
    sheet.append([1, "exclude", None, "not_justified", None])  # valid
    sheet.append([2, "reduce", 5000, "staff_time", None])  # more than declared
    sheet.append([9, "keep", None, None, None])  # no such line
    sheet.append([1, "garder", None, None, None])  # line 1 twice
    sheet.append(["x", "peut-être", None, "hors sujet", None])
    path = tmp_path / "csf.xlsx"
    workbook.save(path)
    result = run(runner, "bilans", "control", "HL-RSA-2023", 1, "--decisions", path, "--as", "ctrl@example.org")
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line]
    assert all(line.startswith("Erreur : ") for line in lines)
    text = result.output
    assert "ligne 5, colonne Ligne : ligne 1 du bilan déjà décidée ligne 2 du fichier" in text
    assert "ligne 6, colonne Ligne" in text and "ligne 6, colonne Décision" in text and "ligne 6, colonne Motif" in text
    assert "ligne 4, colonne Ligne : le bilan n'a pas de ligne 9" in text
    assert "ligne 3 : Le montant retenu doit être positif et inférieur au montant déclaré." in text
    assert db.session.scalar(select(func.count()).select_from(ClaimLine).where(ClaimLine.decision.is_not(None))) == 0


def test_refusals_exit_1_and_write_nothing(runner, claims_world, make_user, tmp_path):
    operation = claims_world["operation"]
    make_staff_line(operation, "100.00", month=date(2023, 1, 1))
    result = run(runner, "bilans", "create", "HL-RSA-2023", "--from", "2023-01-01", "--to", "2023-06-30", "--final")
    assert result.exit_code == 1 and "Erreur : Le bilan final se termine" in result.output
    result = run(runner, "bilans", "create", "HL-RSA-2023", "--from", "2023-13-01", "--to", "2023-06-30")
    assert result.exit_code == 1 and "date valide" in result.output
    result = run(runner, "bilans", "submit", "HL-RSA-2023", 1)
    assert result.exit_code == 1 and "pas de bilan n° 1" in result.output
    run(runner, "bilans", "create", "HL-RSA-2023", "--from", "2023-01-01", "--to", "2023-01-31")
    run(runner, "bilans", "submit", "HL-RSA-2023", 1)
    decisions = tmp_path / "csf.csv"
    decisions.write_text("Ligne;Décision\n1;keep\n", encoding="utf-8")
    make_user("controller", email="sans-daci@example.org", operations=["HL-RSA-2023"])
    result = run(runner, "bilans", "control", "HL-RSA-2023", 1, "--decisions", decisions, "--as", "sans-daci@example.org")
    assert result.exit_code == 1 and "DACI" in result.output
    result = run(runner, "bilans", "finish", "HL-RSA-2023", 1, "--as", "fo@example.org")
    assert result.exit_code == 1 and "ne peut pas contrôler" in result.output
    result = run(runner, "bilans", "pay", "HL-RSA-2023", 1, "--amount", "1,00", "--date", "2023-03-01")
    assert result.exit_code == 1 and "ne peut pas passer" in result.output
    claim = db.session.scalar(select(Claim))
    assert claim.state == "submitted" and claim.amount_paid is None

"""Staff and timesheet imports: example files, all-or-nothing, no doubles, caps (CPR 55(3))."""
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from budget_app.kernel.audit.models import AuditEntry
from budget_app.kernel.errors import DomainError
from budget_app.kernel.extensions import db
from budget_app.staff import imports, queries
from budget_app.staff.models import (
    AnnualCost,
    Person,
    StaffAssignment,
    StaffCostLine,
    Timesheet,
)

D = Decimal


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def import_examples(runner, approved=True, suffix="csv"):
    result = runner.invoke(args=["staff", "import", "HL-RSA-2023", f"fixtures/examples/personnel-exemple.{suffix}"])
    assert result.exit_code == 0, result.output
    args = ["timesheets", "import", "HL-RSA-2023", f"fixtures/examples/temps-exemple.{suffix}"]
    result = runner.invoke(args=args + (["--approved"] if approved else []))
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_example_files_give_the_primer_month(hl_operation, runner, suffix):
    import_examples(runner, suffix=suffix)
    assert count(Person) == 4 and count(StaffAssignment) == 4 and count(AnnualCost) == 4
    rates = {c.assignment.person.registration_number + str(c.year): (c.hourly_rate, c.computation)
             for c in db.session.scalars(select(AnnualCost))}
    assert rates["HL-04122023"] == (D("24.00"), "41 280,00 € / 1 720 h = 24,00 €/h")
    assert rates["HL-06552023"] == (D("24.00"), "20 640,00 € / (1 720 h × 50 % = 860 h) = 24,00 €/h")
    january = queries.cost_lines_of(hl_operation, month=__import__("datetime").date(2023, 1, 1))
    assert sorted(line.computation for line in january) == [
        "120 h × 24,00 €/h = 2 880,00 €",
        "137,5 h × 32,00 €/h = 4 400,00 €",
    ]
    # Primer §5: staff 7 280,00 € in the worked month.
    assert queries.cost_lines_total(hl_operation, __import__("datetime").date(2023, 1, 1)) == D("7280.00")
    fixed = db.session.scalar(select(StaffCostLine).where(StaffCostLine.fixed_percent.is_not(None)))
    assert (fixed.amount, fixed.computation) == (D("1400.00"), "2 800,00 € × 50 % = 1 400,00 €")
    assert all(sheet.state == "approved" for sheet in db.session.scalars(select(Timesheet)))


def test_reimport_doubles_nothing(hl_operation, runner):
    import_examples(runner)
    before = (count(Person), count(AnnualCost), count(Timesheet), count(StaffCostLine))
    again = runner.invoke(args=["staff", "import", "HL-RSA-2023", "fixtures/examples/personnel-exemple.xlsx"])
    assert again.exit_code == 0 and "0 nouvelle(s) ligne(s), 0 modifiée(s), 5 déjà enregistrée(s)" in again.output
    again = runner.invoke(args=["timesheets", "import", "HL-RSA-2023", "fixtures/examples/temps-exemple.csv", "--approved"])
    assert again.exit_code == 0 and "6 déjà enregistrée(s)" in again.output
    assert (count(Person), count(AnnualCost), count(Timesheet), count(StaffCostLine)) == before
    assert queries.cost_lines_total(hl_operation) == D("7280.00") + D("3120.00") + D("4480.00") + D("1440.00") + D("1400.00")


def test_import_as_approved_is_recorded_as_the_approval(hl_operation, runner):
    import_examples(runner)
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "approve")).all()
    assert len(entries) == 6
    assert all(entry.actor.startswith("cli:") and "--approved" in entry.note for entry in entries)
    imported = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "timesheet_import"))
    assert imported.after["approved"] is True and imported.after["new"] == 6


def test_import_without_approved_waits_for_approval(hl_operation, runner):
    import_examples(runner, approved=False)
    assert {sheet.state for sheet in db.session.scalars(select(Timesheet))} == {"submitted"}
    assert count(StaffCostLine) == 0
    assert queries.cost_lines_total(hl_operation) == 0


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


STAFF_HEADER = "Matricule;Nom;Prénom;Fonction;Méthode;Année;Coût annuel chargé;Quotité (%);Temps fixe (%)\n"
SHEET_HEADER = "Matricule;Mois;Heures sur l'opération;Heures travaillées;Coût mensuel chargé\n"


def test_bad_staff_file_lists_every_problem_and_writes_nothing(hl_operation, runner, tmp_path):
    path = write(tmp_path, "p.csv", STAFF_HEADER
                 + "A1;Durand;Anne;;horaire;2023;abc;100;\n"
                 + "A2;Leroy;Paul;;mensuel;2023;1000;;\n"
                 + "A3;Moreau;Eva;;temps fixe;;;;150\n"
                 + "A4;Simon;Léa;;horaire;;30000;;\n"
                 + "A5;Blanc;Jean;;horaire;2030;30000;;\n")
    result = runner.invoke(args=["staff", "import", "HL-RSA-2023", path])
    assert result.exit_code == 1
    assert "ligne 2, colonne Coût annuel chargé : « abc » n'est pas un montant valide" in result.output
    assert "ligne 3, colonne Méthode : méthode « mensuel » inconnue" in result.output
    assert "ligne 4, colonne Temps fixe (%) : doit être compris entre 0 (exclu) et 100" in result.output
    assert "ligne 5, colonne Année : obligatoire pour la méthode horaire" in result.output
    assert "ligne 6, colonne Année : hors de la période de l'opération (2023-2024)" in result.output
    assert count(Person) == 0


def test_unknown_column_refused_by_name(hl_operation, runner, tmp_path):
    path = write(tmp_path, "p.csv", STAFF_HEADER.strip() + ";Salaire\nA1;Durand;Anne;;horaire;2023;30000;;;3\n")
    result = runner.invoke(args=["staff", "import", "HL-RSA-2023", path])
    assert result.exit_code == 1 and "ligne 1, colonne Salaire : colonne inconnue" in result.output


def test_one_bad_timesheet_row_refuses_the_whole_file(hl_operation, runner, tmp_path):
    runner.invoke(args=["staff", "import", "HL-RSA-2023", "fixtures/examples/personnel-exemple.csv"])
    path = write(tmp_path, "t.csv", SHEET_HEADER
                 + "HL-0412;2023-01;120;151,67;\n"
                 + "HL-0412;2023-03;160;150;\n"  # more on the operation than worked
                 + "ZZ-1;2023-01;10;10;\n"
                 + "HL-0733;2023-01;10;;2800\n"
                 + "HL-0412;2025-01;10;10;\n")
    result = runner.invoke(args=["timesheets", "import", "HL-RSA-2023", path, "--approved"])
    assert result.exit_code == 1
    out = result.output
    assert "ligne 3, colonne Heures sur l'opération : 160 h sur l'opération dépassent les 150 h travaillées (RPDC 55(3))" in out
    assert "ligne 4, colonne Matricule : aucun agent de matricule ZZ-1" in out
    assert "ligne 5, colonne Heures sur l'opération : à laisser vide pour un agent à temps fixe" in out
    assert "ligne 6, colonne Mois : 01/2025 est hors de la période" in out
    assert count(Timesheet) == 0


def test_annual_cap_half_time(hl_operation, runner, tmp_path):
    """Primer §4: half time, at most 860 h a year (CPR 55(3))."""
    runner.invoke(args=["staff", "import", "HL-RSA-2023", "fixtures/examples/personnel-exemple.csv"])
    rows = "".join(f"HL-0655;2023-{month:02d};72;72;\n" for month in range(1, 13))  # 864 h
    result = runner.invoke(args=["timesheets", "import", "HL-RSA-2023", write(tmp_path, "t.csv", SHEET_HEADER + rows)])
    assert result.exit_code == 1
    assert "ligne 13, colonne Heures sur l'opération : 864 h déclarées en 2023 pour HL-0655, au-delà du plafond de 860 h (RPDC 55(3))" in result.output
    rows = "".join(f"HL-0655;2023-{month:02d};{'68' if month == 12 else '72'};72;\n" for month in range(1, 13))  # 860 h
    result = runner.invoke(args=["timesheets", "import", "HL-RSA-2023", write(tmp_path, "t.csv", SHEET_HEADER + rows)])
    assert result.exit_code == 0, result.output
    # One more hour, in a later file, is refused too.
    result = runner.invoke(args=["timesheets", "import", "HL-RSA-2023",
                                 write(tmp_path, "t2.csv", SHEET_HEADER + "HL-0655;2023-12;69;72;\n")])
    assert result.exit_code == 1 and "861 h déclarées en 2023" in result.output


def test_cap_counts_every_operation_of_the_person(hl_operation, make_operation, runner, tmp_path):
    make_operation("OP-2")
    staff = STAFF_HEADER + "HL-0655;Petit;Amina;Psychologue;horaire;2023;20 640,00;50;\n"
    for code in ("HL-RSA-2023", "OP-2"):
        assert runner.invoke(args=["staff", "import", code, write(tmp_path, "p.csv", staff)]).exit_code == 0
    rows = "".join(f"HL-0655;2023-{month:02d};50;72;\n" for month in range(1, 13))  # 600 h
    assert runner.invoke(args=["timesheets", "import", "HL-RSA-2023", write(tmp_path, "t.csv", SHEET_HEADER + rows)]).exit_code == 0
    rows = "".join(f"HL-0655;2023-{month:02d};22;72;\n" for month in range(1, 13))  # 264 h: 864 in all
    result = runner.invoke(args=["timesheets", "import", "OP-2", write(tmp_path, "t.csv", SHEET_HEADER + rows)])
    assert result.exit_code == 1 and "864 h déclarées en 2023" in result.output


def test_changed_row_updates_a_submitted_sheet_but_not_an_approved_one(hl_operation, runner, tmp_path):
    runner.invoke(args=["staff", "import", "HL-RSA-2023", "fixtures/examples/personnel-exemple.csv"])
    first = write(tmp_path, "t.csv", SHEET_HEADER + "HL-0412;2023-01;120;151,67;\n")
    assert runner.invoke(args=["timesheets", "import", "HL-RSA-2023", first]).exit_code == 0
    second = write(tmp_path, "t2.csv", SHEET_HEADER + "HL-0412;2023-01;100;151,67;\n")
    result = runner.invoke(args=["timesheets", "import", "HL-RSA-2023", second, "--approved"])
    assert result.exit_code == 0 and "1 modifiée(s)" in result.output
    assert db.session.scalar(select(StaffCostLine)).amount == D("2400.00")
    third = write(tmp_path, "t3.csv", SHEET_HEADER + "HL-0412;2023-01;110;151,67;\n")
    result = runner.invoke(args=["timesheets", "import", "HL-RSA-2023", third])
    assert result.exit_code == 1 and "déjà approuvée" in result.output


def test_annual_cost_cannot_change_under_approved_months(hl_operation, runner, tmp_path):
    import_examples(runner)
    changed = STAFF_HEADER + "HL-0412;Martin;Claire;Conseillère en insertion professionnelle;horaire;2023;42 000,00;100;\n"
    result = runner.invoke(args=["staff", "import", "HL-RSA-2023", write(tmp_path, "p.csv", changed)])
    assert result.exit_code == 1 and "fiches approuvées" in result.output


def test_same_registration_number_other_name_refused(hl_operation, runner, tmp_path):
    runner.invoke(args=["staff", "import", "HL-RSA-2023", "fixtures/examples/personnel-exemple.csv"])
    other = STAFF_HEADER + "HL-0412;Dupont;Marc;;horaire;2023;41 280,00;100;\n"
    result = runner.invoke(args=["staff", "import", "HL-RSA-2023", write(tmp_path, "p.csv", other)])
    assert result.exit_code == 1 and "est enregistré pour Claire Martin" in result.output


def test_service_refusal_lists_problems(hl_operation):
    with pytest.raises(DomainError) as refused:
        imports.import_staff(hl_operation, b"Matricule;Nom\n")
    assert [str(p) for p in refused.value.problems] == [
        "ligne 1, colonne Prénom : colonne obligatoire absente",
        "ligne 1, colonne Méthode : colonne obligatoire absente",
    ]


def test_unknown_operation(runner):
    result = runner.invoke(args=["staff", "import", "NOPE", "fixtures/examples/personnel-exemple.csv"])
    assert result.exit_code == 1 and "opération inconnue" in result.output


def test_hours_of_a_month_on_all_operations_within_hours_worked(hl_operation, make_operation, runner, tmp_path):
    make_operation("OP-2")
    staff = STAFF_HEADER + "HL-0412;Martin;Claire;;horaire;2023;41 280,00;100;\n"
    for code in ("HL-RSA-2023", "OP-2"):
        assert runner.invoke(args=["staff", "import", code, write(tmp_path, "p.csv", staff)]).exit_code == 0
    first = write(tmp_path, "t.csv", SHEET_HEADER + "HL-0412;2023-01;100;151,67;\n")
    assert runner.invoke(args=["timesheets", "import", "HL-RSA-2023", first]).exit_code == 0
    second = write(tmp_path, "t2.csv", SHEET_HEADER + "HL-0412;2023-01;60;151,67;\n")
    result = runner.invoke(args=["timesheets", "import", "OP-2", second])
    assert result.exit_code == 1
    assert "60 h ici et 100 h sur d'autres opérations dépassent les 151,67 h travaillées (RPDC 55(3))" in result.output


def test_a_fixed_share_row_with_its_year_filled_is_accepted_when_consistent(hl_operation, runner, tmp_path):
    """People fill every column: « temps fixe » with the year its share applies from."""
    header = "Matricule;Nom;Prénom;Fonction;Méthode;Année;Coût annuel chargé;Quotité (%);Temps fixe (%)\n"
    good = tmp_path / "fixe.csv"
    good.write_text(header + "A103;Roux;Léa;Chargée de projet;temps fixe;2023;;;40\n", encoding="utf-8")
    result = runner.invoke(args=["staff", "import", "HL-RSA-2023", str(good)])
    assert result.exit_code == 0, result.output
    bad = tmp_path / "hors.csv"
    bad.write_text(header + "A104;Roux;Luc;;temps fixe;2019;;;40\n", encoding="utf-8")
    result = runner.invoke(args=["staff", "import", "HL-RSA-2023", str(bad)])
    assert result.exit_code == 1 and "année 2019 hors de la période de l'opération (2023-2024)" in result.output

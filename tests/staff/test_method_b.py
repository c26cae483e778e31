"""Staff method B (CPR 55(2)(b), primer §4): hourly rate = latest documented monthly gross
employment cost / monthly working hours of the employment document; a month's line =
hours × that rate; the hours of a month on every operation never exceed the monthly hours
(CPR 55(3)).

Golden example, by hand: a contract of 151,67 h a month, monthly gross cost 2 400,00 €.
  rate = 2 400,00 / 151,67 = 15,8238… -> 15,82 €/h (rounded half-up once)
  January 2023, 100 h on the operation: 100 × 15,82 = 1 582,00 €
  February 2023, 151,67 h (the whole contract): 151,67 × 15,82 = 2 399,4194 -> 2 399,42 €
  March 2023, 151,68 h: one hundredth over the month's 151,67 h, refused (CPR 55(3)).
With 60 h already on another operation in April, 91,68 h here make 151,68 h: refused;
91,67 h make 151,67 h: accepted, 91,67 × 15,82 = 1 450,2194 -> 1 450,22 €.
"""
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from budget_app.kernel.audit.models import AuditEntry
from budget_app.kernel.errors import DomainError
from budget_app.kernel.extensions import db
from budget_app.staff import computations, imports, queries
from budget_app.staff.models import MonthlyCost, Person, StaffAssignment, StaffCostLine

D = Decimal

STAFF_HEADER = ("Matricule;Nom;Prénom;Fonction;Méthode;Année;Coût annuel chargé;Quotité (%);Temps fixe (%);"
                "Coût mensuel chargé (méthode B);Heures mensuelles du contrat (méthode B)\n")
SHEET_HEADER = "Matricule;Mois;Heures sur l'opération;Heures travaillées;Coût mensuel chargé\n"
METHOD_B_ROW = "B-01;Roux;Léa;Conseillère;méthode B;2023;;;;2 400,00;151,67\n"


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_golden_rate_and_months():
    assert computations.monthly_rate(D("2400.00"), D("151.67")) == (D("15.82"), "2 400,00 € / 151,67 h = 15,82 €/h")
    assert computations.monthly_hourly_amount(D("100"), D("2400.00"), D("151.67")) == (
        D("1582.00"), D("15.82"), "100 h × (2 400,00 € / 151,67 h = 15,82 €/h) = 1 582,00 €")
    assert computations.monthly_hourly_amount(D("151.67"), D("2400.00"), D("151.67"))[0] == D("2399.42")


def test_import_gives_the_golden_lines_and_caps_the_month(hl_operation, runner, tmp_path):
    result = runner.invoke(args=["staff", "import", "HL-RSA-2023", write(tmp_path, "p.csv", STAFF_HEADER + METHOD_B_ROW)])
    assert result.exit_code == 0, result.output
    assignment = db.session.scalar(select(StaffAssignment))
    assert assignment.method == "hourly_monthly"
    cost = db.session.scalar(select(MonthlyCost))
    assert (cost.year, cost.monthly_cost, cost.monthly_hours, cost.hourly_rate, cost.computation) == (
        2023, D("2400.00"), D("151.67"), D("15.82"), "2 400,00 € / 151,67 h = 15,82 €/h")
    # The rate's record is audited like any money change.
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.object_type == "monthly_costs", AuditEntry.action == "create")) == 1

    over = write(tmp_path, "t.csv", SHEET_HEADER + "B-01;2023-03;151,68;160;\n")
    result = runner.invoke(args=["timesheets", "import", "HL-RSA-2023", over, "--approved"])
    assert result.exit_code == 1
    assert ("ligne 2, colonne Heures sur l'opération : 151,68 h déclarées en 03/2023 pour B-01, "
            "au-delà des 151,67 h mensuelles du contrat (RPDC 55(3))") in result.output

    rows = SHEET_HEADER + "B-01;2023-01;100;151,67;\nB-01;2023-02;151,67;151,67;\n"
    result = runner.invoke(args=["timesheets", "import", "HL-RSA-2023", write(tmp_path, "t.csv", rows), "--approved"])
    assert result.exit_code == 0, result.output
    lines = {line.month: line for line in db.session.scalars(select(StaffCostLine))}
    january, february = lines[date(2023, 1, 1)], lines[date(2023, 2, 1)]
    assert (january.amount, january.computation) == (D("1582.00"), "100 h × (2 400,00 € / 151,67 h = 15,82 €/h) = 1 582,00 €")
    assert (january.hourly_rate, january.monthly_cost, january.monthly_hours) == (D("15.82"), D("2400.00"), D("151.67"))
    assert february.amount == D("2399.42")
    assert computations.line_text(january, "en") == "100 h × (€2,400.00 / 151.67 h = €15.82/h) = €1,582.00"
    assert queries.cost_lines_total(hl_operation) == D("3981.42")


def test_month_cap_counts_every_operation(hl_operation, make_operation, runner, tmp_path):
    make_operation("OP-2")
    for code in ("HL-RSA-2023", "OP-2"):
        result = runner.invoke(args=["staff", "import", code, write(tmp_path, "p.csv", STAFF_HEADER + METHOD_B_ROW)])
        assert result.exit_code == 0, result.output
    result = runner.invoke(args=["timesheets", "import", "OP-2",
                                 write(tmp_path, "t.csv", SHEET_HEADER + "B-01;2023-04;60;151,67;\n"), "--approved"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["timesheets", "import", "HL-RSA-2023",
                                 write(tmp_path, "t.csv", SHEET_HEADER + "B-01;2023-04;91,68;151,67;\n"), "--approved"])
    assert result.exit_code == 1 and "151,68 h déclarées en 04/2023 pour B-01" in result.output
    result = runner.invoke(args=["timesheets", "import", "HL-RSA-2023",
                                 write(tmp_path, "t.csv", SHEET_HEADER + "B-01;2023-04;91,67;151,67;\n"), "--approved"])
    assert result.exit_code == 0, result.output
    line = db.session.scalar(select(StaffCostLine).where(StaffCostLine.operation_id == hl_operation.id))
    assert line.amount == D("1450.22")


def test_bad_method_b_rows_name_their_column_and_write_nothing(hl_operation, runner, tmp_path):
    path = write(tmp_path, "p.csv", STAFF_HEADER
                 + "B-01;Roux;Léa;;méthode B;2023;;;;2 400,00;\n"
                 + "B-02;Faure;Luc;;méthode B;2023;30 000,00;;;2 400,00;151,67\n"
                 + "B-03;Henry;Zoé;;horaire;2023;30 000,00;;;2 400,00;\n"
                 + "B-04;Mercier;Jo;;méthode B;;;;;2 400,00;151,67\n")
    result = runner.invoke(args=["staff", "import", "HL-RSA-2023", path])
    assert result.exit_code == 1
    out = result.output
    assert "ligne 2, colonne Heures mensuelles du contrat (méthode B) : obligatoire pour la méthode B" in out
    assert "ligne 3, colonne Coût annuel chargé : à laisser vide pour la méthode B" in out
    assert "ligne 4, colonne Coût mensuel chargé (méthode B) : à laisser vide sauf pour la méthode B" in out
    assert "ligne 5, colonne Année : obligatoire pour la méthode B" in out
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0


def test_monthly_cost_cannot_change_under_approved_months(hl_operation, runner, tmp_path):
    runner.invoke(args=["staff", "import", "HL-RSA-2023", write(tmp_path, "p.csv", STAFF_HEADER + METHOD_B_ROW)])
    runner.invoke(args=["timesheets", "import", "HL-RSA-2023",
                        write(tmp_path, "t.csv", SHEET_HEADER + "B-01;2023-01;100;151,67;\n"), "--approved"])
    changed = STAFF_HEADER + METHOD_B_ROW.replace("2 400,00", "2 500,00")
    try:
        imports.import_staff(hl_operation, changed.encode())
    except DomainError as error:
        assert "le coût mensuel 2023 a déjà servi à des fiches approuvées" in str(error.problems[0])
    else:
        raise AssertionError("changed monthly cost accepted under an approved month")
    assert db.session.scalar(select(MonthlyCost.monthly_cost)) == D("2400.00")


def test_staff_form_takes_method_b(client, login, make_user, make_operation):
    officer = make_user("finance_officer", operations=[])
    make_operation("HL-RSA-2023", members=[officer])
    login(client, officer)
    response = client.post("/operations/HL-RSA-2023/personnel/saisie", data={
        "registration_number": "B-01", "last_name": "Roux", "first_name": "Léa", "method": "méthode B",
        "year": "2023", "annual_cost": "", "working_share": "", "fixed_percent": "",
        "monthly_cost": "2 400,00", "monthly_hours": "",
    })
    assert response.status_code == 200
    assert "obligatoire pour la méthode B" in response.get_data(as_text=True)
    response = client.post("/operations/HL-RSA-2023/personnel/saisie", data={
        "registration_number": "B-01", "last_name": "Roux", "first_name": "Léa", "method": "méthode B",
        "year": "2023", "annual_cost": "", "working_share": "", "fixed_percent": "",
        "monthly_cost": "2 400,00", "monthly_hours": "151,67",
    })
    assert response.status_code == 302
    page = client.get("/operations/HL-RSA-2023/personnel").get_data(as_text=True)
    assert "2 400,00 € / 151,67 h = 15,82 €/h" in page and "méthode B" in page


def test_one_cost_per_person_and_year_includes_method_b(hl_operation, make_operation, runner, tmp_path):
    """Primer §9 across operations: B-01 has 2 400,00 € / 151,67 h for 2023 on HL-RSA-2023.
    On OP-2: the same monthly cost and hours are accepted; 2 500,00 € is refused (row 2, the
    monthly cost column, naming HL-RSA-2023), and so is a method A annual cost of 28 800,00 €
    (one cost per person and year, whichever method). Nothing is written by a refusal."""
    make_operation("OP-2")
    assert runner.invoke(args=["staff", "import", "HL-RSA-2023",
                               write(tmp_path, "p.csv", STAFF_HEADER + METHOD_B_ROW)]).exit_code == 0
    other = METHOD_B_ROW.replace("2 400,00", "2 500,00")
    result = runner.invoke(args=["staff", "import", "OP-2", write(tmp_path, "p.csv", STAFF_HEADER + other)])
    assert result.exit_code == 1
    assert "ligne 2" in result.output and "Coût mensuel chargé" in result.output and "HL-RSA-2023" in result.output
    assert "2 400,00" in result.output.replace("\u202f", " ").replace("\u00a0", " ")
    method_a = "B-01;Roux;Léa;Conseillère;horaire;2023;28 800,00;100;;;\n"
    result = runner.invoke(args=["staff", "import", "OP-2", write(tmp_path, "p.csv", STAFF_HEADER + method_a)])
    assert result.exit_code == 1 and "HL-RSA-2023" in result.output
    assert db.session.scalar(select(func.count()).select_from(MonthlyCost)) == 1
    result = runner.invoke(args=["staff", "import", "OP-2", write(tmp_path, "p.csv", STAFF_HEADER + METHOD_B_ROW)])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(MonthlyCost)) == 2

"""Staff rules over several operations and partial months (primer §9): one annual cost and
one working share per person and year; fixed-share months partly outside the operation
prorated by calendar days; hourly months of that kind declare in-period hours only."""
from datetime import date
from decimal import Decimal as D

from sqlalchemy import select

from budget_app.kernel.extensions import db
from budget_app.staff import computations
from budget_app.staff.models import StaffCostLine

STAFF = "Matricule;Nom;Prénom;Fonction;Méthode;Année;Coût annuel chargé;Quotité (%);Temps fixe (%)\n"


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_one_annual_cost_per_person_and_year_across_operations(runner, make_operation, tmp_path):
    """Claire Martin costs 41 280,00 € in 2023 at 100 % on HL-RSA-2023; the same person with
    40 000,00 € (or 50 %) for 2023 on another operation is refused, naming HL-RSA-2023; the
    same figures are accepted; another year is free."""
    make_operation("HL-RSA-2023")
    make_operation("OP-2")
    first = write(tmp_path, "a.csv", STAFF + "HL-0412;Martin;Claire;CIP;horaire;2023;41 280,00;100;\n")
    assert runner.invoke(args=["staff", "import", "HL-RSA-2023", first]).exit_code == 0
    other = write(tmp_path, "b.csv", STAFF + "HL-0412;Martin;Claire;CIP;horaire;2023;40 000,00;100;\n")
    result = runner.invoke(args=["staff", "import", "OP-2", other])
    assert result.exit_code == 1
    assert ("ligne 2, colonne Coût annuel chargé : HL-0412 a déjà pour 2023 un coût annuel de 41 280,00 € et une "
            "quotité de 100 % sur l'opération HL-RSA-2023") in result.output.replace("\u202f", " ").replace("\xa0", " ")
    half = write(tmp_path, "c.csv", STAFF + "HL-0412;Martin;Claire;CIP;horaire;2023;41 280,00;50;\n")
    assert runner.invoke(args=["staff", "import", "OP-2", half]).exit_code == 1
    same = write(tmp_path, "d.csv", STAFF + "HL-0412;Martin;Claire;CIP;horaire;2023;41 280,00;100;\n"
                 "HL-0412;Martin;Claire;CIP;horaire;2024;42 000,00;100;\n")
    result = runner.invoke(args=["staff", "import", "OP-2", same])
    assert result.exit_code == 0, result.output


def test_fixed_share_month_partly_outside_the_operation_is_prorated(runner, make_operation, tmp_path):
    """Operation from 15/01/2023: January has 17 of its 31 days inside. Fixed share 50 % of a
    2 800,00 € month: 2 800,00 × 50 % × 17/31 = 767,7419 -> 767,74 €. February is whole:
    1 400,00 €."""
    make_operation("HL-RSA-2023", start_date=date(2023, 1, 15))
    staff = write(tmp_path, "s.csv", STAFF + "HL-0733;Roux;Sophie;Coordinatrice;temps fixe;;;;50\n")
    assert runner.invoke(args=["staff", "import", "HL-RSA-2023", staff]).exit_code == 0
    sheets = write(tmp_path, "t.csv", "Matricule;Mois;Heures sur l'opération;Heures travaillées;Coût mensuel chargé\n"
                   "HL-0733;2023-01;;;2 800,00\nHL-0733;2023-02;;;2 800,00\n")
    result = runner.invoke(args=["timesheets", "import", "HL-RSA-2023", sheets, "--approved"])
    assert result.exit_code == 0, result.output
    lines = {line.month: line for line in db.session.scalars(select(StaffCostLine))}
    january, february = lines[date(2023, 1, 1)], lines[date(2023, 2, 1)]
    assert (january.amount, january.days_in_period, january.computation) == (
        D("767.74"), 17, "2 800,00 € × 50 % × 17/31 = 767,74 €")
    assert (february.amount, february.days_in_period) == (D("1400.00"), None)
    assert computations.line_text(january, "fr") == "2 800,00 € × 50 % × 17/31 = 767,74 €"


def test_hourly_months_partly_outside_ask_for_in_period_hours(runner, make_operation, tmp_path, client, login,
                                                               make_user):
    """The import and the form say which dates the hours of such a month cover."""
    make_operation("HL-RSA-2023", start_date=date(2023, 1, 15))
    staff = write(tmp_path, "s.csv", STAFF + "HL-0412;Martin;Claire;CIP;horaire;2023;41 280,00;100;\n")
    assert runner.invoke(args=["staff", "import", "HL-RSA-2023", staff]).exit_code == 0
    sheets = write(tmp_path, "t.csv", "Matricule;Mois;Heures sur l'opération;Heures travaillées;Coût mensuel chargé\n"
                   "HL-0412;2023-01;60;151,67;\n")
    result = runner.invoke(args=["timesheets", "import", "HL-RSA-2023", sheets])
    assert result.exit_code == 0, result.output
    assert "heures faites du 15/01/2023 au 31/01/2023 seulement" in result.output
    assert computations.partial_months(date(2023, 1, 15), date(2024, 12, 31)) == [date(2023, 1, 1)]
    login(client, make_user("finance_officer", operations=["HL-RSA-2023"]))
    page = client.get("/operations/HL-RSA-2023/fiches-de-temps/saisie").get_data(as_text=True)
    assert 'data-testid="partial-months"' in page and "01/2023" in page

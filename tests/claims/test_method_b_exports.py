"""Method B staff months (CPR 55(2)(b)) in a bilan's documents: the statement's staff sheet
names the method and keeps the computation; the evidence pack's timesheet table gives the
rate's computation (monthly cost / monthly hours). Golden figures as in
tests/staff/test_method_b.py: 2 400,00 € / 151,67 h = 15,82 €/h; 100 h -> 1 582,00 €."""
import io
from datetime import date

from openpyxl import load_workbook

from budget_app.claims import exports, lifecycle
from budget_app.claims.pack import _timesheet_rows
from budget_app.claims.report import build_report
from budget_app.kernel.extensions import db
from budget_app.staff import imports
from tests.staff.factories import attach_evidence

STAFF = ("Matricule;Nom;Prénom;Méthode;Année;Coût mensuel chargé (méthode B);Heures mensuelles du contrat (méthode B)\n"
         "B-01;Roux;Léa;méthode B;2023;2 400,00;151,67\n")
SHEETS = "Matricule;Mois;Heures sur l'opération;Heures travaillées\nB-01;2023-01;100;151,67\n"


def test_method_b_in_the_statement_and_the_pack(claims_world):
    operation = claims_world["operation"]
    imports.import_staff(operation, STAFF.encode())
    imports.import_timesheets(operation, SHEETS.encode(), approved=True)
    db.session.commit()
    attach_evidence(operation)
    report = build_report(operation, date(2023, 1, 1), date(2023, 1, 31))
    workbook = load_workbook(io.BytesIO(exports.xlsx_bytes(report)))
    rows = [row for row in workbook["Personnel"].iter_rows(values_only=True)
            if row and "Taux horaire, méthode B (RPDC 55(2)(b))" in row]
    assert len(rows) == 1
    assert "100 h × (2 400,00 € / 151,67 h = 15,82 €/h) = 1 582,00 €" in rows[0]
    claim = lifecycle.create_draft(operation, date(2023, 1, 1), date(2023, 1, 31))
    lifecycle.submit_claim(claim, today=date(2023, 2, 15))
    db.session.commit()
    [row] = list(_timesheet_rows(claim))
    assert "Taux horaire, méthode B (RPDC 55(2)(b))" in row
    assert "2 400,00 € / 151,67 h = 15,82 €/h" in row
    assert (row[-3], row[-1]) == ("15,82", "1582,00")

"""`flask seed` gives the staff operation its evidence, but one signed timesheet, so the
demo controller has a complete dossier to open and one line left out for its reason.

HL-0587 (Bernard, 55 040,00 € / 1 720 h = 32,00 €/h), February 2023: 140 h × 32,00 €/h =
4 480,00 €, no signed timesheet: the February statement counts it « dont pièces
manquantes (1 ligne) » 4 480,00 €; a bilan leaves it out (« Pièce du mois manquante »)."""
from datetime import date
from decimal import Decimal as D

from budget_app.claims.report import build_report
from budget_app.claims.selection import compute_period
from budget_app.operations.services import find_operation
from budget_app.staff.models import StaffDocument


def test_seed_attaches_the_staff_evidence_but_one_timesheet(app, runner):
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert "sauf la fiche signée de HL-0587 de 02/2023" in result.output
    operation = find_operation("HL-RSA-2023")
    documents = StaffDocument.query.all()
    # Years with timesheets: 3 hourly people in 2023 × (contract, payslips) + the fixed share's
    # 2023 × (mission letter, contract), then 6 timesheet months − 1 missing: 6 + 2 + 5 = 13.
    assert len(documents) == 13
    assert {document.fixed_percent for document in documents if document.kind == "mission_letter"} == {D("50")}
    report = build_report(operation, date(2023, 2, 1), date(2023, 2, 28))
    assert [(line.reference, line.amount) for line in report.missing.lines] == [("Bernard Luc", D("4480.00"))]
    bilan = compute_period(operation, date(2023, 2, 1), date(2023, 2, 28), evidence=True)
    assert [(line.reason, line.amount) for line in bilan.left_out] == [("staff_month_evidence", D("4480.00"))]
    again = runner.invoke(args=["seed"])
    assert again.exit_code == 0 and StaffDocument.query.count() == 13


def test_seed_attaches_the_operation_documents_once(app, runner):
    """Issue 22: HL-RSA-2023's agreement and poster (staff costs only: no procurement file
    expected), nothing missing on the operation page; a second seed adds nothing."""
    from budget_app.expenses.models import OperationDocument
    from budget_app.expenses.operation_documents import expectations

    assert runner.invoke(args=["seed"]).exit_code == 0
    operation = find_operation("HL-RSA-2023")
    assert sorted(document.kind for document in OperationDocument.query.all()) == ["agreement", "publicity"]
    assert expectations(operation).missing == []
    assert runner.invoke(args=["seed"]).exit_code == 0 and OperationDocument.query.count() == 2

"""Imports and the timesheet form move a sheet's state through the timesheets' table
(``staff/lifecycle.TIMESHEETS``), never by setting it: one audited move per step."""
from sqlalchemy import select

from budget_app.kernel.audit.models import AuditEntry
from budget_app.kernel.extensions import db
from budget_app.staff.models import Timesheet

SHEET_HEADER = "Matricule;Mois;Heures sur l'opération;Heures travaillées;Coût mensuel chargé\n"


def _moves(sheet_id):
    """The moves the audit trail holds for one sheet, in order (actions written by ``move``)."""
    return list(db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_type == "timesheets", AuditEntry.object_id == str(sheet_id),
                                        AuditEntry.action.in_(("submit", "approve", "reopen", "lock", "unlock")))
        .order_by(AuditEntry.id)))


def _import(runner, tmp_path, name, rows, *extra):
    path = tmp_path / name
    path.write_text(SHEET_HEADER + rows, encoding="utf-8")
    result = runner.invoke(args=["timesheets", "import", "HL-RSA-2023", str(path), *extra])
    assert result.exit_code == 0, result.output


def test_an_imported_sheet_is_submitted_by_a_move_of_the_table(hl_operation, runner, tmp_path):
    """New sheet: written as a draft, then « submit » (one entry). The old import set
    ``state = "submitted"`` and left no move in the trail."""
    runner.invoke(args=["staff", "import", "HL-RSA-2023", "fixtures/examples/personnel-exemple.csv"])
    _import(runner, tmp_path, "t.csv", "HL-0412;2023-01;120;151,67;\n")
    sheet = db.session.scalar(select(Timesheet))
    assert sheet.state == "submitted"
    assert _moves(sheet.id) == ["submit"]


def test_import_with_approved_submits_then_approves_each_sheet(hl_operation, runner, tmp_path):
    """`--approved`: draft → submitted → approved, two audited moves per sheet (6 sheets of
    the example file: 6 « submit » and 6 « approve »)."""
    runner.invoke(args=["staff", "import", "HL-RSA-2023", "fixtures/examples/personnel-exemple.csv"])
    result = runner.invoke(args=["timesheets", "import", "HL-RSA-2023", "fixtures/examples/temps-exemple.csv",
                                 "--approved"])
    assert result.exit_code == 0, result.output
    sheets = db.session.scalars(select(Timesheet)).all()
    assert len(sheets) == 6
    assert {sheet.state for sheet in sheets} == {"approved"}
    assert [_moves(sheet.id) for sheet in sheets] == [["submit", "approve"]] * 6


def test_the_form_puts_a_changed_submitted_sheet_back_to_draft_by_a_move(hl_operation, runner, tmp_path, make_user,
                                                                         login, client):
    """A submitted sheet changed through the form: « reopen » to draft (the old code set
    ``state = "draft"`` by hand, after the import path had set ``submitted``)."""
    officer = make_user("finance_officer", operations=["HL-RSA-2023"])
    runner.invoke(args=["staff", "import", "HL-RSA-2023", "fixtures/examples/personnel-exemple.csv"])
    _import(runner, tmp_path, "t.csv", "HL-0412;2023-01;120;151,67;\n")
    sheet = db.session.scalar(select(Timesheet))
    login(client, officer)
    response = client.post(f"/operations/HL-RSA-2023/fiches-de-temps/{sheet.id}", data={
        "registration_number": "HL-0412", "month": "01/2023", "hours_on_operation": "100",
        "hours_worked": "151,67", "monthly_cost": "", "version": str(sheet.version),
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    sheet = db.session.get(Timesheet, sheet.id)
    assert (sheet.state, sheet.hours_on_operation) == ("draft", 100)
    assert _moves(sheet.id) == ["submit", "reopen"]

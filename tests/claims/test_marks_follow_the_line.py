"""A line's marks (held, declared) follow the line, not its database row (issue 20, point 2):
the two escapes measured on the old code are refused, whatever placed the hold.

(a) A finance officer deletes a suspected expense and enters it again identically
    (confirming the duplicate warning): the new line went into the draft bilan
    (324,96 → 419,96 €).
(b) A timesheet whose line is suspected is put back to draft, submitted and approved again:
    the new staff line was counted (14 840,00 → 17 720,00 €) while the referent's page showed
    the old line with a blank label.
"""
import re
from datetime import date
from decimal import Decimal as D

import pytest

from budget_app.alerts import filing, suspicions
from budget_app.claims import holds
from budget_app.claims.selection import compute_period
from budget_app.expenses.rules import ExpenseData
from budget_app.expenses.services import add_document, create_expense, delete_expense, update_expense, validate_expense
from budget_app.kernel.errors import DomainError
from budget_app.kernel.extensions import db
from budget_app.staff.lifecycle import change_state
from budget_app.staff.models import AnnualCost, Person, StaffAssignment, Timesheet
from tests.expenses.factories import PDF, make_expense
from tests.operations.factories import make_plan
from tests.staff.factories import make_staff_line

JANUARY = (date(2023, 1, 1), date(2023, 1, 31))
AS_OF = date(2023, 2, 15)


def _invoice(amount: str, percent: str = "100", number: str = "FA-2023-117") -> ExpenseData:
    return ExpenseData(incurred_on=date(2023, 1, 12), paid_on=date(2023, 1, 20), supplier_name="Imprimerie Vellave",
                       document_number=number, label="Impression des livrets", category="FONCTIONNEMENT",
                       amount_excl_vat=D(amount), vat=D("0.00"), allocation_percent=D(percent))


def _enter(operation, officer, data: ExpenseData):
    """As the form does: the line, then its invoice and proof of payment (complete)."""
    expense = create_expense(operation, data, officer)
    db.session.flush()
    add_document(expense, "invoice", "facture.pdf", PDF, officer)
    add_document(expense, "payment", "virement.pdf", PDF, officer)
    db.session.commit()
    return expense


def _hold(how, operation, referent, line_type, line_id):
    """The two askers of a hold: a referent's suspicion, the managing authority."""
    if how == "suspicion":
        alert, _secret = filing.file_alert(filing.Report(kind="fraud", facts="faits", operation_id=operation.id))
        suspicions.link_operation(alert, operation)
        suspicions.link_cost_lines(alert, referent, [(line_type, line_id)])
    else:
        holds.place_hold(operation, line_type, line_id, "Pièce à compléter")
    db.session.commit()


def _fonctionnement():
    return compute_period(_operation["op"], *JANUARY, as_of=AS_OF).figures.categories.get("FONCTIONNEMENT")


_operation = {}


@pytest.fixture
def world(app, claims_world, make_user, tmp_path):
    app.config["ALERT_KEY_FILE"] = str(tmp_path / "alert_key")
    _operation["op"] = claims_world["operation"]
    referent = make_user("antifraud_referent", email="referent@example.org")
    second_officer = make_user("finance_officer", email="fo2@example.org")
    return {**claims_world, "referent": referent, "second_officer": second_officer, "client": app.test_client()}


@pytest.fixture
def running_costs(world):
    """The plan gets running costs (FONCTIONNEMENT), so that the form's rules take them."""
    make_plan(world["operation"], costs={("FONCTIONNEMENT", 2023): "10000.00"}, flat_rates={})
    return world


@pytest.mark.parametrize("how", ["suspicion", "authority"])
def test_a_held_expense_deleted_and_entered_again_stays_out_of_the_bilan(running_costs, how):
    """Kept: 300,00 + 24,96 = 324,96 €; held: 95,00 €. Draft bilan: 324,96 €. Deleting the
    held line is refused; entering it again identically (duplicate warning confirmed) is
    refused too; the draft bilan stays at 324,96 € (it read 419,96 € on the old code)."""
    world = running_costs
    operation, officer = world["operation"], world["officer"]
    make_expense(operation, "300.00")
    make_expense(operation, "24.96")
    held = _enter(operation, officer, _invoice("95.00"))
    _hold(how, operation, world["referent"], "expense", held.id)
    assert _fonctionnement() == D("324.96")

    refusals = []
    # The escape, step by step (each step the old code let through): delete, enter again.
    for step in (lambda: delete_expense(held, "saisie en double", officer),
                 lambda: _enter(operation, officer, _invoice("95.00"))):
        try:
            step()
            db.session.commit()
        except DomainError as refused:
            db.session.rollback()
            refusals.append(str(refused))
    assert _fonctionnement() == D("324.96")
    assert len(refusals) == 2 and "en attente" in refusals[0]
    problems, _duplicates = validate_expense(operation, _invoice("95.00"))
    assert problems, "the same line entered again beside the held one"


def test_the_refusal_reads_the_same_whatever_placed_the_hold(running_costs):
    world = running_costs
    operation, officer = world["operation"], world["officer"]
    suspected = _enter(operation, officer, _invoice("95.00"))
    held = _enter(operation, officer, _invoice("40.00", number="FA-2023-118"))
    _hold("suspicion", operation, world["referent"], "expense", suspected.id)
    _hold("authority", operation, world["referent"], "expense", held.id)
    messages = []
    for line in (suspected, held):
        for attempt in (lambda: delete_expense(line, "erreur", officer),
                        lambda: update_expense(line, _invoice("1.00", number="FA-2023-119"), line.version)):
            with pytest.raises(DomainError) as refused:
                attempt()
            db.session.rollback()
            messages.append(str(refused.value))
    assert messages[0] == messages[2] and messages[1] == messages[3]
    assert "suspicion" not in " ".join(messages).lower() and "signalement" not in " ".join(messages).lower()


def test_a_held_line_still_takes_its_missing_document(running_costs, login):
    """A hold often waits for a document (primer §8): the finance officer can attach it, and
    the line's page offers that, not its deletion nor a change."""
    world = running_costs
    operation, officer = world["operation"], world["officer"]
    expense = create_expense(operation, _invoice("95.00"), officer)
    db.session.commit()
    _hold("authority", operation, world["referent"], "expense", expense.id)
    client = world["client"]
    login(client, officer)
    page = client.get(f"/operations/HL-RSA-2023/depenses/{expense.id}").get_data(as_text=True)
    assert "Joindre une pièce" in page and "Supprimer la dépense" not in page and "/modifier" not in page
    assert 'data-testid="hold">en attente<' in page
    add_document(expense, "invoice", "facture.pdf", PDF, officer)
    db.session.commit()
    assert [document.kind for document in expense.documents] == ["invoice"]


def test_lines_of_one_split_invoice_are_marked_one_by_one(running_costs):
    """Invoice FA-2023-117 of 190,00 € split by allocation key: 50 % (95,00 €) and 25 %
    (47,50 €). Holding the first leaves the second in the bilan (47,50 €); the second can
    still be changed (to 40 %: 76,00 €)."""
    world = running_costs
    operation, officer = world["operation"], world["officer"]
    first = _enter(operation, officer, _invoice("190.00", percent="50"))
    _hold("authority", operation, world["referent"], "expense", first.id)
    second = _enter(operation, officer, _invoice("190.00", percent="25"))
    assert _fonctionnement() == D("47.50")
    update_expense(second, _invoice("190.00", percent="40"), second.version)
    db.session.commit()
    assert _fonctionnement() == D("76.00")


def _hourly_line(operation, officer, approver, hours="120", rate="24.00"):
    """A person-month entered, submitted and approved through the timesheet lifecycle:
    120 h × 24,00 €/h = 2 880,00 €."""
    person = Person(registration_number="HL-9001", last_name="Bernard", first_name="Luc")
    assignment = StaffAssignment(operation_id=operation.id, person=person, method="hourly")
    cost = AnnualCost(assignment=assignment, year=2023, annual_cost=D("41280.00"), hours_divisor=1720,
                      hourly_rate=D(rate), computation="41 280,00 € / 1 720 h = 24,00 €/h")
    sheet = Timesheet(assignment=assignment, month=date(2023, 1, 1), hours_on_operation=D(hours),
                      hours_worked=D("151.67"), state="draft", entered_by_id=officer.id)
    db.session.add_all([person, assignment, cost, sheet])
    db.session.flush()
    change_state(sheet, "submit", officer)
    change_state(sheet, "approve", approver)
    db.session.commit()
    return sheet


@pytest.mark.parametrize("how", ["suspicion", "authority"])
def test_a_held_staff_line_is_not_escaped_by_sending_its_timesheet_back(world, how):
    """Kept: 4 400,00 + 4 400,00 + 6 040,00 = 14 840,00 €; held: 120 h × 24,00 = 2 880,00 €.
    Sending the held month's timesheet back to draft is refused, so it is never approved
    again as a new line; PERSONNEL stays 14 840,00 € (17 720,00 € on the old code) and the
    referent's page still names the line."""
    operation, officer, approver = world["operation"], world["officer"], world["second_officer"]
    sheet = _hourly_line(operation, officer, approver)
    # Lines entered after it: its row id is not the last one (SQLite would reuse it).
    make_staff_line(operation, "4400.00", hours=D("137.5"), rate=D("32.00"))
    make_staff_line(operation, "4400.00", hours=D("137.5"), rate=D("32.00"), name="Durand")
    make_staff_line(operation, "6040.00", hours=D("151"), rate=D("40.00"), name="Petit")
    line_id = sheet.cost_line.id
    _hold(how, operation, world["referent"], "staff_cost_line", line_id)

    def personnel():
        return compute_period(operation, *JANUARY, as_of=AS_OF).figures.categories.get("PERSONNEL")

    assert personnel() == D("14840.00")
    refusal = None
    try:
        change_state(sheet, "reopen", officer)
        # The old code let it through: submitted and approved again, a new line.
        change_state(sheet, "submit", officer)
        change_state(sheet, "approve", approver)
        db.session.commit()
    except DomainError as refused:
        db.session.rollback()
        refusal = str(refused)
    assert personnel() == D("14840.00")
    assert refusal is not None and "en attente" in refusal
    line = suspicions.cost_line("staff_cost_line", line_id)
    assert line is not None and line.label.startswith("HL-9001")


def _row(page: str, label: str) -> str:
    """The table row naming ``label``, its names and numbers removed."""
    row = next(row for row in re.findall(r"<tr.*?</tr>", page, re.S) if label in row)
    return re.sub(r"\d+", "N", row.replace(label, "LABEL")).replace("Dupont", "NAME").replace("Moreau", "NAME")


def test_staff_pages_show_a_hold_the_same_whatever_placed_it(world, login):
    """README: holds show on every page. A suspected staff line and one the authority holds
    read « en attente » alike on the staff cost lines and the timesheets (issue 20)."""
    operation = world["operation"]
    suspected = make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00"), name="Dupont")
    held = make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00"), name="Moreau")
    suspected_number, held_number = suspected.person.registration_number, held.person.registration_number
    _hold("suspicion", operation, world["referent"], "staff_cost_line", suspected.id)
    _hold("authority", operation, world["referent"], "staff_cost_line", held.id)
    client = world["client"]
    for reader in (world["officer"], world["controller"], world["admin"]):
        login(client, reader)
        for url in ("/operations/HL-RSA-2023/lignes-de-personnel?mois=2023-01",
                    "/operations/HL-RSA-2023/fiches-de-temps?mois=2023-01"):
            page = client.get(url).get_data(as_text=True)
            assert _row(page, suspected_number) == _row(page, held_number), (reader.role, url)
            assert 'data-testid="hold">en attente<' in _row(page, held_number)

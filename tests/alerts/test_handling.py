"""Deadlines, the transition table, the dashboard, suspicion on cost lines."""
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from budget_app.alerts import deadlines, filing, handling, suspicions, transmission
from budget_app.alerts.models import Alert, AlertEvent
from budget_app.kernel.errors import DomainError
from budget_app.kernel.extensions import db
from tests.expenses.factories import make_expense
from tests.staff.factories import make_staff_line

from .factories import file_alert


@pytest.mark.parametrize(
    "received, due",
    [
        (date(2026, 12, 18), date(2026, 12, 30)),  # Friday; Christmas Day skipped
        (date(2026, 4, 30), date(2026, 5, 13)),  # 1 May and 8 May (Fridays) skipped; Ascension 14 May after
        (date(2026, 11, 23), date(2026, 12, 2)),  # Monday, no holiday: 7 working days later
        (date(2026, 11, 7), date(2026, 11, 18)),  # Saturday; 11 November skipped
    ],
)
def test_acknowledgment_due_in_french_working_days(received, due):
    assert deadlines.acknowledgment_due(received) == due


def test_feedback_due_three_months_after_acknowledgment():
    assert deadlines.feedback_due(date(2026, 4, 30), date(2026, 5, 13)) == date(2026, 8, 13)
    # Without acknowledgment: 3 months from the end of the 7 working days.
    assert deadlines.feedback_due(date(2026, 4, 30), None) == date(2026, 8, 13)
    # 30 Nov + 3 months = 28 Feb 2027, a Sunday -> Monday 1 March.
    assert deadlines.feedback_due(date(2026, 11, 1), date(2026, 11, 30)) == date(2027, 3, 1)
    assert deadlines.add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)


def test_received_day_is_the_day_in_paris():
    assert deadlines.local_day(datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc)) == date(2027, 1, 1)


def test_filed_alert_has_its_deadlines(app, operation):
    alert, _ = file_alert(operation=operation)
    assert alert.acknowledgment_due == deadlines.acknowledgment_due(alert.received_on)
    assert handling.next_deadline(alert) == ("acknowledgment", alert.acknowledgment_due)


def test_transition_table(app, referent, operation):
    alert, _ = file_alert(operation=operation)
    with pytest.raises(DomainError):
        handling.change_state(alert, "transmitted", referent, "trop tôt", "x", recipient="olaf")
    with pytest.raises(DomainError, match="motif"):
        handling.change_state(alert, "acknowledged", referent, "", "message")
    with pytest.raises(DomainError, match="message"):
        handling.change_state(alert, "acknowledged", referent, "recevable", "")
    handling.change_state(alert, "acknowledged", referent, "recevable", "Bien reçu.")
    assert alert.acknowledged_on == handling.today()
    assert alert.feedback_due == deadlines.feedback_due(alert.received_on, alert.acknowledged_on)
    assert handling.next_deadline(alert) == ("feedback", alert.feedback_due)
    handling.change_state(alert, "under_review", referent, "examen")
    with pytest.raises(DomainError, match="destinataire"):
        handling.change_state(alert, "transmitted", referent, "fondé", "Transmis.", recipient=None)
    handling.change_state(alert, "transmitted", referent, "fondé", "Transmis au parquet.", recipient="prosecutor")
    assert (alert.transmitted_to, alert.transmitted_on, alert.feedback_on) == ("prosecutor", handling.today(), handling.today())
    assert handling.next_deadline(alert) is None
    handling.change_state(alert, "closed_founded", referent, "jugé", "Affaire close.")
    assert alert.is_closed and alert.closed_on == handling.today()
    assert handling.allowed_transitions(alert) == ()
    db.session.commit()
    events = db.session.scalars(db.select(AlertEvent).order_by(AlertEvent.id)).all()
    assert [(e.from_state, e.to_state) for e in events] == [
        ("received", "acknowledged"), ("acknowledged", "under_review"), ("under_review", "transmitted"),
        ("transmitted", "closed_founded"),
    ]
    assert filing.event_reason(events[0]) == "recevable"
    assert [filing.message_body(m) for m in alert.messages] == ["Bien reçu.", "Transmis au parquet.", "Affaire close."]


def test_transition_date_cannot_be_in_the_future(app, referent, operation):
    alert, _ = file_alert(operation=operation)
    with pytest.raises(DomainError, match="futur"):
        handling.change_state(alert, "acknowledged", referent, "r", "m", on=date(2999, 1, 1))


def test_dashboard_sorted_by_deadline_with_overdue_highlighted(app, referent, login, operation):
    late, _ = file_alert(operation=operation)
    late.received_on = date(2026, 1, 5)
    late.acknowledgment_due = deadlines.acknowledgment_due(late.received_on)
    recent, _ = file_alert(operation=operation)
    done, _ = file_alert(operation=operation)
    handling.change_state(done, "acknowledged", referent, "ok", "reçu")
    handling.record_feedback(done, referent, "Nous avons transmis votre signalement.")
    db.session.commit()
    assert [a.id for a in handling.dashboard_alerts()] == [late.id, recent.id, done.id]
    assert handling.is_overdue(late) and not handling.is_overdue(recent)
    client = login(app.test_client(), referent)
    page = client.get("/referent/signalements").get_data(as_text=True)
    assert page.index(late.reference) < page.index(recent.reference) < page.index(done.reference)
    assert page.count('class="overdue"') == 1 and "en retard" in page


def test_referent_message_and_feedback_flag(app, referent, login, operation):
    alert, _ = file_alert(operation=operation)
    client = login(app.test_client(), referent)
    client.post(f"/referent/signalements/{alert.reference}/message", data={"body": "Une question ?"})
    db.session.expire_all()
    assert db.session.get(Alert, alert.id).feedback_on is None
    client.post(f"/referent/signalements/{alert.reference}/message", data={"body": "Suites données.", "feedback": "y"})
    db.session.expire_all()
    assert db.session.get(Alert, alert.id).feedback_on == handling.today()


# ---------------------------------------------------------------- suspicion on cost lines

def test_linked_lines_are_suspected_until_lifted(app, referent, login, operation, make_operation):
    other = make_operation("OP-2")
    e1 = make_expense(operation, "1200.00", label="Facture traiteur").id
    e2 = make_expense(operation, "800.00", label="Loyer").id
    staff_line = make_staff_line(operation, "2880.00", hours=Decimal("120"), rate=Decimal("24.00"))
    s1 = staff_line.id
    foreign = make_expense(other, "10.00", label="Autre opération").id
    alert, _ = file_alert(operation=None)
    client = login(app.test_client(), referent)
    # Lines need an operation first.
    client.post(f"/referent/signalements/{alert.reference}/lignes", data={"line": f"expense:{e1}"})
    assert suspicions.suspected_cost_lines(operation.id) == set()
    client.post(f"/referent/signalements/{alert.reference}/operation", data={"operation_id": operation.id})
    page = client.get(f"/referent/signalements/{alert.reference}").get_data(as_text=True)
    staff_label = f"{staff_line.person.registration_number} — 01/2023"
    assert "Facture traiteur" in page and staff_label in page and "Autre opération" not in page
    response = client.post(f"/referent/signalements/{alert.reference}/lignes",
                           data={"line": [f"expense:{e1}", f"staff_cost_line:{s1}"]})
    assert response.status_code == 302
    assert suspicions.suspected_cost_lines(operation.id) == {("expense", e1), ("staff_cost_line", s1)}
    # A line of another operation, or one that does not exist, is refused; nothing changes.
    client.post(f"/referent/signalements/{alert.reference}/lignes", data={"expense_ids": f"{e2}, {foreign}"})
    client.post(f"/referent/signalements/{alert.reference}/lignes", data={"expense_ids": "9999"})
    assert suspicions.suspected_cost_lines(operation.id) == {("expense", e1), ("staff_cost_line", s1)}
    assert suspicions.suspected_cost_lines(other.id) == set()
    # Lifting needs a reason.
    db.session.expire_all()
    link = next(l for l in db.session.get(Alert, alert.id).cost_lines if l.line_id == e1)
    client.post(f"/referent/signalements/{alert.reference}/lignes/{link.id}/lever", data={"reason": ""})
    assert ("expense", e1) in suspicions.suspected_cost_lines(operation.id)
    client.post(f"/referent/signalements/{alert.reference}/lignes/{link.id}/lever", data={"reason": "facture justifiée"})
    assert suspicions.suspected_cost_lines(operation.id) == {("staff_cost_line", s1)}
    db.session.expire_all()
    link = db.session.get(type(link), link.id)
    assert link.lifted_by == referent.id and link.lifted_at is not None
    assert b"justifi" not in bytes(link.lift_reason)
    from budget_app.alerts.models import AlertLogEntry
    from budget_app.kernel.audit.models import AuditEntry

    actions = {(e.action, (e.details or {}).get("line_type")) for e in db.session.scalars(db.select(AlertLogEntry))}
    assert ("suspicion_set", "expense") in actions and ("suspicion_lifted", "expense") in actions
    assert not {e.action for e in db.session.scalars(db.select(AuditEntry))} & {"suspicion_set", "suspicion_lifted"}


def test_lines_must_exist(app, referent, operation):
    alert, _ = file_alert(operation=operation)
    with pytest.raises(DomainError, match="n'existe pas"):
        suspicions.link_cost_lines(alert, referent, [("expense", 999)])


def test_computed_amounts_from_suspected_lines(app, referent, operation):
    e1 = make_expense(operation, "12345.67", label="Facture").id
    s1 = make_staff_line(operation, "4321.11").id
    alert, _ = file_alert(operation=operation)
    suspicions.link_cost_lines(alert, referent, [("expense", e1), ("staff_cost_line", s1)])
    # 16 666.78 x 60 % = 10 000.068 -> 10 000.07 (half-up, once)
    assert transmission.computed_amounts(alert) == (Decimal("16666.78"), Decimal("10000.07"))
    assert transmission.is_reportable_to_commission(alert)


def test_real_expense_lines_are_listed_linked_and_valued(app, referent, login, operation):
    kept = make_expense(operation, "12500.00", label="Repas du comité")
    deleted = make_expense(operation, "10.00", label="Saisie annulée", deleted_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    alert, _ = file_alert(operation=operation)
    lines = suspicions.operation_cost_lines(operation.id)
    assert [(line.line_type, line.id) for line in lines] == [("expense", kept.id)]
    assert lines[0].amount == Decimal("12500.00") and "Repas du comité" in lines[0].label
    client = login(app.test_client(), referent)
    page = client.get(f"/referent/signalements/{alert.reference}").get_data(as_text=True)
    assert "Repas du comité" in page and "Saisie annulée" not in page
    client.post(f"/referent/signalements/{alert.reference}/lignes", data={"line": f"expense:{kept.id}"})
    assert suspicions.suspected_cost_lines(operation.id) == {("expense", kept.id)}
    db.session.expire_all()
    alert = db.session.get(Alert, alert.id)
    # 12 500,00 x 60 % (the operation's FSE+ rate) = 7 500,00: not reportable to the Commission.
    assert transmission.computed_amounts(alert) == (Decimal("12500.00"), Decimal("7500.00"))
    assert not transmission.is_reportable_to_commission(alert)
    assert deleted.id not in {line_id for _t, line_id in suspicions.suspected_cost_lines(operation.id)}


def test_real_staff_cost_lines_are_listed_with_a_pseudonymous_label(app, runner, referent, operation):
    from budget_app.staff.models import StaffCostLine

    for args in (["staff", "import", operation.code, "fixtures/examples/personnel-exemple.csv"],
                 ["timesheets", "import", operation.code, "fixtures/examples/temps-exemple.csv", "--approved"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    staff_lines = [line for line in suspicions.operation_cost_lines(operation.id) if line.line_type == "staff_cost_line"]
    first = db.session.scalar(db.select(StaffCostLine).order_by(StaffCostLine.id))
    assert staff_lines and staff_lines[0].id == first.id and staff_lines[0].amount == first.amount
    # Registration number and month, never the person's name.
    assert staff_lines[0].label.startswith("HL-0") and "Martin" not in staff_lines[0].label
    alert, _ = file_alert(operation=operation)
    suspicions.link_cost_lines(alert, referent, [("staff_cost_line", first.id)])
    db.session.commit()
    assert suspicions.suspected_cost_lines(operation.id) == {("staff_cost_line", first.id)}

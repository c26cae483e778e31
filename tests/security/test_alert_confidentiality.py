"""Findings 1-3 of issue 13: the public channel never attributes anything to a staff
session; the general audit trail holds no alert reference, id, recipient or line link;
pages and exports an admin or an auditor can open reveal nothing of an alert."""
from datetime import date
from decimal import Decimal

import pytest

from budget_app.alerts import handling, suspicions, transmission
from budget_app.alerts.models import Alert, AlertLogEntry
from budget_app.kernel.audit.models import AuditEntry
from budget_app.kernel.extensions import db
from tests.alerts.conftest import post_report, receipt_codes
from tests.alerts.factories import CANARY


def _audit_dump() -> str:
    return repr([(e.actor, e.action, e.object_type, e.object_id, e.before, e.after, e.note)
                 for e in db.session.scalars(db.select(AuditEntry))])


def test_report_from_a_staff_browser_is_public_and_anonymous(app, make_user, login, operation):
    """Finding 1: filed from a browser where a staff member is logged in."""
    officer = make_user("finance_officer", email="officer.canary@example.org")
    client = app.test_client()
    login(client, officer)
    page = client.get("/signalement").get_data(as_text=True)
    assert "officer.canary@example.org" not in page  # the public page ignores the account
    reference, secret = receipt_codes(post_report(client, operation))
    alert = db.session.scalar(db.select(Alert).where(Alert.reference == reference))
    assert alert.anonymous and alert.identity_enc is None
    entries = db.session.scalars(db.select(AlertLogEntry).where(AlertLogEntry.alert_id == alert.id)).all()
    assert entries and {e.actor for e in entries} == {"public"} and {e.user_id for e in entries} == {None}
    dump = _audit_dump()
    assert reference not in dump
    assert not db.session.scalars(db.select(AuditEntry).where(AuditEntry.action.like("alert%"))).all()
    # The follow-up and a reply from the same browser: public too.
    client.post("/signalement/suivi", data={"reference": reference, "secret": secret})
    client.post("/signalement/suivi/reponse", data={"body": "complément"})
    actors = {e.actor for e in db.session.scalars(db.select(AlertLogEntry).where(AlertLogEntry.action == "message"))}
    assert actors == {"public"}
    # The staff session itself still works on the other pages.
    assert client.get("/").status_code == 200


def test_alert_service_events_stay_out_of_the_audit_trail(app, referent, operation, make_user):
    """Finding 3: suspicion_set, transitions with the recipient, transmission amounts."""
    from tests.alerts.factories import file_alert
    from tests.expenses.factories import make_expense

    expense = make_expense(operation, "10.00", incurred_on=date(2023, 3, 1), paid_on=date(2023, 3, 10))
    alert, _secret = file_alert(operation=operation)
    handling.change_state(alert, "acknowledged", referent, "reçu", "Reçu.")
    handling.change_state(alert, "under_review", referent, "examen")
    suspicions.link_cost_lines(alert, referent, [("expense", expense.id)])
    transmission.save_transmission_details(
        alert, amount=Decimal("12345.67"), eu_amount=Decimal("7407.40"), detected_on=None,
        period_start=None, period_end=None, detection="", measures="", persons="", reveal_persons=False)
    handling.change_state(alert, "transmitted", referent, "fondé", "Transmis.", recipient="prosecutor")
    link = alert.cost_lines[0]
    suspicions.lift_suspicion(link, referent, "justifiée")
    db.session.commit()
    dump = _audit_dump()
    for word in (alert.reference, "alert", "suspicion", "prosecutor", "12345.67", "7407.40"):
        assert word not in dump, word
    actions = [e.action for e in db.session.scalars(db.select(AlertLogEntry).where(AlertLogEntry.alert_id == alert.id))]
    assert {"suspicion_set", "suspicion_lifted", "transmission_form", "transition"} <= set(actions)

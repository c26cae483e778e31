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
def _full_alert_life(world):
    users = world["users"]
    referent = users["antifraud_referent"]
    alert = db.session.scalar(db.select(Alert))
    expense_id = world["values"]["OP-IN"]["expense_id"]
    handling.change_state(alert, "closed_founded", referent, f"clos {CANARY}", f"message {CANARY}")
    db.session.commit()
    # A second alert, through every step with the services: filed, acknowledged, lines
    # linked, transmission form, transmitted to the prosecutor, closed.
    from tests.alerts.factories import file_alert

    second, _secret = file_alert(operation=db.session.get(type(alert.operation), alert.operation_id))
    handling.change_state(second, "acknowledged", referent, "reçu", "Reçu.")
    handling.change_state(second, "under_review", referent, "examen")
    suspicions.link_cost_lines(second, referent, [("expense", expense_id)])
    transmission.save_transmission_details(
        second, amount=Decimal("12345.67"), eu_amount=Decimal("7407.40"), detected_on=date(2026, 1, 3),
        period_start=None, period_end=None, detection=CANARY, measures=CANARY, persons=CANARY, reveal_persons=False)
    handling.change_state(second, "transmitted", referent, "fondé", "Transmis.", recipient="prosecutor")
    db.session.commit()
    return [alert, second]


FORBIDDEN_WORDS = ("SIG-", CANARY, "prosecutor", "Procureur", "OLAF", "olaf", "suspicion", "signalée",
                   "Signalement en cours", "12345.67", "12 345,67", "7407.40", "7 407,40")


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_admin_and_auditor_read_nothing_of_an_alert(app, world, login, role):
    """Findings 1-3: every GET page and export an admin or an auditor can open, after a
    full alert life, shows no reference, no alert text, no recipient, no suspicion."""
    alerts = _full_alert_life(world)
    references = [a.reference for a in alerts]
    dump = _audit_dump()
    for word in (*references, CANARY, "prosecutor", "olaf", "alert", "suspicion", "12345.67", "7407.40"):
        assert word not in dump, word
    from budget_app.accounts.policy import POLICY
    from tests.test_access import _url, rules

    referent = app.test_client()
    login(referent, world["users"]["antifraud_referent"])
    for reference in references:
        assert referent.get(f"/referent/signalements/{reference}").status_code == 200
    client = app.test_client()
    login(client, world["users"][role])
    opened = 0
    for rule in rules(app):
        if "GET" not in rule.methods or POLICY[rule.endpoint].public:
            continue
        response = client.get(_url(rule, world["values"]["OP-IN"]))
        if response.status_code != 200:
            continue
        opened += 1
        body = response.get_data()
        if response.mimetype in ("text/html", "text/csv", "text/plain", "application/json"):
            text = body.decode("utf-8", "replace")
        elif body[:2] == b"PK":  # XLSX / ZIP: read every member
            import io
            import zipfile

            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                text = "".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
                               if not name.endswith((".pdf", ".png", ".jpg")))
        else:
            text = body.decode("latin-1")
        for word in (*references, *FORBIDDEN_WORDS):
            assert word not in text, f"{rule.rule} shows {word!r} to {role}"
    assert opened > 20


def test_the_referent_reads_the_alerts_own_log(app, client, referent, login, operation):
    reference, _secret = receipt_codes(post_report(client, operation))
    staff = app.test_client()
    login(staff, referent)
    staff.post(f"/referent/signalements/{reference}/etat",
               data={"target": "acknowledged", "reason": "reçu", "message": "Bien reçu."})
    page = staff.get(f"/referent/signalements/{reference}").get_data(as_text=True)
    log = page.split('data-testid="alert-log"')[1].split("</table>")[0]
    # In sentences, with the referent's name (issue 26): the filing by the public form, then the move.
    assert "Signalement reçu par le formulaire public." in log
    assert f"{referent.display_name} a fait passer le signalement de « Reçu » à « Accusé de réception envoyé »" in log
    assert f"user:{referent.id}" not in log and "transition" not in log

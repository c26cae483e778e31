"""Retention extended by an alert or by a procedure reads and times the same (issue 21,
point 3; loi 2022-401). In a fresh world each, on an operation whose retention has ended
(listed on /conservation), (a) an anonymous filing on the operation, (b) the managing
authority's procedure (`retention hold`, its reason in its own record). An auditor and an
admin capture every page and export they may open (the URL map walked, GET only, as in
``test_hold_captures``) before, just after (nothing shows yet: neither extends anything by
itself: the operation still listed, no « prolongée ») and after the daily computation (`retention update`): each capture is identical in
both worlds, the audit trail (/journal) included. The authority's own screens are its
commands (`retention procedures`), outside the web: nothing is left out."""
import logging
from datetime import date

from budget_app.alerts import filing
from budget_app.kernel.extensions import db
from budget_app.operations.retention import place_procedure, update_extensions
from tests.alerts.factories import file_alert
from tests.security.test_hold_captures import _capture, _dump, _reset, _world


def _ended_world(make_operation, make_user):
    users, operation, values, _lines = _world(make_operation, make_user)
    # Closed with its last payment in 2019: kept until 31/12/2024, ended.
    operation.status, operation.last_payment_date = "closed", date(2019, 5, 10)
    db.session.commit()
    return users, operation, values


def _alert(operation):
    file_alert(operation=operation)
    db.session.commit()


def _procedure(operation):
    place_procedure(operation, "Procédure judiciaire n° 24/118")
    db.session.commit()


def _daily_computation():
    update_extensions()
    db.session.commit()


def test_an_alert_and_a_procedure_extend_retention_alike_for_auditors_and_admins(
        app, request, make_operation, make_user, login, caplog):
    captures = {}
    for name, act in (("alert", _alert), ("procedure", _procedure)):
        _reset(request)
        users, operation, values = _ended_world(make_operation, make_user)
        before = _capture(app, login, users, values)
        with caplog.at_level(logging.DEBUG, logger="budget_app"):
            caplog.clear()
            act(operation)
            logged = [record.getMessage() for record in caplog.records]
        pending = _capture(app, login, users, values)
        _daily_computation()
        captures[name] = (before, pending, _capture(app, login, users, values), logged)
    (before_a, pending_a, after_a, logged_a), (before_b, pending_b, after_b, logged_b) = (
        captures["alert"], captures["procedure"])
    assert len(after_a) > 40 and sum(status == 200 for status, _body in after_a.values()) > 40
    conservation = next(key for key in before_a if key[1] == "/conservation")
    assert b"OP-IN" in before_a[conservation][1]
    assert before_a == before_b  # the two fresh worlds are alike
    operation_page = next(key for key in after_a if key[1] == "/operations/OP-IN/" and key[0] == "A")
    extended = "prolongée : procédure en cours".encode()
    # Nothing shows before the computation (the captures' own logins and exports aside, in
    # the trail, alike in both worlds).
    _dump(pending_a, pending_b)
    assert pending_a == pending_b
    assert b"OP-IN" in pending_a[conservation][1] and extended not in pending_a[operation_page][1]
    assert b"OP-IN" not in after_a[conservation][1] and extended in after_a[operation_page][1]
    _dump(after_a, after_b)
    assert sorted(key for key in after_a if after_a[key] != after_b.get(key)) == []
    # The application log says nothing of either (no alert event, no id, no time to match).
    assert logged_a == logged_b == []


def test_filing_logs_nothing(app, own_alert_key, caplog):
    with caplog.at_level(logging.DEBUG, logger="budget_app"):
        alert, _secret = filing.file_alert(filing.Report(kind="fraud", facts="faits", operation_text="Chantier"))
    assert [record for record in caplog.records if record.name.startswith("budget_app")] == []

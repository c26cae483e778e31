"""A line held once declared in a submitted bilan (issue 21, point 3): the managing
authority may hold any line, as a referent's suspicion may; the line stays in its bilan,
the controller decides on it, and its FSE+ share waits (« montant en attente ») until the
hold is released -- the same figures whatever placed the hold (loi 2022-401)."""
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from budget_app.alerts import filing, suspicions
from budget_app.claims import control, holds, lifecycle, payments
from budget_app.kernel.audit.models import AuditEntry
from budget_app.kernel.errors import DomainError
from budget_app.kernel.extensions import db
from tests.expenses.factories import make_expense

from .factories import declare

JANUARY = (date(2023, 1, 1), date(2023, 1, 31))


@pytest.fixture
def bilan(make_operation, make_user, app, tmp_path):
    """FSE+ 60 %, no plan, no flat rate: January holds 1 000,00 € and 333,33 €; the bilan
    is submitted, then the 333,33 € line is held."""
    app.config["ALERT_KEY_FILE"] = str(tmp_path / "alert_key")
    controller = make_user("controller", email="ctrl-held@example.org")
    referent = make_user("antifraud_referent", email="referent-held@example.org")
    operation = make_operation("HELD", fse_amount=D("100000.00"), members=[controller])
    declare(controller, operation)
    make_expense(operation, "1000.00", incurred_on=date(2023, 1, 10), paid_on=date(2023, 1, 12))
    line = make_expense(operation, "333.33", label="Ligne tenue", incurred_on=date(2023, 1, 11),
                        paid_on=date(2023, 1, 12))
    claim = lifecycle.create_draft(operation, *JANUARY)
    lifecycle.submit_claim(claim, today=date(2023, 2, 15))
    db.session.commit()
    return operation, claim, line, controller, referent


def _hold_by_authority(operation, line, _referent):
    holds.place_hold(operation, "expense", line.id, "Justificatif de paiement demandé")
    db.session.commit()
    return lambda: holds.release_hold(operation, "expense", line.id, "Justificatif reçu")


def _hold_by_suspicion(operation, line, referent):
    alert, _secret = filing.file_alert(filing.Report(kind="fraud", facts="faits", operation_id=operation.id))
    [link] = suspicions.link_cost_lines(alert, referent, [("expense", line.id)])
    db.session.commit()
    return lambda: suspicions.lift_suspicion(link, referent, "Vérifié")


@pytest.mark.parametrize("hold", [_hold_by_authority, _hold_by_suspicion], ids=["authority", "suspicion"])
def test_the_share_of_a_held_declared_line_waits_until_released(bilan, hold):
    """Declared 1 000,00 + 333,33 = 1 333,33 €; FSE+ due 60 % × 1 333,33 = 799,998 -> 800,00 €.
    Held line's share: 60 % × 333,33 = 199,998 -> 200,00 € (« montant en attente »).
    Payment expected: 800,00 − 0,00 (no advance) − 200,00 = 600,00 €; once released, 800,00 €."""
    operation, claim, line, controller, referent = bilan
    release = hold(operation, line, referent)
    assert claim.state == "submitted" and claim.lines.count() == 2  # the held line stays in its bilan
    assert payments.amount_on_hold(claim) == D("200.00")
    control.finish_control(claim, controller)
    db.session.commit()
    assert claim.fse_due == D("800.00")
    assert payments.amount_on_hold(claim) == D("200.00")
    assert payments.expected_payment(claim) == D("600.00")
    with pytest.raises(DomainError, match="paiement attendu"):
        payments.record_payment(claim, date(2023, 3, 1), D("600.01"))
    release()
    db.session.commit()
    assert payments.amount_on_hold(claim) == D("0.00")
    assert payments.expected_payment(claim) == D("800.00")


def _hold_entries():
    return [(entry.action, entry.object_type, entry.actor, entry.user_id, entry.before, entry.after, entry.note)
            for entry in db.session.scalars(select(AuditEntry).where(AuditEntry.action.in_(("hold", "release_hold")))
                                            .order_by(AuditEntry.id))]


def test_the_audit_trail_records_a_hold_as_a_hold_whoever_placed_it(bilan):
    """The same neutral entries for an authority hold and a suspicion, without the reason;
    the authority's reason stays in ``line_holds``; no ``line_holds`` entry."""
    operation, _claim, line, _controller, referent = bilan
    _hold_by_authority(operation, line, referent)()
    db.session.commit()
    by_authority = _hold_entries()
    _hold_by_suspicion(operation, line, referent)()
    db.session.commit()
    by_suspicion = _hold_entries()[len(by_authority):]
    assert [entry[:2] for entry in by_authority] == [("hold", "line_marks"), ("release_hold", "line_marks")]
    assert [entry[2:] for entry in by_authority] == [entry[2:] for entry in by_suspicion]
    assert by_authority[0][5] == {"line_type": "expense", "line_id": line.id, "kind": "held"}
    assert by_authority[0][2] == "system"
    assert not db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "line_holds")).all()
    assert db.session.scalars(select(holds.LineHold)).one().reason == "Justificatif de paiement demandé"


def test_an_admin_holds_and_releases_a_declared_line_from_its_page(app, bilan, make_user, login):
    """The form on the expense's page (admins only); a bad line or an empty reason is refused
    with a message and changes nothing."""
    operation, claim, line, _controller, _referent = bilan
    admin = make_user("admin", email="admin-held@example.org")
    client = app.test_client()
    login(client, admin)
    page = client.get(f"/operations/HELD/depenses/{line.id}").get_data(as_text=True)
    assert 'data-testid="hold-form"' in page
    url = "/operations/HELD/attente"
    for data, message in (({"line": f"expense:{line.id}", "action": "hold", "reason": "  "}, "Indiquez le motif"),
                          ({"line": "expense:²", "action": "hold", "reason": "x"}, "incomplète"),
                          ({"line": f"expense:{line.id}", "action": "release", "reason": "x"}, "pas en attente")):
        assert client.post(url, data=data).status_code == 302
        assert message in client.get(f"/operations/HELD/depenses/{line.id}").get_data(as_text=True)
    assert not db.session.scalars(select(holds.LineHold)).all()
    client.post(url, data={"line": f"expense:{line.id}", "action": "hold", "reason": "Pièce demandée"})
    assert "Ligne mise en attente" in client.get(f"/operations/HELD/depenses/{line.id}").get_data(as_text=True)
    assert payments.amount_on_hold(claim) == D("200.00")
    client.post(url, data={"line": f"expense:{line.id}", "action": "release", "reason": "Pièce reçue"})
    assert payments.amount_on_hold(claim) == D("0.00")
    login(client, _controller)  # assigned to the operation, yet not the managing authority
    assert client.post(url, data={"line": f"expense:{line.id}", "action": "hold", "reason": "x"}).status_code == 403
    assert "hold-form" not in client.get(f"/operations/HELD/depenses/{line.id}").get_data(as_text=True)

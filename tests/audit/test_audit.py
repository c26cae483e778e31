from datetime import date, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from budget_app.kernel.formatting import today_in_paris
from budget_app.kernel.audit.models import AuditEntry
from budget_app.kernel.audit.services import note_for_changes, record
from budget_app.kernel.extensions import db
from budget_app.operations.models import Organisation


def entries(object_type):
    return db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == object_type).order_by(AuditEntry.id)
    ).all()


def test_create_update_delete_are_recorded_with_before_and_after(app):
    organisation = Organisation(name="Avant", kind="association", siret="73282932000074")
    db.session.add(organisation)
    db.session.commit()
    organisation.name = "Après"
    note_for_changes("changement de raison sociale")
    db.session.commit()
    db.session.delete(organisation)
    db.session.commit()
    created, updated, deleted = entries("organisations")
    assert (created.action, created.after["siret"], created.before) == ("create", "73282932000074", None)
    assert updated.action == "update"
    assert updated.before == {"name": "Avant"} and updated.after == {"name": "Après"}
    assert updated.note == "changement de raison sociale"
    assert deleted.action == "delete" and deleted.before["name"] == "Après"
    assert created.actor.startswith("cli:")


def test_request_changes_name_the_user(app, client, make_user, login):
    user = make_user("admin", email="admin@example.org")
    login(client, user)
    client.post("/compte/langue", data={"lang": "en"})
    change = [e for e in entries("users") if e.action == "update"][-1]
    assert change.actor == "user:admin@example.org" and change.user_id == user.id
    assert change.before == {"locale": "fr"} and change.after == {"locale": "en"}


def test_audit_trail_is_append_only_in_the_database(app):
    record("test", "things", 1, after={"a": 1})
    db.session.commit()
    with pytest.raises(DBAPIError):
        db.session.execute(text("UPDATE audit_entries SET action = 'forged'"))
        db.session.commit()
    db.session.rollback()
    with pytest.raises(DBAPIError):
        db.session.execute(text("DELETE FROM audit_entries"))
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.object_type == "things")) == "test"


def test_audit_page_filters_and_paginates(app, client, make_user, login):
    app.config["AUDIT_PAGE_SIZE"] = 5
    for number in range(12):
        record("test", "things", number, after={"n": number})
    record("test", "other", 99)
    db.session.commit()
    login(client, make_user("auditor", email="auditor@example.org"))
    page = client.get("/journal", query_string={"object_type": "things"}).get_data(as_text=True)
    assert "12 entrée(s)" in page and "Page 1 sur 3" in page
    page = client.get("/journal", query_string={"object_type": "things", "object_id": "7"}).get_data(as_text=True)
    assert "1 entrée(s)" in page
    today = max(date.today(), today_in_paris())  # whichever day the journal reads
    page = client.get("/journal", query_string={"start": (today + timedelta(days=1)).isoformat()}).get_data(as_text=True)
    assert "0 entrée(s)" in page
    # 13 recorded here, plus the creation of the auditor's account and its last-login
    # update by the login fixture: all outside a request, so attributed to "cli:<os user>".
    page = client.get("/journal", query_string={"actor": "cli:"}).get_data(as_text=True)
    assert "15 entrée(s)" in page
    page = client.get("/journal", query_string={"actor": "user:"}).get_data(as_text=True)
    assert "0 entrée(s)" in page


def test_money_values_are_kept_exactly(app):
    from decimal import Decimal

    record("test", "money", 1, before={"amount": Decimal("1234.50")}, after={"amount": Decimal("0.10")})
    db.session.commit()
    entry = entries("money")[0]
    assert entry.before == {"amount": "1234.50"} and entry.after == {"amount": "0.10"}

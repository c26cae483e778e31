"""One commit per request unless an exception escapes (kernel/transactions.py, Indico's
``RH.process``): a form shown again after a refusal keeps nothing the service wrote before
failing, an exception that ends the request keeps nothing at all, and no view rolls back
by hand. Run on SQLite and on PostgreSQL (``TEST_DATABASE_URL``)."""
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.exceptions import Forbidden

from budget_app.accounts import policy
from budget_app.accounts import views as account_views
from budget_app.accounts.models import User
from budget_app.kernel.audit import services as audit
from budget_app.kernel.audit.models import AuditEntry
from budget_app.kernel.errors import DomainError
from budget_app.kernel.extensions import db
from budget_app.kernel.i18n import N_
from budget_app.kernel.transactions import attempt

ROOT = Path(__file__).resolve().parents[2]
PASSWORD_FORM = {"current": "whatever it is", "new": "a new long passphrase 42", "confirm": "a new long passphrase 42"}


def _write_something(user_id):
    """What a careless service does before it fails: a change and an audit entry, flushed."""
    user = db.session.get(User, user_id)
    user.full_name = "Écrit avant l'échec"
    audit.record("half_done", "users", user_id)
    db.session.flush()


def _nothing_written(user_id) -> bool:
    db.session.expire_all()
    name = db.session.scalar(select(User.full_name).where(User.id == user_id))
    entries = db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "half_done"))
    return name == "Agnès Témoin" and entries == 0


@pytest.fixture
def person(make_user):
    return make_user("auditor", full_name="Agnès Témoin")


def test_a_form_shown_again_after_a_refusal_keeps_nothing_the_service_wrote(client, login, person, monkeypatch):
    """The password page calls a service that writes, then refuses (DomainError): the form
    comes back (200) with the message, and neither the change nor its audit entry is kept.
    (Before: the request committed because it answered 200.)"""
    def change_password(user, current, new):
        _write_something(user.id)
        raise DomainError(N_("Mot de passe refusé."))

    monkeypatch.setattr(account_views, "change_password", change_password)
    login(client, person)
    response = client.post("/compte/mot-de-passe", data=PASSWORD_FORM)
    assert response.status_code == 200
    assert "Mot de passe refusé." in response.get_data(as_text=True)
    assert _nothing_written(person.id)


def test_the_same_request_commits_when_the_service_succeeds(client, login, person, monkeypatch):
    """The other side: a service that succeeds is committed (once, at the end of the request)."""
    monkeypatch.setattr(account_views, "change_password", lambda user, current, new: _write_something(user.id))
    login(client, person)
    response = client.post("/compte/mot-de-passe", data=PASSWORD_FORM)
    assert response.status_code == 302
    assert not _nothing_written(person.id)


def _raise(kind):
    if kind == "domain":  # no view caught it: 400 page
        raise DomainError(N_("Refusé."))
    if kind == "forbidden":
        raise Forbidden()
    raise RuntimeError("boom")


@pytest.fixture
def write_then_fail(app, monkeypatch):
    """A view (added for this test, allowed to every role) that writes, then either shows a
    refusal itself (``shown``) or lets an exception escape."""
    def view(kind, user_id):
        if kind == "shown":
            with attempt() as outcome:
                _write_something(user_id)
                _raise("domain")
            return str(outcome.error), 200
        _write_something(user_id)
        _raise(kind)

    app.add_url_rule("/essai/<kind>/<int:user_id>", "write_then_fail", view, methods=["POST"])
    monkeypatch.setitem(policy.POLICY, "write_then_fail", policy.roles(write=policy.ANY))


@pytest.mark.parametrize("kind, status", [("shown", 200), ("domain", 400), ("forbidden", 403), ("boom", 500)])
def test_an_exception_that_escapes_rolls_the_request_back(client, login, person, write_then_fail, kind, status):
    login(client, person)
    response = client.post(f"/essai/{kind}/{person.id}")
    assert response.status_code == status
    assert _nothing_written(person.id)


def test_attempt_rolls_back_to_its_own_savepoint_only(app, person):
    """What was written before ``attempt()`` stays; what the refused body wrote is gone; a
    version conflict found at flush time comes back as a ``Conflict``."""
    person.email = "avant@example.org"
    db.session.flush()
    with attempt() as outcome:
        _write_something(person.id)
        _raise("domain")
    assert outcome.refused and str(outcome.error) == "Refusé."
    db.session.commit()
    assert _nothing_written(person.id)
    assert db.session.scalar(select(User.email).where(User.id == person.id)) == "avant@example.org"
    with attempt() as outcome:
        _write_something(person.id)
    assert not outcome.refused and outcome.error is None


def test_no_view_rolls_back_by_hand():
    """Views call services inside ``attempt()``; a ``db.session.rollback()`` in a view is the
    old hand-written pattern (ten views had it)."""
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "budget_app").rglob("*.py"))
        if "views" in path.stem or path.parent.name == "views"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"\.rollback\(\)", line)
    ]
    assert found == []

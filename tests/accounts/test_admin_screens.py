"""Admin screens (issue 14): create an account with a single-use set-up link valid 48 h,
disable it, assign and unassign operations; create an envelope and attach an operation."""
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from budget_app.accounts.assignments import codes_of
from budget_app.accounts.passwords import verify_password
from budget_app.accounts.services import find_user
from budget_app.kernel.extensions import db
from budget_app.operations.models import Envelope, Operation


def test_admin_creates_an_account_the_person_sets_the_password_once(app, client, login, make_user, make_operation):
    make_operation("OP-A")
    login(client, make_user("admin"))
    response = client.post("/admin/utilisateurs", data={
        "email": "Nadia.Ferrand@example.org", "full_name": "Nadia Ferrand", "role": "finance_officer",
        "operations": "OP-A"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-testid="setup-link"' in page
    link = re.search(r'<code class="setup-link">([^<]+)</code>', page).group(1)
    user = find_user("nadia.ferrand@example.org")
    assert user.full_name == "Nadia Ferrand" and codes_of(user.id) == ["OP-A"]
    assert link.split("/")[-1] not in (user.setup_token_hash or "")  # only a digest is kept
    person = app.test_client()
    path = link.split("localhost", 1)[1]
    short = person.post(path, data={"new": "court", "confirm": "court"})
    assert short.status_code == 400 and "au moins 12 caractères" in short.get_data(as_text=True)
    done = person.post(path, data={"new": "Une phrase assez longue 42", "confirm": "Une phrase assez longue 42"})
    assert done.status_code == 302
    db.session.expire_all()
    assert verify_password(find_user("nadia.ferrand@example.org"), "Une phrase assez longue 42")
    # Single use.
    again = person.get(path).get_data(as_text=True)
    assert "plus valable" in again and "setup-password" not in again


def test_an_expired_link_is_refused(app, client, login, make_user):
    login(client, make_user("admin"))
    page = client.post("/admin/utilisateurs", data={
        "email": "late@example.org", "full_name": "", "role": "controller", "operations": ""}).get_data(as_text=True)
    link = re.search(r'<code class="setup-link">([^<]+)</code>', page).group(1)
    user = find_user("late@example.org")
    user.setup_expires_at = datetime.now(timezone.utc) - timedelta(minutes=1)
    db.session.commit()
    path = link.split("localhost", 1)[1]
    assert "setup-password" not in app.test_client().get(path).get_data(as_text=True)


def test_admin_disables_assigns_and_unassigns(client, login, make_user, make_operation):
    make_operation("OP-A")
    officer = make_user("finance_officer")
    login(client, make_user("admin"))
    client.post(f"/admin/utilisateurs/{officer.id}/affectations", data={"code": "OP-A", "action": "add"})
    assert codes_of(officer.id) == ["OP-A"]
    response = client.post(f"/admin/utilisateurs/{officer.id}/affectations", data={"code": "NOPE", "action": "add"})
    assert "Aucune opération n&#39;a ce code : NOPE." in client.get(response.headers["Location"]).get_data(as_text=True)
    client.post(f"/admin/utilisateurs/{officer.id}/affectations", data={"code": "OP-A", "action": "remove"})
    assert codes_of(officer.id) == []
    client.post(f"/admin/utilisateurs/{officer.id}/etat", data={"active": "0"})
    db.session.expire_all()
    assert officer.active is False


def test_admin_creates_an_envelope_and_attaches_an_operation(client, login, make_user, make_operation):
    make_operation("OP-A")
    login(client, make_user("admin"))
    client.post("/enveloppes/nouvelle", data={
        "code": "ENV-1", "name": "Enveloppe PLIE", "organisation": "PLIE de test", "fse_amount": "1 000 000,00",
        "start_date": "2023-01-01", "end_date": "2027-12-31"})
    envelope = db.session.scalar(select(Envelope).filter_by(code="ENV-1"))
    assert envelope is not None and str(envelope.fse_amount) == "1000000.00"
    client.post("/enveloppes/rattachement", data={"operation": "OP-A", "envelope": "ENV-1"})
    assert db.session.scalar(select(Operation).filter_by(code="OP-A")).envelope_id == envelope.id
    client.post("/enveloppes/nouvelle", data={
        "code": "ENV-2", "name": "Petite", "organisation": "PLIE de test", "fse_amount": "10,00",
        "start_date": "2023-01-01", "end_date": "2027-12-31"})
    response = client.post("/enveloppes/rattachement", data={"operation": "OP-A", "envelope": "ENV-2"})
    assert "serait dépassée" in client.get(response.headers["Location"]).get_data(as_text=True)

import io
import re

import pytest

from .factories import PDF


@pytest.fixture(autouse=True)
def own_alert_key(app, tmp_path):
    """Each test has its own key file: key rotations never touch instance/alert_key."""
    app.config["ALERT_KEY_FILE"] = str(tmp_path / "alert_key")


@pytest.fixture
def referent(make_user):
    return make_user("antifraud_referent", email="referent@example.org")


@pytest.fixture
def operation(make_operation):
    return make_operation("HL-RSA-2023", title="Accompagnement socio-professionnel rSa")


def post_report(client, operation=None, facts="Facture gonflée CANARY-7f3a", files=(("preuve.pdf", PDF),), **fields):
    data = {
        "kind": "fraud",
        "operation_id": str(operation.id) if operation is not None else "",
        "operation_text": "" if operation is not None else "Chantier d'insertion",
        "facts": facts,
        "persons": "Jean Dupont",
        "dates": "mars 2025",
        "identity": "anonymous",
        **fields,
    }
    data["attachments"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post("/signalement", data=data, content_type="multipart/form-data")


def receipt_codes(response):
    page = response.get_data(as_text=True)
    reference = re.search(r'data-testid="reference">([^<]+)<', page).group(1)
    secret = re.search(r'data-testid="secret">([^<]+)<', page).group(1)
    return reference, secret


@pytest.fixture
def fake_lines(app, monkeypatch):
    """Cost lines in stand-in tables: returns a function(kind, operation, label, amount) -> id."""
    from decimal import Decimal

    from budget_app.alerts import services
    from budget_app.extensions import db

    from . import fake_lines as module

    monkeypatch.setitem(services.LINE_MODELS, "expense", (module.__name__, "FakeExpense"))
    monkeypatch.setitem(services.LINE_MODELS, "staff_cost_line", (module.__name__, "FakeStaffCostLine"))
    module.Base.metadata.create_all(db.engine)

    def make(kind, operation, label, amount):
        model = module.FakeExpense if kind == "expense" else module.FakeStaffCostLine
        values = {"operation_id": operation.id, "label": label}
        values["eligible_amount" if kind == "expense" else "amount"] = Decimal(amount)
        row = model(**values)
        db.session.add(row)
        db.session.commit()
        return row.id

    yield make
    db.session.rollback()
    db.session.remove()
    module.Base.metadata.drop_all(db.engine)

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

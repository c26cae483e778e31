"""Finding 2: a line under suspicion reads "En attente" (the wording of any hold) for
everyone but the anti-fraud referent, on the claim pages, the print view, CSV, XLSX, PDF
and the expense list; the referent sees the real reason."""
import io
import zipfile
from datetime import date
from decimal import Decimal as D

import pytest

from budget_app.alerts import filing, suspicions
from budget_app.kernel.extensions import db
from tests.claims.conftest import claims_world  # noqa: F401  (fixture)
from tests.expenses.factories import make_expense

BASE = "/operations/HL-RSA-2023"
REVEALING = ("suspicion", "Suspicion", "signalement", "Signalement", "signalée", "alerte")


@pytest.fixture
def held_draft(app, claims_world, make_user, tmp_path):
    app.config["ALERT_KEY_FILE"] = str(tmp_path / "alert_key")
    operation = claims_world["operation"]
    make_expense(operation, "100.00", incurred_on=date(2023, 1, 10), paid_on=date(2023, 1, 12))
    suspect = make_expense(operation, "40.00", label="Facture gonflée", incurred_on=date(2023, 1, 11),
                           paid_on=date(2023, 1, 12))
    referent = make_user("antifraud_referent", email="referent@example.org")
    alert, _secret = filing.file_alert(filing.Report(kind="fraud", facts="faits", operation_id=operation.id))
    suspicions.link_cost_lines(alert, referent, [("expense", suspect.id)])
    db.session.commit()
    officer = claims_world["officer"]
    return {**claims_world, "referent": referent, "suspect": suspect}


def _texts(client):
    """Every output of the January statement and of the expense list, as text."""
    texts = {}
    texts["period page"] = client.get(f"{BASE}/demandes/?month=2023-01").get_data(as_text=True)
    texts["expense list"] = client.get(f"{BASE}/depenses").get_data(as_text=True)
    response = client.post(f"{BASE}/demandes/nouvelle", data={"start": "2023-01-01", "end": "2023-01-31"})
    assert response.status_code in (302, 303)
    number = response.headers["Location"].rstrip("/").rsplit("/", 1)[1]
    claim = f"{BASE}/demandes/{number}"
    texts["claim page"] = client.get(claim).get_data(as_text=True)
    texts["print view"] = client.get(f"{claim}/imprimer").get_data(as_text=True)
    texts["csv"] = client.get(f"{claim}/export.csv").get_data().decode("utf-8-sig")
    with zipfile.ZipFile(io.BytesIO(client.get(f"{claim}/export.xlsx").data)) as archive:
        texts["xlsx"] = "".join(archive.read(name).decode("utf-8") for name in archive.namelist())
    pdf = client.get(f"{claim}/export.pdf")
    assert pdf.status_code == 200
    texts["pdf"] = _pdf_text(pdf.data)
    return texts


def _pdf_text(data: bytes) -> str:
    try:
        from pypdf import PdfReader
    except ImportError:  # pragma: no cover
        return data.decode("latin-1")
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def test_everyone_but_the_referent_reads_en_attente(app, login, held_draft):
    client = app.test_client()
    login(client, held_draft["officer"])
    texts = _texts(client)
    for name, text in texts.items():
        for word in REVEALING:
            assert word not in text, f"{name} shows {word!r}"
    for name in ("period page", "claim page", "print view", "csv", "xlsx"):
        assert "En attente" in texts[name], name
    assert "en attente" in texts["expense list"]


def test_the_referent_reads_the_real_reason(app, login, held_draft):
    client = app.test_client()
    login(client, held_draft["referent"])
    assert "Sous suspicion" in client.get(f"{BASE}/demandes/?month=2023-01").get_data(as_text=True)
    assert "sous suspicion" in client.get(f"{BASE}/depenses").get_data(as_text=True)

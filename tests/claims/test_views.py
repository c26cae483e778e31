"""The claim pages: compute, create, submit, check line by line, pay; downloads."""
import io
from datetime import date
from decimal import Decimal as D

from openpyxl import load_workbook

from budget_app.claims.models import Claim
from budget_app.kernel.extensions import db
from tests.staff.factories import make_staff_line

BASE = "/operations/HL-RSA-2023/demandes"


def _month(claims_world):
    operation = claims_world["operation"]
    make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00"))
    make_staff_line(operation, "4400.00", hours=D("137.5"), rate=D("32.00"), name="Durand")


def test_full_path_through_the_pages(client, login, claims_world):
    _month(claims_world)
    login(client, claims_world["officer"])
    page = client.get(f"{BASE}/?month=2023-01").get_data(as_text=True)
    assert "8\u202f372,00\u00a0€" in page and "5\u202f023,20\u00a0€" in page
    response = client.post(f"{BASE}/nouvelle", data={"start": "2023-01-01", "end": "2023-01-31"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{BASE}/1")
    response = client.post(f"{BASE}/1/deposer")
    assert response.status_code == 302
    claim = db.session.scalar(db.select(Claim))
    assert claim.state == "submitted" and claim.total_eligible == D("8372.00")
    # The screen and the file show the same total.
    page = client.get(f"{BASE}/1").get_data(as_text=True)
    assert "8\u202f372,00\u00a0€" in page
    workbook = load_workbook(io.BytesIO(client.get(f"{BASE}/1/export.xlsx").data))
    values = {row[0]: row[1] for row in workbook["Récapitulatif"].iter_rows(values_only=True) if row and row[0]}
    assert values["Total des dépenses éligibles"] == 8372
    csv_response = client.get(f"{BASE}/1/export.csv")
    assert csv_response.headers["Content-Disposition"].startswith("attachment;")
    assert csv_response.headers["Cache-Control"] == "no-store"

    controller = app_client = client.application.test_client()
    login(app_client, claims_world["controller"])
    response = controller.post(f"{BASE}/1/lignes/1", data={"l1-decision": "reduced", "l1-amount": "4 000,00",
                                                            "l1-reason": "staff_time", "l1-comment": "",
                                                            "l1-version": "1"})
    assert response.status_code == 302
    response = controller.post(f"{BASE}/1/lignes/2", data={"l2-decision": "excluded", "l2-reason": "",
                                                            "l2-comment": "pièce illisible", "l2-version": "1"})
    # The error sits next to the line's reason, tied to it, and what was typed is kept.
    follow = response.get_data(as_text=True)
    assert response.status_code == 400 and 'data-testid="line-error"' in follow
    assert 'id="l2-reason-error">Choisissez un motif' in follow and 'aria-describedby="l2-reason-error"' in follow
    assert 'value="pièce illisible"' in follow and '<option selected value="excluded">' in follow
    assert "Réduite" in controller.get(f"{BASE}/1").get_data(as_text=True)  # line 1 kept its decision
    # Evidence at hand: each line links to what proves it.
    assert 'data-testid="evidence-1"' in follow
    controller.post(f"{BASE}/1/controle")
    db.session.expire_all()
    claim = db.session.scalar(db.select(Claim))
    # 4 000 + 2 880 = 6 880; indirect 1 032; total 7 912; FSE+ 4 747,20.
    assert (claim.state, claim.total_retained, claim.fse_due) == ("controlled", D("7912.00"), D("4747.20"))
    # The finance officer records the payment received.
    response = client.post(f"{BASE}/1/paiement", data={"paid_on": date.today().isoformat(), "amount": "4 747,20",
                                                       "reference": "VIR 123"})
    db.session.expire_all()
    claim = db.session.scalar(db.select(Claim))
    assert claim.state == "paid" and claim.amount_paid == D("4747.20")
    assert "Payé" in client.get(f"{BASE}/1").get_data(as_text=True)
    assert client.get(f"{BASE}/1/imprimer").status_code == 200
    assert "HL-RSA-2023" in client.get("/demandes").get_data(as_text=True)


def test_bad_input_is_a_message_not_a_crash(client, login, claims_world):
    login(client, claims_world["officer"])
    page = client.get(f"{BASE}/?month=2030-01").get_data(as_text=True)
    assert "période d&#39;éligibilité" in page or "période d'éligibilité" in page
    page = client.get(f"{BASE}/?month=janvier").get_data(as_text=True)
    assert "mois valide" in page
    # Nothing to declare in January: no 0 € draft, the reason instead.
    page = client.get(f"{BASE}/?month=2023-01").get_data(as_text=True)
    assert 'data-testid="no-draft"' in page and 'data-testid="create-draft"' not in page
    client.post(f"{BASE}/nouvelle", data={"start": "2023-01-01", "end": "2023-01-31"})
    assert "Rien à déclarer du 01/01/2023 au 31/01/2023" in client.get(f"{BASE}/").get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Claim.id))) == 0
    assert client.get(f"{BASE}/99").status_code == 404


def test_english_pages(client, login, claims_world):
    user = claims_world["officer"]
    user.locale = "en"
    db.session.commit()
    login(client, user)
    page = client.get(f"{BASE}/?month=2023-01").get_data(as_text=True)
    assert "Bilans" in page and "Statement of expenditure" in page and "Balance report" not in page


def test_bilan_pages_say_the_rule_the_kind_and_the_deadline(client, login, claims_world):
    """The seed operation (24 months): the page quotes the rule and the next start; a second
    interim bilan is refused with the rule; the final one is created with its box ticked."""
    _month(claims_world)
    login(client, claims_world["officer"])
    page = client.get(f"{BASE}/").get_data(as_text=True)
    assert "au plus un bilan intermédiaire" in page and 'data-testid="next-start"' in page
    client.post(f"{BASE}/nouvelle", data={"start": "2023-01-01", "end": "2023-01-31"})
    client.post(f"{BASE}/nouvelle", data={"start": "2023-02-01", "end": "2023-02-28"})
    assert "Bilan intermédiaire refusé" in client.get(f"{BASE}/").get_data(as_text=True)
    response = client.post(f"{BASE}/nouvelle", data={"start": "2023-02-01", "end": "2024-12-31", "final": "y"})
    assert response.headers["Location"].endswith(f"{BASE}/2")
    page = client.get(f"{BASE}/2").get_data(as_text=True)
    assert "Bilan final n° 2" in page and "30/06/2025" in page
    assert [claim.kind for claim in db.session.scalars(db.select(Claim).order_by(Claim.number))] == ["interim", "final"]

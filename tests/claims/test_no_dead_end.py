"""No dead end (issue 14, item 1): every screen that cannot act says why and what to do."""
from datetime import date
from decimal import Decimal

import pytest

from budget_app.expenses.rules import ExpenseData
from budget_app.expenses.services import create_expense
from budget_app.kernel.errors import DomainError
from budget_app.kernel.extensions import db
from budget_app.operations.services import record_amendment
from budget_app.operations.rules import PlanInput
from tests.operations.factories import make_plan
from tests.staff.factories import make_staff_line

BASE = "/operations/HL-RSA-2023"


def test_a_plan_whose_flat_rate_covers_every_non_staff_cost_says_so_with_a_link(client, login, claims_world):
    login(client, claims_world["officer"])
    response = client.get(f"{BASE}/depenses/nouvelle")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-testid="no-expense"' in page and "couverts par son taux forfaitaire" in page
    assert f'href="{BASE}/#plan"' in page and "taux forfaitaire plafonné à 15 %" in page
    assert "<select" not in page  # no empty category list to fail on
    listing = client.get(f"{BASE}/depenses").get_data(as_text=True)
    assert 'data-testid="no-expense"' in listing and 'data-testid="new-expense"' not in listing
    assert client.post(f"{BASE}/depenses/nouvelle", data={}).status_code == 409


def test_a_closed_operation_is_read_only_with_a_banner(client, login, claims_world, make_user):
    operation = claims_world["operation"]
    make_plan(operation, costs={("PERSONNEL", 2023): "1000.00", ("FONCTIONNEMENT", 2023): "1000.00"})
    operation.status = "closed"
    db.session.commit()
    login(client, claims_world["officer"])
    page = client.get(f"{BASE}/").get_data(as_text=True)
    assert 'data-testid="closed-banner"' in page and "est clôturée : elle est en lecture seule" in page
    assert "Enregistrer un avenant" not in page
    for url in ("/depenses/nouvelle", "/depenses/import", "/fiches-de-temps/saisie", "/personnel/saisie",
                "/personnel/import", "/avenant"):
        response = client.get(BASE + url)
        assert response.status_code == 400, url
        assert "est clôturée" in response.get_data(as_text=True), url
    data = ExpenseData(incurred_on=date(2023, 3, 1), paid_on=date(2023, 3, 2), supplier_name="Papeterie",
                       supplier_siret=None, document_number="F1", label="Papier", category="FONCTIONNEMENT",
                       amount_excl_vat=Decimal("10.00"), vat=Decimal("0"), vat_recoverable=False,
                       allocation_percent=Decimal("100"))
    with pytest.raises(DomainError, match="clôturée"):
        create_expense(operation, data)
    with pytest.raises(DomainError, match="clôturée"):
        record_amendment(operation, PlanInput(costs=[], flat_rates=[], resources=[]))


def test_a_controller_without_daci_reads_it_first_with_who_can_record_one(client, login, claims_world, make_user):
    stranger = make_user("controller", operations=["HL-RSA-2023"])
    login(client, stranger)
    home = client.get("/").get_data(as_text=True)
    assert 'data-testid="daci-blocked"' in home and "Aucune déclaration d&#39;absence de conflit" in home
    assert "un administrateur ou le référent anti-fraude" in home
    bilans = client.get(f"{BASE}/demandes/").get_data(as_text=True)
    assert 'data-testid="daci-blocked"' in bilans
    # The declared controller sees no such notice.
    login(client, claims_world["controller"])
    assert 'data-testid="daci-blocked"' not in client.get("/").get_data(as_text=True)


def test_computing_a_month_names_the_timesheets_not_approved(client, login, claims_world):
    operation = claims_world["operation"]
    make_staff_line(operation, "1000.00", month=date(2023, 2, 1), state="submitted", name="Durand")
    login(client, claims_world["officer"])
    page = client.get(f"{BASE}/demandes/?month=2023-02").get_data(as_text=True)
    assert 'data-testid="pending-timesheets"' in page
    assert "1 fiche de temps de la période n'est pas approuvée" in page
    assert "Durand" in page and "Soumise" in page
    assert f"{BASE}/fiches-de-temps?mois=2023-02" in page
    # The month is accepted as mm/yyyy too.
    assert 'data-testid="pending-timesheets"' in client.get(f"{BASE}/demandes/?month=02/2023").get_data(as_text=True)


def test_the_operation_page_links_to_its_expenses_staff_and_bilans(client, login, claims_world):
    login(client, claims_world["officer"])
    page = client.get(f"{BASE}/").get_data(as_text=True)
    for url in ("/depenses", "/personnel", "/fiches-de-temps", "/demandes/"):
        assert f'href="{BASE}{url}"' in page, url


def test_a_bilan_shows_staff_computations_in_the_reader_language(client, login, claims_world):
    from budget_app.claims import lifecycle

    operation = claims_world["operation"]
    make_staff_line(operation, "4400.00", month=date(2023, 1, 1), hours=Decimal("137.5"), rate=Decimal("32.00"))
    claim = lifecycle.create_draft(operation, date(2023, 1, 1), date(2023, 1, 31))
    lifecycle.submit_claim(claim, today=date(2023, 3, 1))
    db.session.commit()
    officer = claims_world["officer"]
    officer.locale = "en"
    db.session.commit()
    login(client, officer)
    page = client.get(f"{BASE}/demandes/1").get_data(as_text=True)
    assert "137.5 h × €32.00/h" in page and "137,5 h" not in page
    assert 'data-testid="evidence-1"' in page and "Timesheet" in page

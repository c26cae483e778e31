from datetime import date
from decimal import Decimal

import pytest

from tests.conftest import PASSWORD
from tests.expenses.conftest import PDF_BYTES
from tests.operations.factories import make_plan

pytestmark = pytest.mark.browser


def test_officer_enters_an_expense_with_an_uploaded_pdf_and_sees_it_listed(page, live_server, log_in, make_user, make_operation, tmp_path):
    officer = make_user("finance_officer", email="gestionnaire@example.org")
    operation = make_operation(
        "LOT-2019-ACI", members=[officer], start_date=date(2019, 1, 1), end_date=date(2019, 12, 31),
        fse_rate=Decimal("50"), fse_amount=Decimal("60000.00"),
    )
    make_plan(operation, costs={("FONCTIONNEMENT", 2019): "20000", ("PRESTATIONS", 2019): "10000"}, flat_rates={})
    invoice = tmp_path / "facture-mars.pdf"
    invoice.write_bytes(PDF_BYTES)
    proof = tmp_path / "releve.pdf"
    proof.write_bytes(PDF_BYTES + b"% proof of payment\n")

    log_in("gestionnaire@example.org", PASSWORD)
    page.click("nav.main-nav >> text=Dépenses")
    page.click("text=LOT-2019-ACI")
    page.click("[data-testid=new-expense]")
    page.fill("input[name=incurred_on]", "2019-03-08")
    page.fill("input[name=paid_on]", "2019-03-22")
    page.fill("input[name=supplier_name]", "Loc'Outils Quercy")
    page.fill("input[name=document_number]", "LQ-1902")
    page.fill("input[name=label]", "Location de débroussailleuses")
    page.select_option("select[name=category]", "FONCTIONNEMENT")
    page.fill("input[name=amount_excl_vat]", "1 250,00")
    page.fill("input[name=vat]", "250,00")
    page.fill("input[name=allocation_percent]", "60")
    page.set_input_files("input[name=invoice]", str(invoice))
    page.set_input_files("input[name=payment]", str(proof))
    page.click("[data-testid=save-expense]")
    page.wait_for_load_state()
    assert "900,00" in page.inner_text("[data-testid=eligible-computation]")
    assert "facture-mars.pdf" in page.inner_text("main")
    page.screenshot(path=str(tmp_path / "expense.png"), full_page=True)

    page.click("text=Retour à la liste")
    page.wait_for_load_state()
    listing = page.inner_text("[data-testid=expense-list]")
    assert "Location de débroussailleuses" in listing and "900,00" in listing
    assert "Incomplète" not in listing
    assert "1 ligne(s)" in page.inner_text("[data-testid=expense-totals]")

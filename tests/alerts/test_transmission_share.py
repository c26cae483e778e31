"""Issue 21, point 8: the transmission form's EU share is the amount concerned × the
operation's FSE+ rate when the referent leaves it empty (the help text's rule), on the
form, its XLSX and its print view; CPR art. 69 « à signaler à la Commission » at 10 000 €
of EU contribution, held on both sides of the threshold. A deleted expense cannot be put
under suspicion."""
import io
from datetime import datetime, timezone
from decimal import Decimal

import openpyxl
import pytest

from budget_app.alerts import handling, suspicions, transmission
from budget_app.kernel.errors import DomainError
from budget_app.kernel.extensions import db
from tests.expenses.factories import make_expense

from .factories import file_alert

EU_LABEL = "Part UE concernée"
COMMISSION_LABEL = "À signaler à la Commission (part UE ≥ 10 000 €)"


def _alert_with_lines(referent, operation, *amounts):
    alert, _secret = file_alert(operation=operation)
    ids = [make_expense(operation, amount, label=f"Ligne {amount}").id for amount in amounts]
    suspicions.link_cost_lines(alert, referent, [("expense", line_id) for line_id in ids])
    handling.change_state(alert, "acknowledged", referent, "ok", "Bien reçu.")
    db.session.commit()
    return alert


def test_empty_eu_share_is_the_amount_concerned_times_the_rate(app, referent, login, operation):
    """Suspected lines: 4 320,00 € (× 60 % = 2 592,00 €, the old wrong answer). The referent
    types 12 500,00 € concerned and leaves the EU share empty: 12 500,00 × 60 % = 7 500,00 €
    on the form, in the XLSX and on the print view."""
    alert = _alert_with_lines(referent, operation, "4320.00")
    client = login(app.test_client(), referent)
    url = f"/referent/signalements/{alert.reference}/transmission"
    response = client.post(url, data={"amount": "12 500,00", "eu_amount": ""})
    assert response.status_code == 302
    db.session.expire_all()
    assert transmission.amounts_concerned(alert) == (Decimal("12500.00"), Decimal("7500.00"))
    form_page = client.get(url).get_data(as_text=True)
    assert "7\u202f500,00" in form_page and "2\u202f592,00" not in form_page
    printed = client.get(url + "/impression").get_data(as_text=True)
    assert "7\u202f500,00" in printed and "2\u202f592,00" not in printed
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(url + ".xlsx").data)).worksheets[0]
    values = {sheet.cell(row, 1).value: sheet.cell(row, 2).value for row in range(1, sheet.max_row + 1)}
    assert Decimal(str(values[EU_LABEL])) == Decimal("7500")
    assert values[COMMISSION_LABEL] == "Non"


def test_without_any_amount_typed_the_lines_give_both_figures(app, referent, operation):
    """4 320,00 € of suspected lines, nothing typed: 4 320,00 € concerned, 2 592,00 € EU share."""
    alert = _alert_with_lines(referent, operation, "4320.00")
    assert transmission.amounts_concerned(alert) == (Decimal("4320.00"), Decimal("2592.00"))


@pytest.mark.parametrize("amount, eu_share, reportable", [
    # 16 666,67 × 60 % = 10 000,002 → 10 000,00 € (half-up once): reported.
    ("16666.67", Decimal("10000.00"), "Oui"),
    # 16 666,65 × 60 % = 9 999,99 €: one cent under, not reported.
    ("16666.65", Decimal("9999.99"), "Non"),
])
def test_commission_line_on_both_sides_of_the_threshold(app, referent, login, operation, amount, eu_share,
                                                        reportable):
    alert = _alert_with_lines(referent, operation, "100.00")
    client = login(app.test_client(), referent)
    client.post(f"/referent/signalements/{alert.reference}/transmission", data={"amount": amount, "eu_amount": ""})
    db.session.expire_all()
    rows = {label: value for label, value, _kind in transmission.transmission_rows(alert)}
    assert (rows[EU_LABEL], rows[COMMISSION_LABEL]) == (eu_share, reportable)
    badge = 'data-testid="reportable"' in client.get(f"/referent/signalements/{alert.reference}").get_data(as_text=True)
    assert badge is (reportable == "Oui")


def test_a_deleted_expense_cannot_be_put_under_suspicion(app, referent, login, operation):
    deleted = make_expense(operation, "10.00", label="Saisie annulée", deleted_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    alert, _secret = file_alert(operation=operation)
    with pytest.raises(DomainError, match="supprimée"):
        suspicions.link_cost_lines(alert, referent, [("expense", deleted.id)])
    client = login(app.test_client(), referent)
    client.post(f"/referent/signalements/{alert.reference}/lignes", data={"expense_ids": str(deleted.id)})
    assert "supprimée" in client.get(f"/referent/signalements/{alert.reference}").get_data(as_text=True)
    assert suspicions.suspected_cost_lines(operation.id) == set()

"""The audit trail reads as sentences with names and labelled changes, in the reader's
language; the raw record stays one click away."""
from budget_app.kernel.audit.services import record
from budget_app.kernel.extensions import db


def test_the_trail_in_sentences(app, client, make_user, login):
    auditor = make_user("auditor", email="auditor@example.org", full_name="Alice Auditrice")
    record("update", "expenses", 12, before={"amount_excl_vat": "100.00", "paid_on": None, "version": 1},
           after={"amount_excl_vat": "120.50", "paid_on": "2025-06-30", "version": 2}, actor=f"user:{auditor.email}")
    record("hold", "line_marks", 3, after={"kind": "held"}, actor="system")
    db.session.commit()
    login(client, auditor)
    page = client.get("/journal").get_data(as_text=True)
    assert "Alice Auditrice : modification, la dépense n° 12" in page
    assert "Montant HT : 100,00 → 120,50" in page and "Date de paiement : — → 30/06/2025" in page
    assert "version" not in page.split("<tbody>")[1].split("<details>")[0]
    assert "mise en attente, la marque de ligne n° 3" in page  # a hold reads as a hold
    auditor.locale = "en"
    db.session.commit()
    page = client.get("/journal").get_data(as_text=True)
    assert "Alice Auditrice: change, expense no. 12" in page and "Payment date: — → 2025-06-30" in page

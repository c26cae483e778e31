"""Objects the route × role walk of tests/test_access.py needs for the expense URLs."""
from datetime import date
from decimal import Decimal

from flask import current_app

from budget_app.kernel.uploads import store_file
from budget_app.expenses.models import Expense, SupportingDocument
from budget_app.kernel.extensions import db

PDF = b"%PDF-1.4\n%%EOF\n"


class Either:
    """An expected status that may be one of several: the sample expense belongs to OP-IN,
    so on OP-OUT its URLs answer 404 even to the roles that see every operation."""

    def __init__(self, *statuses):
        self.statuses = statuses

    def __eq__(self, other):
        return other in self.statuses

    def __repr__(self):
        return " or ".join(str(status) for status in self.statuses)


def setup(users, operation_in):
    expense = Expense(
        id=1, operation_id=operation_in.id, category="FONCTIONNEMENT", incurred_on=date(2023, 3, 1),
        paid_on=date(2023, 3, 10), supplier_name="Fournisseur", supplier_key="nom:fournisseur",
        document_number="F-1", document_key="F1", label="Échantillon", amount_excl_vat=Decimal("10.00"),
        vat=Decimal("0.00"), vat_recoverable=False, allocation_percent=Decimal("100"), eligible_amount=Decimal("10.00"),
        is_complete=False,
    )
    db.session.add(expense)
    db.session.flush()
    stored = store_file(PDF, "application/pdf")
    assert current_app.config["BUDGET_APP_UPLOAD_DIR"]
    db.session.add(SupportingDocument(
        id=1, expense_id=expense.id, kind="invoice", original_name="f.pdf", stored_name=stored,
        content_type="application/pdf", size=len(PDF), sha256="0" * 64,
    ))
    db.session.commit()

"""Test objects of the expenses domain, built with the models: for the tests of other
domains that need cost lines, and the route × role walk. The supplier and document keys
and the eligible amount come from the rules the services apply (``expenses.rules``), so a
factory line is found by the duplicate check exactly as an entered one."""
import hashlib
from datetime import date
from decimal import Decimal

from budget_app.expenses.models import Expense, SupportingDocument
from budget_app.expenses.rules import document_key, eligible_amount, supplier_key
from budget_app.kernel.extensions import db
from budget_app.kernel.uploads import store_file

PDF = b"%PDF-1.4\n%%EOF\n"
_counter = {"n": 0}


def make_expense(operation, amount, category="FONCTIONNEMENT", incurred_on=date(2023, 1, 10),
                 paid_on=date(2023, 1, 20), complete=True, credit_note_of=None, label="Fournitures",
                 supplier="Papeterie du Velay", commit=True, **columns):
    _counter["n"] += 1
    number = _counter["n"]
    amount, vat, allocation = Decimal(amount), Decimal("0.00"), Decimal("100")
    expense = Expense(
        operation_id=operation.id, category=category, incurred_on=incurred_on, paid_on=paid_on,
        supplier_name=supplier, supplier_key=supplier_key(supplier, columns.get("supplier_siret")),
        document_number=f"F{number:05d}", document_key=document_key(f"F{number:05d}"), label=label,
        amount_excl_vat=amount, vat=vat, allocation_percent=allocation,
        eligible_amount=eligible_amount(amount, vat, False, allocation), is_complete=complete,
        credit_note_of_id=getattr(credit_note_of, "id", None), **columns,
    )
    db.session.add(expense)
    if commit:
        db.session.commit()
    return expense


def attach_document(expense, kind="invoice", name="f.pdf", content=PDF, **columns):
    """A stored file attached to ``expense`` (written under the upload folder)."""
    document = SupportingDocument(
        expense_id=expense.id, kind=kind, original_name=name, stored_name=store_file(content, "application/pdf"),
        content_type="application/pdf", size=len(content), sha256=hashlib.sha256(content).hexdigest(), **columns,
    )
    db.session.add(document)
    db.session.commit()
    return document

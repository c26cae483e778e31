"""Credit notes (avoirs) in bilans (primer §9). The expenses domain makes a credit note
carry its original line's allocation key and VAT treatment and never exceed what remains
of that line (``expenses.rules``); here, a credit note counts in the bilan of its date,
even when its category goes negative for that period, and one dated in a period an
earlier bilan already declared goes into the next bilan (``selection.Scope``) as a
negative line that names the line it reduces and the bilan holding that line."""
from ..expenses.models import Expense
from ..kernel.extensions import db
from ..marks.services import declared_in
from .models import Claim


def snapshot_reference(expense: Expense) -> str:
    """The reference kept on the bilan's line (stored text, in French like the other
    stored computations): "Papeterie n° AV-3 — avoir sur Papeterie n° F-12 (dépense
    n° 12, bilan n° 1)"."""
    reference = f"{expense.supplier_name} n° {expense.document_number}"
    original = expense.credit_note_of
    if original is None:
        return reference
    bilan_id = declared_in("expense", [original.id]).get(original.id)
    holder = db.session.get(Claim, bilan_id) if bilan_id is not None else None
    where = f", bilan n° {holder.number}" if holder is not None else ""
    return (f"{reference} — avoir sur {original.supplier_name} n° {original.document_number}"
            f" (dépense n° {original.id}{where})")

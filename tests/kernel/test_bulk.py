"""Bulk rows of imports (kernel.bulk): on PostgreSQL by one COPY, on SQLite by one
executemany; either way the rows read back as an INSERT would have stored them."""
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from budget_app.kernel.audit.models import AuditEntry
from budget_app.kernel.bulk import COPY_FROM_ROWS, insert_rows, insert_with_ids
from budget_app.kernel.extensions import db


def _entries(count, note=None):
    at = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    return [{"occurred_at": at, "actor": "cli:bench", "user_id": None, "action": "create", "object_type": "tests",
             "object_id": str(n), "before": None, "note": note if n % 2 else "l'avoir « n° 3 »\ttab\\n",
             "after": {"montant": "12.30", "n": n, "texte": "é;\"\n", "vide": None, "liste": [1, "2"]}}
            for n in range(count)]


@pytest.mark.parametrize("count", [COPY_FROM_ROWS - 1, COPY_FROM_ROWS + 10])
def test_rows_read_back_as_written(app, count):
    with app.app_context():
        rows = _entries(count)
        insert_rows(AuditEntry.__table__, rows)
        db.session.flush()
        stored = db.session.scalars(db.select(AuditEntry).where(AuditEntry.object_type == "tests")
                                    .order_by(AuditEntry.id)).all()
        assert len(stored) == count
        for entry, row in zip(stored, rows):
            assert entry.after == row["after"] and entry.before is None and entry.note == row["note"]
            assert entry.occurred_at.astimezone(timezone.utc) == row["occurred_at"]
            assert (entry.object_id, entry.actor, entry.user_id) == (row["object_id"], "cli:bench", None)
        db.session.rollback()


def test_ids_drawn_for_bulk_rows_are_the_stored_ids(app, make_operation):
    """The ids returned are the rows' ids (drawn from the sequence on PostgreSQL, counted
    from the first on SQLite); amounts come back exact."""
    from budget_app.expenses.models import Expense

    with app.app_context():
        operation = make_operation("BULK")
        rows = [{"operation_id": operation.id, "category": "FONCTIONNEMENT", "incurred_on": date(2019, 3, n % 28 + 1),
                 "paid_on": None, "supplier_name": "Bureau", "supplier_key": "bureau", "document_number": f"F-{n}",
                 "document_key": f"f{n}", "label": "Fournitures", "amount_excl_vat": Decimal("10.05") + n,
                 "vat": Decimal("2.01"), "vat_recoverable": False, "allocation_percent": Decimal("100"),
                 "eligible_amount": Decimal("12.06") + n, "is_complete": False, "version": 1}
                for n in range(COPY_FROM_ROWS + 5)]
        ids = insert_with_ids(Expense.__table__, rows)
        stored = {e.id: e for e in db.session.scalars(db.select(Expense).where(Expense.operation_id == operation.id))}
        assert sorted(stored) == ids
        for id_, row in zip(ids, rows):
            assert (stored[id_].document_number, stored[id_].amount_excl_vat) == (row["document_number"],
                                                                                  row["amount_excl_vat"])
        db.session.rollback()


def test_rows_of_differing_columns_are_refused(app):
    with app.app_context():
        rows = _entries(COPY_FROM_ROWS + 1)
        del rows[-1]["note"]
        with pytest.raises(Exception):
            insert_rows(AuditEntry.__table__, rows)
        db.session.rollback()

"""Expense lines in the database: create (one line, or many checked lines at once for an
import), change, soft-delete, attach supporting documents. Every line goes through
``validate_expense`` (the rules, then duplicates and double funding). A line that carries a
mark (declared in a bilan, held: ``marks``) cannot change nor be deleted, and the same line
(``duplicates.same_line``) cannot be entered again beside it. Services flush; the request
or command commits.
"""
from collections import defaultdict
from datetime import datetime, timezone
from decimal import Decimal

from babel.lists import format_list
from sqlalchemy import func, select

from ..kernel.audit.models import AuditEntry
from ..kernel.audit.services import current_actor, json_value, record
from ..kernel.bulk import insert_rows, insert_with_ids
from ..kernel.errors import Conflict, DomainError, Problem
from ..kernel.extensions import db
from ..kernel.i18n import N_, current_locale, translate
from ..kernel.transactions import atomic
from ..kernel.uploads import receive
from ..operations.closure import closed_problem, ensure_open
from ..operations.models import Operation
from ..marks.services import frozen_problem, live_marks
from .duplicates import DuplicateCheck, DuplicateFinder
from .models import Expense, SupportingDocument
from .rules import REQUIRED_DOCUMENTS, ExpenseData, ExpenseRules


THIS_EXPENSE = N_("Cette dépense")


def frozen_reason(expense: Expense, kinds=("declared", "held")) -> DomainError | None:
    """Why the line can no longer change (its operation is closed, it carries a mark of
    ``kinds``, it was deleted), else None."""
    closed = closed_problem(expense.operation)
    if closed is not None:
        return closed
    marked = frozen_problem("expense", expense.id, DomainError(THIS_EXPENSE), kinds)
    if marked is not None:
        return marked
    if expense.deleted_at is not None:
        return DomainError(N_("Cette dépense a été supprimée : elle ne peut plus être modifiée."))
    return None


def ensure_changeable(expense: Expense, kinds=("declared", "held")) -> None:
    reason = frozen_reason(expense, kinds)
    if reason is not None:
        raise reason


def validate_expense(operation: Operation, data: ExpenseData, expense: Expense | None = None, rules=None, finder=None):
    """Every rule for one line: field problems, then duplicates (double funding is an error).
    Returns (problems, duplicate_check)."""
    rules = rules or ExpenseRules(operation)
    problems = rules.check(data, editing_id=expense.id if expense is not None else None)
    duplicates = DuplicateCheck()
    if not any(problem.field in ("supplier_name", "document_number", "amount_excl_vat", "vat") for problem in problems):
        finder = finder or DuplicateFinder(operation)
        duplicates = finder.check(data, exclude_id=expense.id if expense is not None else None)
        if duplicates.double_funding:
            problems.append(Problem(duplicates.double_funding, field="allocation_percent"))
        marked = sorted(live_marks("expense", duplicates.same_line_ids))
        if marked:
            # The marks follow the line, not its row: entered again, it would escape them.
            problems.append(Problem(DomainError(SAME_LINE_MARKED, id=marked[0])))
    return problems, duplicates


SAME_LINE_MARKED = N_("Cette ligne est la dépense n° %(id)s, déjà déclarée dans un bilan ou en attente : elle ne "
                      "peut pas être saisie de nouveau. Une erreur sur elle se corrige par un avoir, au contrôle "
                      "ou une fois l'attente levée.")


def _values(data: ExpenseData) -> dict:
    """The stored columns of a line, normalised keys and eligible amount included."""
    return {
        "incurred_on": data.incurred_on,
        "paid_on": data.paid_on,
        "supplier_name": data.supplier_name.strip(),
        "supplier_siret": data.supplier_siret or None,
        "supplier_key": data.supplier_key,
        "document_number": data.document_number.strip(),
        "document_key": data.document_key,
        "label": data.label.strip(),
        "category": data.category,
        "subcategory": data.subcategory if data.category == "PARTICIPANTS" else None,
        "amount_excl_vat": data.amount_excl_vat,
        "vat": data.vat,
        "vat_recoverable": bool(data.vat_recoverable),
        "vat_partly_recoverable": bool(data.vat_partly_recoverable),
        "vat_prorata": data.vat_prorata if data.vat_partly_recoverable else None,
        "allocation_percent": data.allocation_percent,
        "eligible_amount": data.eligible_amount,
        "credit_note_of_id": data.credit_note_of_id,
    }


def _apply(expense: Expense, data: ExpenseData) -> None:
    for key, value in _values(data).items():
        setattr(expense, key, value)


@atomic
def create_expense(operation: Operation, data: ExpenseData, user=None, checked: bool = False) -> Expense:
    """Record a line; raises DomainError listing the problems. ``checked`` when the caller
    just validated it."""
    ensure_open(operation)
    if not checked:
        problems, _ = validate_expense(operation, data)
        if problems:
            raise DomainError(problems=problems)
    expense = Expense(operation_id=operation.id, created_by_id=getattr(user, "id", None))
    _apply(expense, data)
    expense.is_complete = False
    db.session.add(expense)
    return expense


def create_expenses(operation: Operation, lines: list[ExpenseData], user=None) -> list[int]:
    """Record many checked lines at once (imports): one multi-row INSERT and one for their
    audit entries, the same entries the ORM would write line by line. Returns the ids."""
    ensure_open(operation)
    if not lines:
        return []
    table = Expense.__table__
    now = datetime.now(timezone.utc)
    rows = [
        {
            **_values(data),
            "operation_id": operation.id,
            "is_complete": False,
            "created_at": now,
            "created_by_id": getattr(user, "id", None),
            "version": 1,
        }
        for data in lines
    ]
    db.session.flush()
    ids = insert_with_ids(table, rows)
    user_id, actor = current_actor()
    columns = [column.key for column in table.columns]
    entries = []
    for expense_id, row in zip(ids, rows):
        row["id"] = expense_id
        entries.append(
            {
                "occurred_at": now,
                "actor": actor,
                "user_id": user_id,
                "action": "create",
                "object_type": Expense.audit_type(),
                "object_id": str(expense_id),
                "before": None,
                "after": {key: json_value(row.get(key)) for key in columns},
                "note": db.session.info.get("audit_note"),
            }
        )
    insert_rows(AuditEntry.__table__, entries)
    return ids


@atomic
def update_expense(expense: Expense, data: ExpenseData, version: int | None) -> Expense:
    """Change a line opened at ``version``; raises Conflict (changed meanwhile) or DomainError."""
    ensure_changeable(expense)
    if version is not None and version != expense.version:
        raise Conflict(N_("Cette dépense a été modifiée entre-temps par quelqu'un d'autre."))
    problems, _ = validate_expense(expense.operation, data, expense)
    if problems:
        raise DomainError(problems=problems)
    _apply(expense, data)
    refresh_completeness(expense)
    db.session.flush()  # the version column guards the UPDATE (StaleDataError on a race)
    return expense


@atomic
def delete_expense(expense: Expense, reason: str, user=None) -> None:
    """Soft delete: the line stays for the audit trail, out of lists, totals and claims."""
    ensure_changeable(expense)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(problems=[Problem(DomainError(N_("Indiquez le motif de la suppression.")), field="reason")])
    expense.deleted_at = datetime.now(timezone.utc)
    expense.deleted_by_id = getattr(user, "id", None)
    expense.delete_reason = reason[:2000]
    db.session.flush()


MISSING_PARTS = {
    "invoice": N_("la facture"),
    "payment": N_("la preuve de paiement"),
    "paid_on": N_("la date de paiement"),
}


def missing_parts(expense: Expense) -> list[str]:
    """What keeps the expense incomplete: « invoice », « payment » (documents), « paid_on »."""
    kinds = {document.kind for document in expense.documents}
    missing = [kind for kind in REQUIRED_DOCUMENTS if kind not in kinds]
    return missing + ([] if expense.paid_on is not None else ["paid_on"])


def missing_text(expense: Expense) -> str:
    """« la preuve de paiement » ; « la facture et la date de paiement »: only what is missing,
    in the reader's language."""
    return format_list([translate(MISSING_PARTS[part]) for part in missing_parts(expense)], locale=current_locale())


def refresh_completeness(expense: Expense) -> None:
    """Complete = paid (payment date) with an invoice and a proof of payment attached."""
    kinds = {document.kind for document in expense.documents}
    expense.is_complete = expense.paid_on is not None and all(kind in kinds for kind in REQUIRED_DOCUMENTS)


@atomic
def add_document(expense: Expense, kind: str, filename: str, data: bytes, user=None):
    """Check, store and attach a file. Returns (document, other documents with the same
    content anywhere in the application). A held line takes documents: a hold often waits
    for one (primer §8)."""
    ensure_changeable(expense, kinds=("declared",))
    if kind not in ("invoice", "payment", "other"):
        kind = "other"
    received = receive(filename, data)
    same_file = db.session.scalars(
        select(SupportingDocument).where(SupportingDocument.sha256 == received.sha256)).all()
    document = SupportingDocument(
        kind=kind,
        original_name=received.original_name,
        stored_name=received.stored_name,
        content_type=received.content_type,
        size=received.size,
        sha256=received.sha256,
        uploaded_by_id=getattr(user, "id", None),
    )
    expense.documents.append(document)
    refresh_completeness(expense)
    db.session.flush()
    return document, same_file


def documents_with_same_content(document_ids) -> dict[int, list[SupportingDocument]]:
    """For each document, the other documents holding the same file (by SHA-256)."""
    documents = db.session.scalars(select(SupportingDocument).where(SupportingDocument.id.in_(list(document_ids)))).all()
    hashes = {document.sha256 for document in documents}
    if not hashes:
        return {}
    others = db.session.scalars(select(SupportingDocument).where(SupportingDocument.sha256.in_(hashes))).all()
    by_hash = defaultdict(list)
    for other in others:
        by_hash[other.sha256].append(other)
    return {
        document.id: [other for other in by_hash[document.sha256] if other.id != document.id] for document in documents
    }


def allocation_total(expense: Expense) -> Decimal:
    """Sum of the keys of every live line of the same invoice, across operations."""
    return db.session.scalar(
        select(func.coalesce(func.sum(Expense.allocation_percent), 0)).where(
            Expense.supplier_key == expense.supplier_key,
            Expense.document_key == expense.document_key,
            Expense.deleted_at.is_(None),
            Expense.credit_note_of_id.is_(None),
        )
    ) or Decimal(0)


def record_import(operation: Operation, filename: str, sha256: str, imported: int, skipped: int) -> None:
    record(
        "import",
        "expenses",
        operation.id,
        after={"operation": operation.code, "file": filename, "sha256": sha256, "imported": imported, "already_recorded": skipped},
    )

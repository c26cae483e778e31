"""The end of retention (CPR art. 82, primer §7): the operations whose records need no
longer be kept, and the purge of their supporting documents (``retention purge``).

The purge deletes the stored files (local or bucket objects, kernel.storage) and their rows
(supporting documents, staff evidence, operation documents: agreement, amendments, publicity,
procurement files); the expenses,
the claims and the audit trail stay (the trail records each document's deletion, and one
``retention_purge`` event per operation with the manifest's name and SHA-256). A manifest
(CSV) lists every document removed. Nothing is removed from an operation whose retention
has not ended, or is extended (``operations.retention`` refuses it at the flush).
"""
import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy import func, select

from ..kernel import storage
from ..kernel.audit import services as audit
from ..kernel.extensions import db
from ..kernel.formatting import format_day
from ..kernel.spreadsheet import csv_text
from ..operations.hooks import erase_personal_data, personal_data_left
from ..operations.models import Operation
from ..operations.retention import Retention, ensure_retention_ended, retention_of
from .hooks import other_documents
from .operation_documents import documents_for_purge as operation_documents
from .models import Expense, SupportingDocument

MANIFEST_HEADER = ["Opération", "Fin de conservation", "Dépense", "N° de pièce", "Pièce", "Type", "Nom d'origine",
                   "SHA-256", "Taille (octets)", "Déposée le"]


@dataclass(frozen=True)
class Ended:
    operation: Operation
    retention: Retention
    documents: int  # supporting documents still stored


def ended_operations(today: date) -> list[Ended]:
    """Operations whose retention ended before ``today`` (never one extended), by end date."""
    counts = dict(db.session.execute(
        select(Expense.operation_id, func.count(SupportingDocument.id))
        .join(SupportingDocument, SupportingDocument.expense_id == Expense.id).group_by(Expense.operation_id)
    ).all())
    found = []
    for operation in db.session.scalars(select(Operation).where(Operation.last_payment_date.is_not(None))):
        retention = retention_of(operation)
        if retention.ended(today):
            others = len(other_documents(operation.id)) + len(operation_documents(operation.id))
            found.append(Ended(operation, retention, counts.get(operation.id, 0) + others))
    return sorted(found, key=lambda item: (item.retention.end, item.operation.code))


def purge_candidates(before: date, today: date) -> list[Ended]:
    """Ended operations whose retention ended before ``before`` and that still hold documents
    or personal data (participants' identities, operations.hooks)."""
    return [item for item in ended_operations(today) if item.retention.end < before
            and (item.documents or personal_data_left_on(item.operation.id))]


def personal_data_left_on(operation_id: int) -> int:
    return personal_data_left(operation_id)


def _documents(operation_id: int):
    return db.session.scalars(
        select(SupportingDocument).join(Expense, Expense.id == SupportingDocument.expense_id)
        .where(Expense.operation_id == operation_id).order_by(Expense.id, SupportingDocument.id)
    ).all()


def purge_documents(candidates: list[Ended], manifest: Path, today: date) -> list[str]:
    """Delete the documents' rows (flushed, not committed), write the manifest (a new file),
    and return the storage keys to delete once the caller has committed (``delete_stored``)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(MANIFEST_HEADER)
    files, purged = [], []
    for item in candidates:
        operation = item.operation
        ensure_retention_ended(operation, today)
        documents = _documents(operation.id)
        for document in documents:
            expense = document.expense
            writer.writerow([
                operation.code, format_day(item.retention.end, "fr"), expense.id,
                csv_text(expense.document_number), document.id, document.kind,
                csv_text(document.original_name), document.sha256, document.size,
                format_day(document.uploaded_at, "fr"),
            ])
            files.append(document.stored_name)
            db.session.delete(document)
        count = len(documents)
        # Staff evidence (hook), then the operation's own documents (agreement, amendments,
        # publicity, procurement files; withdrawn ones included).
        for reference, document in [*other_documents(operation.id), *operation_documents(operation.id)]:
            writer.writerow([
                operation.code, format_day(item.retention.end, "fr"), "", csv_text(reference), document.id,
                document.kind, csv_text(document.original_name), document.sha256, document.size,
                format_day(document.uploaded_at, "fr"),
            ])
            files.append(document.stored_name)
            db.session.delete(document)
            count += 1
        for kind, reference, what in erase_personal_data(operation, datetime.now(timezone.utc)):
            # same columns: the erased record's kind and reference
            writer.writerow([operation.code, format_day(item.retention.end, "fr"), "", "", "", kind,
                             csv_text(reference), "", "", csv_text(what)])
        purged.append((operation, count))
    data = buffer.getvalue().encode("utf-8")
    digest = hashlib.sha256(data).hexdigest()
    now = datetime.now(timezone.utc)
    for operation, count in purged:
        operation.documents_purged_at = now
        audit.record("retention_purge", "operations", operation.id, after={
            "documents": count, "manifest": manifest.name, "manifest_sha256": digest,
        })
    db.session.flush()
    partial = manifest.with_name(manifest.name + ".part")
    with open(partial, "xb") as handle:  # never overwrite an earlier manifest
        handle.write(data)
    partial.replace(manifest)
    return files


def delete_stored(keys: list[str]) -> list[str]:
    """Delete the purged documents from the storage; returns the keys that could not be."""
    kept = []
    for key in keys:
        try:
            storage.delete(key)
        except FileNotFoundError:
            continue
        except (OSError, storage.StorageError):  # the disk's or the bucket's refusal: listed, the rest goes on
            kept.append(key)
    return kept

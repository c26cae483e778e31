"""Operation documents (issue 22; primer §8: the CSF checks the agreement, the publicity
obligations and the public procurement rules): the signed agreement (convention, plan
version 1), each approved amendment's signed copy (the plan version it signed), publicity
evidence (CPR art. 50: poster, mention on the website, logos) and procurement files (quotes,
contract) linked to the expenses they cover.

Attached with the house's upload checks (``kernel.uploads.receive``: content sniffed, size,
SHA-256), the same file found elsewhere said as a warning. What the next bilan needs
(``expectations``): the agreement, always; each amendment's signed copy; publicity evidence
at least once per operation; a procurement file for each expense whose amount excl. VAT
reaches the operation's threshold (``operations.services.procurement_threshold``: the
primer fixes none, so it is a setting, by default 40 000 € HT). A document is withdrawn
with a reason, never deleted: its file stays until the retention purge (CPR 82).
"""
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import or_, select

from ..kernel.audit import services as audit
from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.i18n import N_
from ..kernel.integers import MAX_ID
from ..kernel.text import control_character
from ..kernel.transactions import atomic
from ..kernel.uploads import receive
from ..operations.closure import ensure_open
from ..operations.models import Operation, PlanVersion
from ..operations.services import procurement_threshold
from .models import OPERATION_DOCUMENT_KINDS, Expense, OperationDocument, ProcurementCover, SupportingDocument

DESCRIPTION_LENGTH = 255
REASON_LENGTH = 500


# --- attaching ---------------------------------------------------------------------------


def _versions_text(amendments) -> str:
    return ", ".join(f"n° {version.amendment_number}" for version in amendments) or "—"


def amendment_version(operation: Operation, number) -> PlanVersion:
    """The plan version of the amendment numbered ``number`` (its n° d'avenant, as the
    operation page shows it)."""
    amendments = [version for version in operation.plan_versions if version.number > 1]
    if not amendments:
        raise DomainError(N_("L'opération %(code)s n'a aucun avenant approuvé : rien à quoi joindre un avenant signé."),
                          code=operation.code, field="amendment")
    text = str(number or "").strip()
    if not text:
        raise DomainError(N_("Indiquez l'avenant signé (--amendment N) : %(known)s."),
                          known=_versions_text(amendments), field="amendment")
    found = [version for version in amendments if (version.amendment_number or "").strip() == text]
    if len(found) != 1:
        raise DomainError(N_("Avenant n° %(number)s inconnu sur l'opération %(code)s (avenants : %(known)s)."),
                          number=text, code=operation.code, known=_versions_text(amendments), field="amendment")
    return found[0]


def covered_expenses(operation: Operation, expense_ids) -> list[Expense]:
    """The operation's live expenses named by ``expense_ids``; every unknown one is named."""
    ids = list(dict.fromkeys(expense_ids))
    possible = [expense_id for expense_id in ids if 0 < expense_id <= MAX_ID]  # a database id
    expenses = {expense.id: expense for expense in db.session.scalars(
        select(Expense).where(Expense.id.in_(possible), Expense.operation_id == operation.id))} if possible else {}
    problems = []
    for expense_id in ids:
        expense = expenses.get(expense_id)
        if expense is None:
            # The same words for an expense of another operation: its existence is not said.
            problems.append(DomainError(N_("Aucune dépense n° %(id)s sur l'opération %(code)s."),
                                        id=expense_id, code=operation.code, field="expenses"))
        elif expense.deleted_at is not None:
            problems.append(DomainError(N_("La dépense n° %(id)s est supprimée."), id=expense_id, field="expenses"))
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise DomainError(field="expenses", problems=problems)
    return [expenses[expense_id] for expense_id in ids]


def _text(value: str | None, field: str, limit: int) -> str | None:
    """A description or reason: on one line, without control characters, at most ``limit``."""
    text = " ".join((value or "").split()) or None
    if text is not None and control_character(text):
        raise DomainError(N_("Caractère de contrôle interdit (%(char)s) : retapez le texte sans ce caractère."),
                          char=control_character(text), field=field)
    if text is not None and len(text) > limit:
        raise DomainError(N_("Le texte dépasse %(max)s caractères."), max=limit, field=field)
    return text


def _check(operation: Operation, kind: str, amendment, expense_ids):
    if kind not in OPERATION_DOCUMENT_KINDS:
        raise DomainError(N_("Type de document inconnu : %(kind)s (%(known)s)."), kind=kind,
                          known=", ".join(OPERATION_DOCUMENT_KINDS), field="kind")
    if kind != "amendment" and str(amendment or "").strip():
        raise DomainError(N_("Seul un avenant signé se rattache à un avenant (--amendment)."), field="amendment")
    if kind != "procurement" and expense_ids:
        raise DomainError(N_("Seul un dossier de mise en concurrence se rattache à des dépenses (--expense)."),
                          field="expenses")
    if kind == "procurement" and not expense_ids:
        raise DomainError(N_("Indiquez la ou les dépenses que couvre le dossier de mise en concurrence "
                             "(--expense N°)."), field="expenses")
    if kind == "agreement":
        if not operation.plan_versions:
            raise DomainError(N_("L'opération %(code)s n'a pas de plan de financement : la convention s'y rattache."),
                              code=operation.code, field="kind")
        return operation.plan_versions[0], []
    if kind == "amendment":
        return amendment_version(operation, amendment), []
    if kind == "procurement":
        return None, covered_expenses(operation, expense_ids)
    return None, []


def same_content(sha256: str, excluding: int | None = None) -> list:
    """The operation and expense documents holding the same file (by SHA-256)."""
    found = [document for document in db.session.scalars(
        select(OperationDocument).where(OperationDocument.sha256 == sha256)) if document.id != excluding]
    found += db.session.scalars(select(SupportingDocument).where(SupportingDocument.sha256 == sha256)).all()
    return found


@atomic
def attach_document(operation: Operation, kind: str, filename: str, data: bytes, amendment=None, expense_ids=(),
                    description: str | None = None, user=None) -> tuple[OperationDocument, list]:
    """Check, store and attach an operation document. Every argument is checked before the
    file is stored; a refusal changes nothing. Returns (document, the other documents
    holding the same file: found, shown as a warning)."""
    ensure_open(operation)
    description = _text(description, "description", DESCRIPTION_LENGTH)
    version, expenses = _check(operation, kind, amendment, list(expense_ids or ()))
    received = receive(filename, data)
    same = same_content(received.sha256)
    document = OperationDocument(
        operation_id=operation.id, kind=kind, plan_version_id=version.id if version is not None else None,
        description=description, original_name=received.original_name, stored_name=received.stored_name,
        content_type=received.content_type, size=received.size, sha256=received.sha256,
        uploaded_at=datetime.now(timezone.utc), uploaded_by_id=getattr(user, "id", None),
        covers=[ProcurementCover(expense_id=expense.id) for expense in expenses],
    )
    db.session.add(document)
    db.session.flush()
    audit.record("operation_document_attach", "operation_documents", document.id, after={
        "operation": operation.code, "kind": kind, "name": document.original_name, "sha256": document.sha256,
        "amendment": version.amendment_number if kind == "amendment" else None,
        "expenses": ", ".join(str(expense.id) for expense in expenses) or None,
    })
    return document, same


@atomic
def remove_document(document: OperationDocument, reason: str, user=None) -> None:
    """Withdraw a document attached by mistake, with its reason: it no longer counts nor goes
    in a pack; its row and file stay until the retention purge (CPR 82)."""
    ensure_open(document.operation)
    reason = _text(reason, "reason", REASON_LENGTH)
    if document.removed_at is not None:
        raise DomainError(N_("Ce document est déjà retiré."), field="reason")
    if not reason:
        raise DomainError(N_("Indiquez pourquoi le document est retiré."), field="reason")
    document.removed_at = datetime.now(timezone.utc)
    document.removed_by_id = getattr(user, "id", None)
    document.removal_reason = reason
    db.session.flush()
    audit.record("operation_document_remove", "operation_documents", document.id, after={
        "operation": document.operation.code, "kind": document.kind, "name": document.original_name,
        "sha256": document.sha256}, note=reason)


def find_document(operation: Operation, document_id) -> OperationDocument:
    possible = isinstance(document_id, int) and 0 < document_id <= MAX_ID
    document = db.session.get(OperationDocument, document_id) if possible else None
    if document is None or document.operation_id != operation.id:
        raise DomainError(N_("Aucun document n° %(id)s sur l'opération %(code)s."), id=document_id,
                          code=operation.code, field="document")
    return document


# --- expected → present → missing ------------------------------------------------------


@dataclass
class Expected:
    kind: str
    required: bool = True
    version: PlanVersion | None = None
    expense: Expense | None = None
    documents: list = field(default_factory=list)

    @property
    def present(self) -> bool:
        return bool(self.documents)


@dataclass
class Dossier:
    threshold: Decimal
    items: list = field(default_factory=list)
    documents: list = field(default_factory=list)  # every document, withdrawn ones included

    @property
    def missing(self) -> list:
        return [item for item in self.items if item.required and not item.present]


def active_documents(operation_id: int, kinds=None) -> list[OperationDocument]:
    query = select(OperationDocument).where(OperationDocument.operation_id == operation_id,
                                            OperationDocument.removed_at.is_(None))
    if kinds is not None:
        query = query.where(OperationDocument.kind.in_(list(kinds)))
    return db.session.scalars(query.order_by(OperationDocument.kind, OperationDocument.id)).all()


def expectations(operation: Operation) -> Dossier:
    """What the next bilan needs, each item with the documents present."""
    threshold = procurement_threshold(operation)
    every = db.session.scalars(select(OperationDocument).where(OperationDocument.operation_id == operation.id)
                               .order_by(OperationDocument.uploaded_at, OperationDocument.id)).all()
    active = [document for document in every if document.removed_at is None]
    dossier = Dossier(threshold, documents=every)
    dossier.items.append(Expected("agreement", documents=[d for d in active if d.kind == "agreement"]))
    for version in operation.plan_versions:
        if version.number > 1:
            dossier.items.append(Expected("amendment", version=version, documents=[
                d for d in active if d.kind == "amendment" and d.plan_version_id == version.id]))
    dossier.items.append(Expected("publicity", documents=[d for d in active if d.kind == "publicity"]))
    covering: dict[int, list] = {}
    for document in active:
        for cover in document.covers if document.kind == "procurement" else ():
            covering.setdefault(cover.expense_id, []).append(document)
    expenses = db.session.scalars(
        select(Expense).where(Expense.operation_id == operation.id, Expense.deleted_at.is_(None),
                              or_(Expense.id.in_(list(covering)),
                                  (Expense.amount_excl_vat >= threshold) & Expense.credit_note_of_id.is_(None)))
        .order_by(Expense.incurred_on, Expense.id)
    ).all()
    for expense in expenses:
        required = expense.credit_note_of_id is None and expense.amount_excl_vat >= threshold
        dossier.items.append(Expected("procurement", required=required, expense=expense,
                                      documents=covering.get(expense.id, [])))
    return dossier


def procurement_documents(expense_ids) -> dict[int, list[OperationDocument]]:
    """For each expense, the procurement files (not withdrawn) that cover it: what the
    controller opens beside the line."""
    ids = [expense_id for expense_id in expense_ids if expense_id is not None]
    if not ids:
        return {}
    found: dict[int, list] = {}
    for expense_id, document in db.session.execute(
        select(ProcurementCover.expense_id, OperationDocument)
        .join(OperationDocument, OperationDocument.id == ProcurementCover.document_id)
        .where(ProcurementCover.expense_id.in_(ids), OperationDocument.removed_at.is_(None))
        .order_by(ProcurementCover.expense_id, OperationDocument.id)
    ):
        found.setdefault(expense_id, []).append(document)
    return found


def documents_for_purge(operation_id: int) -> list[tuple[str, OperationDocument]]:
    """(reference, document) of every operation document, withdrawn ones included, for the
    retention purge (``expenses.purge``)."""
    rows = db.session.scalars(select(OperationDocument).where(OperationDocument.operation_id == operation_id)
                              .order_by(OperationDocument.id)).all()
    return [(OPERATION_DOCUMENT_KINDS[document.kind], document) for document in rows]

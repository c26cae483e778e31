"""Look-alike lines and double funding (CPR 63(9)): a candidate line is compared with the
live lines of the same supplier, in this operation and in every other, and with the
earlier rows of the same file. One query per batch of suppliers, never one per line."""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.formatting import format_number
from ..kernel.i18n import N_, translate
from ..operations.models import Operation
from .models import Expense
from .rules import ExpenseData

HUNDRED = Decimal("100")
ZERO = Decimal("0.00")


@dataclass
class Match:
    """An existing line that looks like the candidate."""

    expense_id: int | None
    operation_id: int
    operation_code: str
    reason: str  # translated
    file_line: int | None = None  # when the match is an earlier row of the same file


@dataclass
class DuplicateCheck:
    warnings: list[Match] = field(default_factory=list)
    already_recorded: Match | None = None  # same line already in this operation (re-import)
    # Every live line of this operation that is the same line (``same_line``): its marks
    # (declared, held) follow it, so the candidate cannot be entered again beside it.
    same_line_ids: list[int] = field(default_factory=list)
    double_funding: DomainError | None = None
    allocation_total: Decimal = ZERO


@dataclass
class _Known:
    id: int | None
    operation_id: int
    operation_code: str
    supplier_key: str
    document_key: str
    document_number: str
    incurred_on: date
    amount_excl_vat: Decimal
    vat: Decimal
    category: str
    allocation_percent: Decimal
    is_credit_note: bool
    file_line: int | None = None


class DuplicateFinder:
    """Looks for lines like a candidate, in this operation and across all operations, with
    one query per batch of suppliers (never one per line). Lines of the same file count too."""

    def __init__(self, operation: Operation):
        self.operation = operation
        self.by_supplier: dict[str, list[_Known]] = defaultdict(list)
        self.loaded: set[str] = set()

    def load(self, supplier_keys, exclude_id: int | None = None) -> None:
        keys = sorted(set(supplier_keys) - self.loaded)
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            rows = db.session.execute(
                select(
                    Expense.id,
                    Expense.operation_id,
                    Operation.code,
                    Expense.supplier_key,
                    Expense.document_key,
                    Expense.document_number,
                    Expense.incurred_on,
                    Expense.amount_excl_vat,
                    Expense.vat,
                    Expense.category,
                    Expense.allocation_percent,
                    Expense.credit_note_of_id,
                )
                .join(Operation, Operation.id == Expense.operation_id)
                .where(Expense.supplier_key.in_(chunk), Expense.deleted_at.is_(None))
            )
            for row in rows:
                if row.id == exclude_id:
                    continue
                self.by_supplier[row.supplier_key].append(
                    _Known(*row[:11], is_credit_note=row.credit_note_of_id is not None)
                )
            self.loaded.update(chunk)

    def check(self, data: ExpenseData, exclude_id: int | None = None) -> DuplicateCheck:
        self.load([data.supplier_key], exclude_id)
        result = DuplicateCheck()
        skey, dkey = data.supplier_key, data.document_key
        same_document = []
        for known in self.by_supplier.get(skey, ()):
            if known.id is not None and known.id == exclude_id:
                continue
            if known.document_key == dkey:
                same_document.append(known)
                same = same_line(known, data, self.operation.id)
                if same and known.id is not None:
                    result.same_line_ids.append(known.id)
                if result.already_recorded is None and same:
                    result.already_recorded = self._match(known, N_("même ligne déjà enregistrée"))
                    continue
                result.warnings.append(self._match(known, N_("même fournisseur et même n° de pièce")))
            elif (
                known.incurred_on == data.incurred_on
                and known.amount_excl_vat == data.amount_excl_vat
                and known.vat == data.vat
            ):
                result.warnings.append(self._match(known, N_("même fournisseur, même montant et même date")))
        if data.credit_note_of_id is not None:
            return result
        # One invoice may be shared between operations only through allocation keys: over
        # 100 % in all, it is funded twice (CPR 63(9): no double funding).
        shared = [known for known in same_document if not known.is_credit_note]
        total = sum((known.allocation_percent for known in shared), Decimal(0)) + (data.allocation_percent or ZERO)
        result.allocation_total = total
        if shared and total > HUNDRED:
            places = ", ".join(
                sorted(
                    {
                        translate(N_("ligne %(line)s du fichier"), line=known.file_line)
                        if known.file_line
                        else known.operation_code
                        for known in shared
                    }
                )
            )
            result.double_funding = DomainError(
                N_("double financement : la pièce %(document)s est déjà affectée à %(already)s %% (%(places)s) ; avec cette ligne, les clés d'affectation atteignent %(total)s %% (100 %% au plus)"),
                document=data.document_number,
                already=_percent_text(total - (data.allocation_percent or ZERO)),
                places=places,
                total=_percent_text(total),
            )
        return result

    def remember(self, data: ExpenseData, file_line: int | None = None, expense_id: int | None = None) -> None:
        """Count a line about to be recorded (e.g. an earlier row of the same file)."""
        self.by_supplier[data.supplier_key].append(
            _Known(
                expense_id,
                self.operation.id,
                self.operation.code,
                data.supplier_key,
                data.document_key,
                data.document_number,
                data.incurred_on,
                data.amount_excl_vat,
                data.vat,
                data.category,
                data.allocation_percent,
                data.credit_note_of_id is not None,
                file_line,
            )
        )

    def _match(self, known: _Known, reason: str) -> Match:
        return Match(known.id, known.operation_id, known.operation_code, translate(reason), known.file_line)


def same_line(known: _Known, data: ExpenseData, operation_id: int) -> bool:
    """The identity of an expense line (a re-import skips it as "already recorded"; marks
    follow it): the same supplier and document (compared by the caller), operation, date,
    amounts, category and allocation key. Lines of one split invoice differ by amount,
    category or key, so each keeps its own marks."""
    return (
        known.operation_id == operation_id
        and known.file_line is None
        and known.incurred_on == data.incurred_on
        and known.amount_excl_vat == data.amount_excl_vat
        and known.vat == data.vat
        and known.category == data.category
        and known.allocation_percent == data.allocation_percent
    )


def _percent_text(value: Decimal) -> str:
    return format_number(value, places=None)

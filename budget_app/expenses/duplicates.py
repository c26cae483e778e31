"""Look-alike lines and double funding (CPR 63(9)): a candidate line is compared with the
live lines of the same supplier, in this operation and in every other, and with the
earlier rows of the same file. One query per batch of suppliers, never one per line."""
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import islice
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.formatting import format_number
from ..kernel.i18n import N_, translate
from ..kernel.locks import lock_keys
from ..kernel.money import HUNDRED, ZERO
from ..operations.models import Operation
from .models import Expense
from .rules import ExpenseData


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
    more_warnings: int = 0  # look-alikes not listed in ``warnings``


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


# Look-alikes listed for one line; the others are counted (a file of 50 000 identical rows
# has 1.25 billion pairs: never listed, never built).
WARNINGS_SHOWN = 5
_UNKNOWN = object()  # ``matches``: the line already recorded not looked for yet
PLACES_SHOWN = 5


class _Document:
    """The known lines of one (supplier, document): for the allocation total and its places."""

    __slots__ = ("lines", "allocation", "places", "place_set")

    def __init__(self):
        self.lines: list[_Known] = []
        self.allocation = Decimal(0)  # sum over lines that are not credit notes
        self.places: list = []  # the first PLACES_SHOWN distinct places
        self.place_set: set = set()


class DuplicateFinder:
    """Looks for lines like a candidate, in this operation and across all operations, with
    one query per batch of suppliers (never one per line). Lines of the same file count too.

    Known lines are indexed by (supplier, document) and by (supplier, date, amount, VAT), so
    checking a line costs the same whatever the number of look-alikes (issue 21: 4 000
    identical rows took 300 s); ``matches`` lists every look-alike when asked."""

    def __init__(self, operation: Operation):
        self.operation = operation
        self.by_document: dict[tuple, _Document] = defaultdict(_Document)
        self.by_amount: dict[tuple, list[_Known]] = defaultdict(list)
        self.both: dict[tuple, int] = defaultdict(int)  # same document and same date/amount
        self.recorded: dict[tuple, list[_Known]] = defaultdict(list)  # candidates for « already recorded »
        self.loaded: set[str] = set()
        self.locked: set[int] = set()
        self.reasons: dict[str, str] = {}

    def load(self, supplier_keys, exclude_id: int | None = None) -> None:
        keys = sorted(set(supplier_keys) - self.loaded)
        # Double funding is a total over every line of a supplier's invoice: the suppliers
        # are locked before their lines are read, until the request commits (issue 21:
        # six parallel requests stored 400 % of one invoice).
        lock_keys("expense-document", keys, self.locked)
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
                .order_by(Expense.id)
            )
            for row in rows:
                if row.id == exclude_id:
                    continue
                self._add(_Known(*row[:11], is_credit_note=row.credit_note_of_id is not None))
            self.loaded.update(chunk)

    def _add(self, known: _Known) -> None:
        document = self.by_document[(known.supplier_key, known.document_key)]
        document.lines.append(known)
        amount_key = (known.supplier_key, known.incurred_on, known.amount_excl_vat, known.vat)
        self.by_amount[amount_key].append(known)
        self.both[(known.supplier_key, known.document_key, *amount_key[1:])] += 1
        if known.file_line is None:
            self.recorded[_recorded_key(known.supplier_key, known.document_key, known.operation_id, known.incurred_on,
                                        known.amount_excl_vat, known.vat, known.category,
                                        known.allocation_percent)].append(known)
        if not known.is_credit_note:
            document.allocation += known.allocation_percent or ZERO
            # A file's line by its number (written in words only for a message), else the operation.
            place = known.file_line or known.operation_code
            if place not in document.place_set:
                document.place_set.add(place)
                if len(document.places) < PLACES_SHOWN:
                    document.places.append(place)

    def _recorded_key_of(self, data: ExpenseData) -> tuple:
        return _recorded_key(data.supplier_key, data.document_key, self.operation.id, data.incurred_on,
                             data.amount_excl_vat, data.vat, data.category, data.allocation_percent)

    def _already_recorded(self, data: ExpenseData, exclude_id: int | None) -> _Known | None:
        return next((known for known in self.recorded.get(self._recorded_key_of(data), ())
                     if known.id is None or known.id != exclude_id), None)

    def matches(self, data: ExpenseData, exclude_id: int | None = None, recorded: _Known | None = _UNKNOWN):
        """Every look-alike of ``data`` (a generator: (known line, reason)), the line already
        recorded left out: the same supplier and document, or the same supplier, amount,
        VAT and date under another document. ``recorded``: that line, when already found."""
        skey, dkey = data.supplier_key, data.document_key
        if recorded is _UNKNOWN:
            recorded = self._already_recorded(data, exclude_id)
        document = self.by_document.get((skey, dkey))
        for known in document.lines if document else ():
            if known is not recorded and (known.id is None or known.id != exclude_id):
                yield known, N_("même fournisseur et même n° de pièce")
        for known in self.by_amount.get((skey, data.incurred_on, data.amount_excl_vat, data.vat), ()):
            if known.document_key != dkey and (known.id is None or known.id != exclude_id):
                yield known, N_("même fournisseur, même montant et même date")

    def _count(self, data: ExpenseData, recorded: _Known | None) -> int:
        skey, dkey = data.supplier_key, data.document_key
        amount_key = (skey, data.incurred_on, data.amount_excl_vat, data.vat)
        document = self.by_document.get((skey, dkey))
        same_document = len(document.lines) if document else 0
        same_amount = len(self.by_amount.get(amount_key, ())) - self.both.get((skey, dkey, *amount_key[1:]), 0)
        return same_document - (recorded is not None) + same_amount

    def check(self, data: ExpenseData, exclude_id: int | None = None) -> DuplicateCheck:
        if data.supplier_key not in self.loaded:  # an import loads its suppliers at once
            self.load([data.supplier_key], exclude_id)
        result = DuplicateCheck()
        same = self.recorded.get(self._recorded_key_of(data), ())
        recorded = next((known for known in same if known.id is None or known.id != exclude_id), None)
        # Every live line of this operation that is the same line: its marks follow it.
        result.same_line_ids = [known.id for known in same if known.id is not None and known.id != exclude_id]
        if recorded is not None:
            result.already_recorded = self._match(recorded, N_("même ligne déjà enregistrée"))
        found = self.matches(data, exclude_id, recorded)
        result.warnings = [self._match(known, reason) for known, reason in islice(found, WARNINGS_SHOWN)]
        if exclude_id is None:
            result.more_warnings = self._count(data, recorded) - len(result.warnings)
        else:  # one line being edited: its own row may sit in the groups, count them
            result.more_warnings = sum(1 for _ in found)
        if data.credit_note_of_id is not None:
            return result
        # One invoice may be shared between operations only through allocation keys: over
        # 100 % in all, it is funded twice (CPR 63(9): no double funding).
        document = self.by_document.get((data.supplier_key, data.document_key))
        shared = document is not None and any(not known.is_credit_note for known in document.lines)
        already, places, more = ZERO, [], 0
        if shared and exclude_id is None:
            already, more = document.allocation, len(document.place_set) - len(document.places)
            places = [_place_text(place) for place in document.places]
        elif shared:
            kept = [known for known in document.lines if not known.is_credit_note and known.id != exclude_id]
            shared = bool(kept)
            already = sum((known.allocation_percent for known in kept), Decimal(0))
            names = sorted({_place_text(known.file_line or known.operation_code) for known in kept})
            places, more = names[:PLACES_SHOWN], max(0, len(names) - PLACES_SHOWN)
        total = already + (data.allocation_percent or ZERO)
        result.allocation_total = total
        if shared and total > HUNDRED:
            text = ", ".join(sorted(places))
            if more:
                text += translate(N_(" et %(n)s autre(s)"), n=more)
            result.double_funding = DomainError(
                N_("double financement : la pièce %(document)s est déjà affectée à %(already)s %% (%(places)s) ; avec cette ligne, les clés d'affectation atteignent %(total)s %% (100 %% au plus)"),
                document=data.document_number,
                already=_percent_text(already),
                places=text,
                total=_percent_text(total),
            )
        return result

    def remember(self, data: ExpenseData, file_line: int | None = None, expense_id: int | None = None) -> None:
        """Count a line about to be recorded (e.g. an earlier row of the same file)."""
        self._add(
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
        # One translated text per reason, shared by every match (50 000 rows x 5 matches).
        text = self.reasons.get(reason)
        if text is None:
            text = self.reasons[reason] = translate(reason)
        return Match(known.id, known.operation_id, known.operation_code, text, known.file_line)


def _recorded_key(supplier_key, document_key, operation_id, incurred_on, amount, vat, category, allocation) -> tuple:
    """The identity of an expense line as a key (``same_line``): lines with equal keys are
    the same line."""
    return (supplier_key, document_key, operation_id, incurred_on, amount, vat, category, allocation)


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


def _place_text(place) -> str:
    """A place that funds a document: a line of the file being read (its number) or an operation's code."""
    return translate(N_("ligne %(line)s du fichier"), line=place) if isinstance(place, int) else place

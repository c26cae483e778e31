"""The list of an operation's expenses: filters, sort, keyset pagination and the totals of
the filtered set, all computed in the database with a fixed number of queries per page
(never one per line), so a page costs the same at 1 000 or 100 000 lines."""
import base64
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cache

from sqlalchemy import and_, bindparam, case, func, literal, or_, select, tuple_
from sqlalchemy.orm import aliased

from ..kernel.extensions import db
from ..kernel.money import ZERO, cents
from ..kernel.text import control_character
from ..marks.hooks import bilan_state
from ..marks.services import declared_bilan, is_held
from .models import Expense, ExpenseMonthTotal, SupportingDocument

PAGE_SIZE = 50

SORTS = {
    "date": Expense.incurred_on,
    "montant": Expense.eligible_amount,
    "fournisseur": Expense.supplier_name,
    "categorie": Expense.category,
}


def state_expression():
    """The state of a line, from the bilan it is declared in (its mark; claims tell that
    bilan's state through ``marks.hooks.bilan_state``) and its completeness, in the same
    query as the lines."""
    held_by = bilan_state(declared_bilan("expense", Expense.id))
    return case(
        (held_by.in_(("controlled", "paid")), "controlled"),
        (held_by == "submitted", "claimed"),
        (Expense.is_complete.is_(False), "incomplete"),
        else_="draft",
    )


@dataclass
class Filters:
    category: str | None = None
    start: date | None = None
    end: date | None = None
    supplier: str | None = None
    state: str | None = None
    search: str | None = None
    sort: str = "date"
    descending: bool = True


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def filtered(operation_id: int, filters: Filters):
    """A select of (Expense, state) rows matching the filters, unsorted."""
    state = state_expression().label("state")
    query = (
        select(Expense, state)
        .where(Expense.operation_id == operation_id, Expense.deleted_at.is_(None))
    )
    return _where(query, filters)


def _where(query, filters: Filters):
    if filters.category:
        query = query.where(Expense.category == filters.category)
    if filters.start:
        query = query.where(Expense.incurred_on >= filters.start)
    if filters.end:
        query = query.where(Expense.incurred_on <= filters.end)
    if filters.supplier:
        query = query.where(Expense.supplier_name.ilike(_like(filters.supplier.strip()), escape="\\"))
    if filters.state:
        query = query.where(state_expression() == filters.state)
    if filters.search:
        pattern = _like(filters.search.strip())
        query = query.where(
            or_(
                Expense.label.ilike(pattern, escape="\\"),
                Expense.supplier_name.ilike(pattern, escape="\\"),
                Expense.document_number.ilike(pattern, escape="\\"),
            )
        )
    return query


@dataclass
class Totals:
    count: int = 0
    amount_excl_vat: Decimal = ZERO
    vat: Decimal = ZERO
    eligible_amount: Decimal = ZERO

    @property
    def amount_incl_vat(self) -> Decimal:
        return self.amount_excl_vat + self.vat


def _month_aligned(filters: Filters) -> bool:
    start, end = filters.start, filters.end
    return (start is None or start.day == 1) and (end is None or (end + timedelta(days=1)).day == 1)


def totals(operation_id: int, filters: Filters) -> Totals:
    """Count and sums of the filtered set, in one aggregate query: from the monthly totals
    the triggers keep when the filters are a category and whole months (a few rows whatever
    the number of lines), else over the lines themselves."""
    if not (filters.state or filters.supplier or filters.search) and _month_aligned(filters):
        return _totals_by_month(operation_id, filters)
    return totals_of_lines(operation_id, filters)


def _totals_by_month(operation_id: int, filters: Filters) -> Totals:
    table = ExpenseMonthTotal
    query = select(
        func.coalesce(func.sum(table.line_count), 0),
        func.coalesce(func.sum(table.amount_excl_vat), 0),
        func.coalesce(func.sum(table.vat), 0),
        func.coalesce(func.sum(table.eligible_amount), 0),
    ).where(table.operation_id == operation_id)
    if filters.category:
        query = query.where(table.category == filters.category)
    if filters.start:
        query = query.where(table.month >= filters.start.strftime("%Y-%m"))
    if filters.end:
        query = query.where(table.month <= filters.end.strftime("%Y-%m"))
    return _totals(db.session.execute(query).one())


def totals_of_lines(operation_id: int, filters: Filters) -> Totals:
    query = (
        select(
            func.count(Expense.id),
            func.coalesce(func.sum(Expense.amount_excl_vat), 0),
            func.coalesce(func.sum(Expense.vat), 0),
            func.coalesce(func.sum(Expense.eligible_amount), 0),
        )
        .select_from(Expense)
        .where(Expense.operation_id == operation_id, Expense.deleted_at.is_(None))
    )
    return _totals(db.session.execute(_where(query, filters)).one())


def _totals(row) -> Totals:
    # coalesce() and sum() keep the column's type: the values come back as exact Decimals.
    return Totals(int(row[0] or 0), *(cents(value) for value in row[1:]))


# Bounds of what a cursor may hold: a database integer id, a Numeric(14, 2) amount.
MAX_ID = 2**31
MAX_AMOUNT = Decimal(10) ** 12


def encode_cursor(value, expense_id: int) -> str:
    if isinstance(value, date):
        value = value.isoformat()
    elif isinstance(value, Decimal):
        value = format(value, "f")
    raw = json.dumps([value, expense_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str | None, sort: str):
    """(value, id) or None when the cursor is missing or not ours (then: first page)."""
    if not text:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        value, expense_id = json.loads(raw)
        if not isinstance(expense_id, int) or not 0 < expense_id < MAX_ID:
            return None  # an id of 10**30 does not fit a database integer
        if sort == "date":
            value = date.fromisoformat(value)
        elif sort == "montant":
            value = Decimal(value)
            if not value.is_finite() or abs(value) >= MAX_AMOUNT:
                return None  # NaN, Infinity, 1e308: no amount of Numeric(14, 2)
        elif not isinstance(value, str) or len(value) > 500 or control_character(value):
            return None  # PostgreSQL refuses NUL in a text value
        return value, expense_id
    except (ValueError, TypeError, ArithmeticError, RecursionError):
        return None


@dataclass
class Page:
    rows: list = field(default_factory=list)  # (Expense, state)
    has_next: bool = False
    has_prev: bool = False
    next_cursor: str | None = None
    prev_cursor: str | None = None


def page(operation_id: int, filters: Filters, after: str | None = None, before: str | None = None,
         last: bool = False, size: int = PAGE_SIZE) -> Page:
    """One page by keyset: rows after (or before) a cursor in the sort order, read from an
    index on (operation, sort column, id); a far page costs what the first one does."""
    column = SORTS.get(filters.sort, Expense.incurred_on)
    descending = filters.descending
    after_key = decode_cursor(after, filters.sort)
    before_key = decode_cursor(before, filters.sort) if after_key is None else None
    backwards = before_key is not None or (last and after_key is None)
    query = filtered(operation_id, filters)
    key = after_key or before_key
    if key is not None:
        bound = tuple_(literal(key[0], column.type), literal(key[1], Expense.id.type))
        ahead = tuple_(column, Expense.id)
        forward_is_less = descending
        go_less = forward_is_less != backwards
        query = query.where(ahead < bound if go_less else ahead > bound)
    reverse_order = descending != backwards
    if reverse_order:
        query = query.order_by(column.desc(), Expense.id.desc())
    else:
        query = query.order_by(column.asc(), Expense.id.asc())
    rows = db.session.execute(query.limit(size + 1)).all()
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    result = Page(rows=rows)
    if backwards:
        result.has_prev = more
        result.has_next = before_key is not None
    else:
        result.has_next = more
        result.has_prev = after_key is not None
    if rows:
        first, last_row = rows[0][0], rows[-1][0]
        result.prev_cursor = encode_cursor(getattr(first, column.key), first.id)
        result.next_cursor = encode_cursor(getattr(last_row, column.key), last_row.id)
    return result


@dataclass
class PageMarks:
    documents: dict = field(default_factory=dict)  # expense id -> number of supporting documents
    duplicates: set = field(default_factory=set)  # expense ids that look like another line
    held: set = field(default_factory=set)  # held (whoever asked: the marks do not say)


@cache
def _marks_query():
    """Built once (an aliased table costs more to build than the query takes to run): for
    each id of ``ids``, its number of documents, whether another live line looks like it
    (read through the (supplier, document) and (supplier, date) indexes), whether it is held."""
    other = aliased(Expense)
    alike = (other.supplier_key == Expense.supplier_key, other.id != Expense.id, other.deleted_at.is_(None))
    same_document = select(other.id).where(*alike, other.document_key == Expense.document_key).exists()
    same_amount_and_date = (
        select(other.id)
        .where(
            *alike,
            other.incurred_on == Expense.incurred_on,
            other.amount_excl_vat == Expense.amount_excl_vat,
            other.vat == Expense.vat,
        )
        .exists()
    )
    documents = select(func.count(SupportingDocument.id)).where(SupportingDocument.expense_id == Expense.id)
    return select(
        Expense.id,
        documents.scalar_subquery(),
        or_(same_document, same_amount_and_date),
        is_held("expense", Expense.id),
    ).where(Expense.id.in_(bindparam("ids", expanding=True)))


def page_marks(operation_id: int, expenses) -> PageMarks:
    """Documents, possible duplicates and held lines of one page, in one query (whatever
    the page size)."""
    marks = PageMarks()
    ids = [expense.id for expense in expenses]
    if not ids:
        return marks
    for expense_id, documents, duplicate, held in db.session.execute(_marks_query(), {"ids": ids}):
        if documents:
            marks.documents[expense_id] = documents
        if duplicate:
            marks.duplicates.add(expense_id)
        if held:
            marks.held.add(expense_id)
    return marks


# ---- the report of suspected duplicates


@dataclass
class DuplicateGroup:
    reason: str  # "document" | "amount_date" | "file"
    lines: list  # Expense objects (any operation)


def duplicate_groups(limit: int = 500) -> list[DuplicateGroup]:
    """Groups of live lines that look alike, across all operations, by grouped queries."""
    groups: list[DuplicateGroup] = []
    live = Expense.deleted_at.is_(None)
    by_document = (
        select(Expense.supplier_key, Expense.document_key)
        .where(live)
        .group_by(Expense.supplier_key, Expense.document_key)
        .having(func.count() > 1)
        .limit(limit)
    ).subquery()
    rows = db.session.scalars(
        select(Expense)
        .join(by_document, and_(Expense.supplier_key == by_document.c.supplier_key, Expense.document_key == by_document.c.document_key))
        .where(live)
        .order_by(Expense.supplier_key, Expense.document_key, Expense.id)
    ).all()
    seen_pairs = set()
    for key, lines in _grouped(rows, lambda e: (e.supplier_key, e.document_key)):
        groups.append(DuplicateGroup("document", lines))
        seen_pairs.update(frozenset((a.id, b.id)) for a in lines for b in lines if a.id < b.id)
    by_amount = (
        select(Expense.supplier_key, Expense.incurred_on, Expense.amount_excl_vat, Expense.vat)
        .where(live)
        .group_by(Expense.supplier_key, Expense.incurred_on, Expense.amount_excl_vat, Expense.vat)
        .having(func.count() > 1)
        .limit(limit)
    ).subquery()
    rows = db.session.scalars(
        select(Expense)
        .join(
            by_amount,
            and_(
                Expense.supplier_key == by_amount.c.supplier_key,
                Expense.incurred_on == by_amount.c.incurred_on,
                Expense.amount_excl_vat == by_amount.c.amount_excl_vat,
                Expense.vat == by_amount.c.vat,
            ),
        )
        .where(live)
        .order_by(Expense.supplier_key, Expense.incurred_on, Expense.id)
    ).all()
    for key, lines in _grouped(rows, lambda e: (e.supplier_key, e.incurred_on, e.amount_excl_vat, e.vat)):
        pairs = {frozenset((a.id, b.id)) for a in lines for b in lines if a.id < b.id}
        if pairs - seen_pairs:
            groups.append(DuplicateGroup("amount_date", lines))
    same_file = (
        select(SupportingDocument.sha256)
        .group_by(SupportingDocument.sha256)
        .having(func.count() > 1)
        .limit(limit)
    ).subquery()
    documents = db.session.scalars(
        select(SupportingDocument)
        .join(same_file, SupportingDocument.sha256 == same_file.c.sha256)
        .order_by(SupportingDocument.sha256, SupportingDocument.id)
    ).all()
    for key, docs in _grouped(documents, lambda d: d.sha256):
        groups.append(DuplicateGroup("file", docs))
    return groups


def _grouped(items, key):
    current, bucket = object(), []
    for item in items:
        value = key(item)
        if value != current and bucket:
            yield current, bucket
            bucket = []
        current = value
        bucket.append(item)
    if bucket:
        yield current, bucket

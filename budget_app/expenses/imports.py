"""Expense import (XLSX or CSV), the same for the web upload and the CLI.

All or nothing: every row is checked by the same service as the form
(``services.validate_expense``); if any row is wrong nothing is written and every
problem is listed as "ligne N, colonne X : message". A row identical to a line already
recorded in the operation is skipped and reported, so importing the same file twice
doubles nothing.
"""
import hashlib
from collections import deque
from dataclasses import dataclass, field

from ..kernel.bulk import gc_paused
from ..kernel.errors import DomainError, Problem
from ..kernel.i18n import N_
from ..kernel.integers import parse_id
from ..kernel.siret import normalise_siret
from ..kernel.tabular import (
    RowReader,
    cell_amount,
    cell_date,
    cell_decimal,
    cell_text,
    cell_yes_no,
    read_table,
)
from ..kernel.transactions import atomic
from ..operations.closure import closed_problem
from .duplicates import DuplicateFinder, Match
from .rules import HUNDRED, ZERO, ExpenseData, ExpenseRules, category_from_text, subcategory_from_text
from .services import create_expenses, record_import

COLUMNS = {
    "incurred_on": "Date",
    "paid_on": "Date de paiement",
    "supplier_name": "Fournisseur",
    "supplier_siret": "SIRET",
    "document_number": "N° de pièce",
    "label": "Libellé",
    "category": "Catégorie",
    "subcategory": "Sous-catégorie",
    "amount_excl_vat": "Montant HT",
    "vat": "TVA",
    "vat_recoverable": "TVA récupérable",
    "allocation_percent": "Affectation (%)",
    "credit_note_of": "Avoir sur la dépense n°",
    # Optional: « oui » applies the operation's VAT pro-rata of the invoice's year.
    "vat_partly_recoverable": "TVA partiellement récupérable (prorata)",
}
# SIRET, Sous-catégorie (participants' costs only), Affectation (100 % by default),
# « Avoir sur la dépense n° » and the VAT pro-rata flag may be absent or empty.
REQUIRED = frozenset(COLUMNS) - {"supplier_siret", "subcategory", "allocation_percent", "credit_note_of",
                                 "vat_partly_recoverable"}


@dataclass
class ImportRow:
    line: int
    data: ExpenseData
    warnings: list[Match] = field(default_factory=list)
    already_recorded: Match | None = None
    more_warnings: int = 0  # look-alikes counted, not listed


@dataclass
class ImportCheck:
    rows: list[ImportRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    sha256: str = ""
    notes: list[Problem] = field(default_factory=list)  # lines left out on purpose (title, totals)

    @property
    def to_import(self) -> list[ImportRow]:
        return [row for row in self.rows if row.already_recorded is None]

    @property
    def skipped(self) -> list[ImportRow]:
        return [row for row in self.rows if row.already_recorded is not None]

    @property
    def warnings(self) -> list[ImportRow]:
        return [row for row in self.rows if row.warnings and row.already_recorded is None]


def _no_progress(rows, length):
    return rows


@gc_paused()
def check_file(operation, content: bytes, progress=_no_progress) -> ImportCheck:
    """Read and check every row; nothing is written."""
    result = ImportCheck(sha256=hashlib.sha256(content).hexdigest())
    closed = closed_problem(operation)
    if closed is not None:
        result.problems.append(Problem(closed))
        return result
    table = read_table(content, COLUMNS, REQUIRED)
    result.problems.extend(table.problems)
    result.notes.extend(table.notes)
    if table.problems:
        return result
    if not table.rows:
        result.problems.append(Problem(DomainError(N_("Le fichier ne contient aucune ligne de dépense."))))
        return result
    rules = ExpenseRules(operation)
    parsed = []
    # Each raw row is let go once read: a 50 000-row file is never held twice (issue 21).
    rows, table.rows = deque(table.rows), []
    known: dict = {}  # the texts already read, by column (``RowReader``)
    while rows:
        row = rows.popleft()
        read = RowReader(row, COLUMNS, result.problems, known)
        # A credit note (avoir) names the line it reduces, by its number on its page; it
        # takes that line's category, key and VAT treatment (``rules.credit_note_terms``).
        credit_note_of = read("credit_note_of", _expense_number)
        credit = credit_note_of is not None
        category_text = read("category", cell_text, max_length=200, required=not credit)
        category = category_from_text(category_text)
        if category_text and category is None:
            read.fail("category", DomainError(N_("catégorie inconnue « %(value)s »"), value=category_text))
        subcategory_text = read("subcategory", cell_text, required=False, max_length=200)
        subcategory = subcategory_from_text(subcategory_text)
        if subcategory_text and subcategory is None:
            read.fail("subcategory", DomainError(N_("sous-catégorie inconnue « %(value)s » (REMUNERATION ou AUTRES)"),
                                                 value=subcategory_text))
        data = ExpenseData(
            incurred_on=read("incurred_on", cell_date),
            paid_on=read("paid_on", cell_date),
            supplier_name=read("supplier_name", cell_text, max_length=255),
            supplier_siret=normalise_siret(read("supplier_siret", cell_text, required=False, max_length=20)),
            document_number=read("document_number", cell_text, max_length=64),
            label=read("label", cell_text, max_length=500),
            category=category,
            subcategory=subcategory,
            amount_excl_vat=read("amount_excl_vat", cell_amount, allow_negative=credit),
            vat=read("vat", cell_amount, required=False, allow_negative=credit),
            vat_recoverable=bool(read("vat_recoverable", cell_yes_no, required=not credit)),
            vat_partly_recoverable=bool(read("vat_partly_recoverable", cell_yes_no, required=False)),
            allocation_percent=read("allocation_percent", _percent),
            credit_note_of_id=credit_note_of,
        )
        if data.vat is None and read.ok:
            data.vat = ZERO
        parsed.append((row.line, data, read.ok))
    finder = DuplicateFinder(operation)
    finder.load({data.supplier_key for _, data, ok in parsed if ok and data.supplier_name})
    for line, data, ok in progress(parsed, len(parsed)):
        if not ok:
            # Rule checks still run on the cells that were read, so the list is complete.
            for problem in rules.check(data):
                if problem.field in COLUMNS and data_value_present(data, problem.field):
                    result.problems.append(Problem(problem.error, line=line, column=COLUMNS[problem.field]))
            continue
        problems = rules.check(data)
        duplicates = None
        if not any(problem.field in ("supplier_name", "document_number", "amount_excl_vat", "vat") for problem in problems):
            duplicates = finder.check(data)
            # A row already recorded is skipped, so it cannot fund anything twice.
            if duplicates.double_funding and duplicates.already_recorded is None:
                problems.append(Problem(duplicates.double_funding, field="allocation_percent"))
        for problem in problems:
            result.problems.append(Problem(problem.error, line=line, column=COLUMNS.get(problem.field)))
        if problems:
            continue
        row = ImportRow(line, data, warnings=duplicates.warnings, already_recorded=duplicates.already_recorded,
                        more_warnings=duplicates.more_warnings)
        if row.already_recorded is None:
            finder.remember(data, file_line=line)
            rules.remember_credit(data)
        result.rows.append(row)
    return result


def data_value_present(data: ExpenseData, name: str) -> bool:
    return getattr(data, name, None) is not None


def _expense_number(value, required=False):
    """« 12 » or « #12 »: an expense's number as its page shows it (empty: not a credit note)."""
    text = cell_text(value, required=False, max_length=20)
    if not text:
        return None
    number = parse_id(text.lstrip("#").strip())
    if number is None:
        raise DomainError(N_("numéro de dépense attendu (ex. 12), pas « %(value)s »"), value=text)
    return number


def _percent(value, required=False):
    number = cell_decimal(value, places=4, required=False)
    return HUNDRED if number is None else number


@gc_paused()
@atomic
def import_file(operation, content: bytes, filename: str, user=None, progress=_no_progress) -> ImportCheck:
    """Check then record every new row, or raise DomainError listing every problem. Flushes only."""
    result = check_file(operation, content, progress)
    if result.problems:
        raise DomainError(problems=result.problems)
    create_expenses(operation, [row.data for row in result.to_import], user)
    record_import(operation, filename, result.sha256, len(result.to_import), len(result.skipped))
    return result

"""Expenses: the one validation path (form, import, any later API), the eligible amount,
duplicate and double-funding checks, supporting documents, locking and soft delete.

Services only flush; views and CLI commands commit.
"""
import re
from functools import lru_cache
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import func, insert, select

from ..audit.services import record
from ..claims.models import CLAIM_STATES, Claim
from ..extensions import db
from ..money import N_, format_money, format_percent, quantize, translate
from ..operations.flat_rates import COVERED_CATEGORIES
from ..operations.models import COST_CATEGORIES, Operation
from .documents import check_document, safe_filename, store_file
from .models import Expense, SupportingDocument

HUNDRED = Decimal("100")
ZERO = Decimal("0.00")

# Staff costs are entered as person-months (timesheets or fixed share, CPR 55), never as
# invoices: PERSONNEL is not an expense category, whatever the plan says.
NOT_AN_EXPENSE_CATEGORY = frozenset({"PERSONNEL"})

# Documents a line needs before it can be claimed (Décret art. 7: invoice or equivalent,
# and proof of payment).
REQUIRED_DOCUMENTS = ("invoice", "payment")

EXPENSE_STATES = {
    "draft": N_("Saisie"),
    "incomplete": N_("Incomplète"),
    "claimed": N_("Dans une demande"),
    "controlled": N_("Contrôlée"),
}

# Field names: form fields and import columns use the same keys.
FIELDS = (
    "incurred_on",
    "paid_on",
    "supplier_name",
    "supplier_siret",
    "document_number",
    "label",
    "category",
    "amount_excl_vat",
    "vat",
    "vat_recoverable",
    "allocation_percent",
    "credit_note_of",
)

_LEGAL_FORMS = {"sarl", "sas", "sasu", "sa", "eurl", "sci", "scop", "snc", "selarl", "scic", "ste", "societe"}


# ---- normalisation


def _fold(text: str) -> str:
    text = text or ""
    if text.isascii():
        return text.casefold()
    text = unicodedata.normalize("NFKD", text)
    return "".join(char for char in text if not unicodedata.combining(char)).casefold()


@lru_cache(maxsize=4096)  # an import repeats the same suppliers on many rows
def normalise_supplier_name(name: str) -> str:
    words = re.findall(r"[0-9a-z]+", _fold(name).replace("&", " et "))
    kept = [word for word in words if word not in _LEGAL_FORMS]
    return " ".join(kept or words)


def supplier_key(name: str, siret: str | None) -> str:
    """The SIRET when known, else the normalised name (casefolded, no accents, punctuation
    or legal form): "Bureau Vallée SARL" and "BUREAU-VALLEE" are the same supplier."""
    if siret:
        return f"siret:{siret}"
    return f"nom:{normalise_supplier_name(name)}"[:255]


def document_key(number: str) -> str:
    """Letters and digits only, upper case, leading zeros dropped: "FA-2023/0012" and
    "fa 2023 0012" are the same document."""
    key = re.sub(r"[^0-9A-Z]", "", _fold(number).upper())
    return (key.lstrip("0") or key)[:64]


def clean_siret(text: str | None) -> str | None:
    if text is None:
        return None
    digits = re.sub(r"[\s.\-]", "", str(text))
    return digits or None


def siret_is_valid(siret: str) -> bool:
    """14 digits with a valid Luhn key (La Poste's establishments follow their own rule)."""
    if not re.fullmatch(r"\d{14}", siret):
        return False
    if siret.startswith("356000000"):
        return sum(int(char) for char in siret) % 5 == 0
    total = 0
    for index, char in enumerate(reversed(siret)):
        digit = int(char) * (2 if index % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


# ---- amounts


def eligible_amount(amount_excl_vat: Decimal, vat: Decimal, vat_recoverable: bool, allocation_percent: Decimal) -> Decimal:
    """(amount excl. VAT + VAT when not recoverable) × allocation key, half-up to the cent once.
    Recoverable VAT is not an eligible cost (CPR 64(1)(c))."""
    base = amount_excl_vat + (ZERO if vat_recoverable else vat)
    return quantize(base * allocation_percent / HUNDRED)


def eligible_computation(expense, locale: str = "fr") -> str:
    """The computation as a finance officer checks it: "(1 000,00 € + 200,00 €) × 50,00 % = 600,00 €"."""
    amount = format_money(expense.amount_excl_vat, locale)
    key = format_percent(expense.allocation_percent, locale)
    result = format_money(expense.eligible_amount, locale)
    if expense.vat_recoverable or not expense.vat:
        base = amount
    else:
        base = f"({amount} + {format_money(expense.vat, locale)})"
    return f"{base} × {key} = {result}"


# ---- input and rules


@dataclass
class ExpenseData:
    """What a user (form, file row, API call) submits for one expense."""

    incurred_on: date | None = None
    paid_on: date | None = None
    supplier_name: str | None = None
    supplier_siret: str | None = None
    document_number: str | None = None
    label: str | None = None
    category: str | None = None
    amount_excl_vat: Decimal | None = None
    vat: Decimal | None = ZERO
    vat_recoverable: bool = False
    allocation_percent: Decimal | None = HUNDRED
    credit_note_of_id: int | None = None

    @property
    def supplier_key(self) -> str:
        return supplier_key(self.supplier_name or "", self.supplier_siret)

    @property
    def document_key(self) -> str:
        return document_key(self.document_number or "")

    @property
    def eligible_amount(self) -> Decimal:
        return eligible_amount(self.amount_excl_vat, self.vat or ZERO, self.vat_recoverable, self.allocation_percent)


@dataclass
class FieldProblem:
    field: str | None
    message: str


def expense_categories(operation: Operation) -> list[str]:
    """Categories an expense may carry: in the operation's current plan, not covered by a
    chosen flat rate (Décret art. 8-II: a covered category's real costs are not declared),
    and not PERSONNEL (entered through staff costs)."""
    plan = operation.current_plan
    if plan is None:
        return []
    covered = set(NOT_AN_EXPENSE_CATEGORY)
    for rate in plan.flat_rates:
        covered.update(COVERED_CATEGORIES.get(rate.code, ()))
    planned = {cost.category for cost in plan.costs}
    return [code for code in COST_CATEGORIES if code in planned and code not in covered]


@lru_cache(maxsize=256)
def category_from_text(text: str | None) -> str | None:
    """A category code, or its French label, matched loosely."""
    if not text:
        return None
    folded = " ".join(_fold(text).split())
    for code, label in COST_CATEGORIES.items():
        if folded in (code.casefold(), " ".join(_fold(label).split())):
            return code
    return None


class ExpenseRules:
    """The rules of one operation, loaded once and applied to any number of lines."""

    def __init__(self, operation: Operation):
        self.operation = operation
        self.categories = expense_categories(operation)
        plan = operation.current_plan
        self.planned = {cost.category for cost in plan.costs} if plan else set()
        self.covered = {
            category for rate in (plan.flat_rates if plan else ()) for category in COVERED_CATEGORIES.get(rate.code, ())
        }

    def check(self, data: ExpenseData) -> list[FieldProblem]:
        problems: list[FieldProblem] = []

        def fail(name, message, **values):
            problems.append(FieldProblem(name, translate(message, **values)))

        operation = self.operation
        start, end = operation.start_date, operation.end_date
        # Décret art. 4: costs incurred AND paid within the eligibility period.
        for name, value in (("incurred_on", data.incurred_on), ("paid_on", data.paid_on)):
            if value is None:
                fail(name, N_("date obligatoire"))
            elif not start <= value <= end:
                fail(
                    name,
                    N_("le %(day)s est hors de la période d'éligibilité de l'opération (du %(start)s au %(end)s)"),
                    day=value.strftime("%d/%m/%Y"),
                    start=start.strftime("%d/%m/%Y"),
                    end=end.strftime("%d/%m/%Y"),
                )
        for name, value, length in (
            ("supplier_name", data.supplier_name, 255),
            ("document_number", data.document_number, 64),
            ("label", data.label, 500),
        ):
            if not (value or "").strip():
                fail(name, N_("valeur obligatoire"))
            elif len(value) > length:
                fail(name, N_("texte trop long (%(max)s caractères au plus)"), max=length)
        if data.document_number and not data.document_key:
            fail("document_number", N_("le n° de pièce doit contenir au moins une lettre ou un chiffre"))
        if data.supplier_siret and not siret_is_valid(data.supplier_siret):
            fail("supplier_siret", N_("SIRET invalide : 14 chiffres avec une clé de contrôle exacte"))
        self._check_category(data, fail)
        self._check_amounts(data, fail)
        return problems

    def _check_category(self, data, fail):
        code = data.category
        if not code:
            fail("category", N_("catégorie obligatoire"))
        elif code not in COST_CATEGORIES:
            fail("category", N_("catégorie inconnue « %(value)s »"), value=code)
        elif code in NOT_AN_EXPENSE_CATEGORY:
            fail("category", N_("les frais de personnel se saisissent en coûts de personnel (fiches de temps), pas en dépenses"))
        elif self.operation.current_plan is None:
            fail("category", N_("l'opération n'a pas de plan de financement"))
        elif code in self.covered:
            fail(
                "category",
                N_("la catégorie %(code)s est couverte par un taux forfaitaire du plan : ses coûts réels ne se déclarent pas"),
                code=code,
            )
        elif code not in self.planned:
            fail("category", N_("la catégorie %(code)s n'est pas prévue au plan de financement de l'opération"), code=code)

    def _check_amounts(self, data, fail):
        amount, vat, key = data.amount_excl_vat, data.vat, data.allocation_percent
        if amount is None:
            fail("amount_excl_vat", N_("montant obligatoire"))
        if vat is None:
            fail("vat", N_("montant obligatoire"))
        if key is None:
            fail("allocation_percent", N_("clé d'affectation obligatoire"))
        elif not ZERO < key <= HUNDRED:
            fail("allocation_percent", N_("la clé d'affectation doit être comprise entre 0 (exclu) et 100 %"))
        if amount is None or vat is None:
            return
        if data.credit_note_of_id is None:
            if amount < 0:
                fail("amount_excl_vat", N_("montant négatif : seul un avoir, rattaché à la dépense qu'il réduit, peut l'être"))
            if vat < 0:
                fail("vat", N_("TVA négative : seul un avoir, rattaché à la dépense qu'il réduit, peut l'être"))
        else:
            # A credit note (avoir) reduces the expense it names: its amounts are negative.
            if amount >= 0 and not (amount == 0 and vat < 0):
                fail("amount_excl_vat", N_("un avoir a un montant négatif"))
            if vat > 0:
                fail("vat", N_("la TVA d'un avoir est négative ou nulle"))
            original = db.session.get(Expense, data.credit_note_of_id)
            if original is None or original.operation_id != self.operation.id or original.deleted_at is not None:
                fail("credit_note_of", N_("la dépense réduite par l'avoir n'existe pas dans cette opération"))
            elif original.credit_note_of_id is not None:
                fail("credit_note_of", N_("un avoir réduit une dépense, pas un autre avoir"))


# ---- duplicates and double funding


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
    double_funding: str | None = None  # translated error
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
                if (
                    result.already_recorded is None
                    and known.operation_id == self.operation.id
                    and known.file_line is None
                    and known.incurred_on == data.incurred_on
                    and known.amount_excl_vat == data.amount_excl_vat
                    and known.vat == data.vat
                    and known.category == data.category
                    and known.allocation_percent == data.allocation_percent
                ):
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
            result.double_funding = translate(
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


def _percent_text(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text.replace(".", ",")


# ---- changes


class ExpenseLocked(Exception):
    """The line belongs to a claim that is no longer a draft; ``str()`` names the claim."""


class ExpenseConflict(Exception):
    """Someone else changed the line since the form was opened."""


class ExpenseInvalid(Exception):
    def __init__(self, problems: list[FieldProblem]):
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = problems


def locking_claim(expense: Expense) -> Claim | None:
    if expense.claim_id is None:
        return None
    claim = db.session.get(Claim, expense.claim_id)
    return claim if claim is not None and claim.state != "draft" else None


def ensure_changeable(expense: Expense) -> None:
    claim = locking_claim(expense)
    if claim is not None:
        raise ExpenseLocked(
            translate(
                N_("Cette dépense fait partie de la demande de paiement n° %(number)s (%(state)s) : elle ne peut plus être modifiée."),
                number=claim.number,
                state=translate(CLAIM_STATES.get(claim.state, claim.state)),
            )
        )
    if expense.deleted_at is not None:
        raise ExpenseLocked(translate(N_("Cette dépense a été supprimée : elle ne peut plus être modifiée.")))


def validate_expense(operation: Operation, data: ExpenseData, expense: Expense | None = None, rules=None, finder=None):
    """Every rule for one line: field problems, then duplicates (double funding is an error).
    Returns (problems, duplicate_check)."""
    rules = rules or ExpenseRules(operation)
    problems = rules.check(data)
    duplicates = DuplicateCheck()
    if not any(problem.field in ("supplier_name", "document_number", "amount_excl_vat", "vat") for problem in problems):
        finder = finder or DuplicateFinder(operation)
        duplicates = finder.check(data, exclude_id=expense.id if expense is not None else None)
        if duplicates.double_funding:
            problems.append(FieldProblem("allocation_percent", duplicates.double_funding))
    return problems, duplicates


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
        "amount_excl_vat": data.amount_excl_vat,
        "vat": data.vat,
        "vat_recoverable": bool(data.vat_recoverable),
        "allocation_percent": data.allocation_percent,
        "eligible_amount": data.eligible_amount,
        "credit_note_of_id": data.credit_note_of_id,
    }


def _apply(expense: Expense, data: ExpenseData) -> None:
    for key, value in _values(data).items():
        setattr(expense, key, value)


def create_expense(operation: Operation, data: ExpenseData, user=None, checked: bool = False) -> Expense:
    """Record a line; raises ExpenseInvalid. ``checked`` when the caller just validated it."""
    if not checked:
        problems, _ = validate_expense(operation, data)
        if problems:
            raise ExpenseInvalid(problems)
    expense = Expense(operation_id=operation.id, created_by_id=getattr(user, "id", None))
    _apply(expense, data)
    expense.is_complete = False
    db.session.add(expense)
    return expense


def create_expenses(operation: Operation, lines: list[ExpenseData], user=None) -> list[int]:
    """Record many checked lines at once (imports): one multi-row INSERT and one for their
    audit entries, the same entries the ORM would write line by line. Returns the ids."""
    from ..audit.models import AuditEntry
    from ..audit.services import current_actor, json_value

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
    ids = db.session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars().all()
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
    db.session.execute(insert(AuditEntry.__table__), entries)
    return ids


def update_expense(expense: Expense, data: ExpenseData, version: int | None) -> Expense:
    """Change a line opened at ``version``; raises ExpenseConflict, ExpenseLocked, ExpenseInvalid."""
    ensure_changeable(expense)
    if version is not None and version != expense.version:
        raise ExpenseConflict()
    problems, _ = validate_expense(expense.operation, data, expense)
    if problems:
        raise ExpenseInvalid(problems)
    _apply(expense, data)
    refresh_completeness(expense)
    db.session.flush()  # the version column guards the UPDATE (StaleDataError on a race)
    return expense


def delete_expense(expense: Expense, reason: str, user=None) -> None:
    """Soft delete: the line stays for the audit trail, out of lists, totals and claims."""
    ensure_changeable(expense)
    reason = (reason or "").strip()
    if not reason:
        raise ExpenseInvalid([FieldProblem("reason", translate(N_("Indiquez le motif de la suppression.")))])
    expense.deleted_at = datetime.now(timezone.utc)
    expense.deleted_by_id = getattr(user, "id", None)
    expense.delete_reason = reason[:2000]
    db.session.flush()


def refresh_completeness(expense: Expense) -> None:
    """Complete = paid (payment date) with an invoice and a proof of payment attached."""
    kinds = {document.kind for document in expense.documents}
    expense.is_complete = expense.paid_on is not None and all(kind in kinds for kind in REQUIRED_DOCUMENTS)


def add_document(expense: Expense, kind: str, filename: str, data: bytes, user=None):
    """Check, store and attach a file. Returns (document, other documents with the same
    content anywhere in the application)."""
    ensure_changeable(expense)
    if kind not in ("invoice", "payment", "other"):
        kind = "other"
    content_type, sha256 = check_document(filename, data)
    same_file = db.session.scalars(select(SupportingDocument).where(SupportingDocument.sha256 == sha256)).all()
    stored_name = store_file(data, content_type)
    document = SupportingDocument(
        kind=kind,
        original_name=safe_filename(filename),
        stored_name=stored_name,
        content_type=content_type,
        size=len(data),
        sha256=sha256,
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

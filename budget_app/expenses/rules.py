"""The rules of an expense line, one path for the form, the import and any later API:
what a user submits (``ExpenseData``), the checks of one operation (``ExpenseRules``), the
eligible amount and its computation, and the keys that tell two suppliers or two
documents apart. Decimal only; the eligible amount is rounded half-up once.
"""
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from ..kernel.errors import DomainError, Problem
from ..kernel.extensions import db
from ..kernel.formatting import format_money, format_percent
from ..kernel.i18n import N_
from ..kernel.money import quantize
from ..kernel.siret import siret_is_valid
from ..operations.flat_rates import COVERED_CATEGORIES
from ..operations.models import COST_CATEGORIES, Operation
from .models import Expense

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


# ---- amounts


def eligible_amount(amount_excl_vat: Decimal, vat: Decimal, vat_recoverable: bool, allocation_percent: Decimal) -> Decimal:
    """(amount excl. VAT + VAT when not recoverable) × allocation key, half-up to the cent once.
    Recoverable VAT is not an eligible cost (CPR 64(1)(c))."""
    base = amount_excl_vat + (ZERO if vat_recoverable else vat)
    return quantize(base * allocation_percent / HUNDRED)


def eligible_computation(expense, locale: str | None = None) -> str:
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

    def check(self, data: ExpenseData) -> list[Problem]:
        problems: list[Problem] = []

        def fail(name, message, **values):
            problems.append(Problem(DomainError(message, **values), field=name))

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

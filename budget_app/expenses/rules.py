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

from ..kernel.errors import DomainError, Problem, label_value
from ..kernel.extensions import db
from ..kernel.formatting import format_money
from ..kernel.i18n import N_
from ..kernel.money import HUNDRED, ZERO
from ..kernel.siret import siret_is_valid
from sqlalchemy import func, select

from ..operations.flat_rates import covered_parts, is_covered
from ..operations.models import COST_CATEGORIES, PARTICIPANT_SUBCATEGORIES, Operation
from ..operations.plans import payment_deadline, vat_prorata_by_year
from .amounts import eligible_amount, eligible_computation  # noqa: F401  (callers read both from the rules)
from .models import Expense

# Staff costs are entered as person-months (timesheets or fixed share, CPR 55), never as
# invoices: PERSONNEL is not an expense category, whatever the plan says.
NOT_AN_EXPENSE_CATEGORY = frozenset({"PERSONNEL"})

# Documents a line needs before it can be claimed (Décret art. 7: invoice or equivalent,
# and proof of payment).
REQUIRED_DOCUMENTS = ("invoice", "payment")

EXPENSE_STATES = {
    "draft": N_("Complète"),  # the same word as on the expense page
    "incomplete": N_("Incomplète"),
    "claimed": N_("Dans un bilan"),
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
    "subcategory",
    "amount_excl_vat",
    "vat",
    "vat_recoverable",
    "vat_partly_recoverable",
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


@lru_cache(maxsize=65_536)  # an import asks for each row's key several times
def supplier_key(name: str, siret: str | None) -> str:
    """The SIRET when known, else the normalised name (casefolded, no accents, punctuation
    or legal form): "Bureau Vallée SARL" and "BUREAU-VALLEE" are the same supplier."""
    if siret:
        return f"siret:{siret}"
    return f"nom:{normalise_supplier_name(name)}"[:255]


_NOT_DOCUMENT_KEY = re.compile(r"[^0-9A-Z]")


@lru_cache(maxsize=65_536)
def document_key(number: str) -> str:
    """Letters and digits only, upper case, leading zeros dropped: "FA-2023/0012" and
    "fa 2023 0012" are the same document."""
    key = _NOT_DOCUMENT_KEY.sub("", _fold(number).upper())
    return (key.lstrip("0") or key)[:64]


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
    subcategory: str | None = None  # PARTICIPANTS only (PARTICIPANT_SUBCATEGORIES)
    amount_excl_vat: Decimal | None = None
    vat: Decimal | None = ZERO
    vat_recoverable: bool = False
    vat_partly_recoverable: bool = False
    # The pro-rata applied (partly recoverable VAT), set by ``ExpenseRules.check``.
    vat_prorata: Decimal | None = None
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
        prorata = self.vat_prorata if self.vat_partly_recoverable else None
        return eligible_amount(self.amount_excl_vat, self.vat or ZERO, self.vat_recoverable, self.allocation_percent,
                               prorata)


def _rates(operation: Operation) -> list[str]:
    plan = operation.current_plan
    return [rate.code for rate in plan.flat_rates] if plan else []


def expense_categories(operation: Operation) -> list[str]:
    """Categories an expense may carry: in the operation's current plan, not covered by a
    chosen flat rate (Décret art. 8-II: a covered category's real costs are not declared;
    a partly covered one, PARTICIPANTS under RESTANTS_40, stays for its declared part),
    and not PERSONNEL (entered through staff costs)."""
    plan = operation.current_plan
    if plan is None:
        return []
    rates = _rates(operation)
    parts = covered_parts(rates)
    planned = {cost.category for cost in plan.costs}
    return [
        code for code in COST_CATEGORIES
        if code in planned and code not in NOT_AN_EXPENSE_CATEGORY
        and (code in parts or not is_covered(rates, code))
    ]


def no_expense_reason(operation: Operation) -> DomainError | None:
    """Why no real cost can be entered on ``operation`` (no plan, or a plan whose flat
    rates cover every non-staff cost), or None when at least one category is open."""
    if expense_categories(operation):
        return None
    if operation.current_plan is None:
        return DomainError(N_("L'opération %(code)s n'a pas encore de plan de financement : aucune dépense ne peut y être saisie."),
                           code=operation.code)
    return DomainError(
        N_("Le plan de financement de %(code)s ne prévoit aucune dépense réelle hors personnel : ses autres coûts "
           "sont couverts par son taux forfaitaire. Il n'y a donc pas de dépense à saisir ici : saisissez "
           "le personnel et ses fiches de temps, le forfait est calculé dans les bilans."),
        code=operation.code,
    )


@lru_cache(maxsize=64)
def subcategory_from_text(text: str | None) -> str | None:
    """A participants' sub-category code, or its French label, matched loosely."""
    if not text:
        return None
    folded = " ".join(_fold(text).split())
    for code, label in PARTICIPANT_SUBCATEGORIES.items():
        if folded in (code.casefold(), " ".join(_fold(label).split())):
            return code
    return None


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
        self.rates = _rates(operation)
        self.parts = covered_parts(self.rates)
        self.deadline = payment_deadline(operation)
        # Original line id -> (HT, TVA, eligible) of the same file's credit notes (``remember_credit``).
        self.pending_credit: dict = {}
        self.vat_prorata = vat_prorata_by_year(operation)

    def remember_credit(self, data: "ExpenseData") -> None:
        if data.credit_note_of_id is not None:
            amount, vat, eligible = self.pending_credit.get(data.credit_note_of_id, (ZERO, ZERO, ZERO))
            self.pending_credit[data.credit_note_of_id] = (amount + data.amount_excl_vat, vat + data.vat,
                                                           eligible + data.eligible_amount)

    def check(self, data: ExpenseData, editing_id: int | None = None) -> list[Problem]:
        """Every rule for one line. A credit note first takes its original line's terms
        (``credit_note_terms``): ``data`` is changed in place. ``editing_id``: the line
        being changed, if any."""
        problems: list[Problem] = []

        def fail(name, message, **values):
            problems.append(Problem(DomainError(message, **values), field=name))

        original = None
        if data.credit_note_of_id is not None:
            original = credit_note_terms(self.operation, data)
            if original is None:
                fail("credit_note_of", N_("la dépense réduite par l'avoir n'existe pas dans cette opération"))
            elif original.credit_note_of_id is not None:
                fail("credit_note_of", N_("un avoir réduit une dépense, pas un autre avoir"))
                original = None
        operation = self.operation
        start, end = operation.start_date, operation.end_date
        # Décret art. 4: costs incurred within the realisation period, and paid by the
        # payment deadline (primer §9: end date + 6 months by default, so December salaries
        # paid in January count).
        if data.incurred_on is None:
            fail("incurred_on", N_("date obligatoire"))
        elif not start <= data.incurred_on <= end:
            fail(
                "incurred_on",
                N_("le %(day)s est hors de la période d'éligibilité de l'opération (du %(start)s au %(end)s)"),
                day=data.incurred_on,
                start=start,
                end=end,
            )
        if data.paid_on is None:
            fail("paid_on", N_("date obligatoire"))
        elif not start <= data.paid_on <= self.deadline:
            fail(
                "paid_on",
                N_("le %(day)s est hors de la période d'acquittement de l'opération (du %(start)s au %(deadline)s, date limite d'acquittement)"),
                day=data.paid_on,
                start=start,
                deadline=self.deadline,
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
        self._check_vat_treatment(data, fail, original)
        self._check_amounts(data, fail, original, editing_id)
        return problems

    def _check_vat_treatment(self, data, fail, original):
        """Partial VAT: the pro-rata of the invoice's year (a credit note keeps its original's)."""
        if not data.vat_partly_recoverable:
            data.vat_prorata = None
            return
        if data.vat_recoverable:
            fail("vat_partly_recoverable", N_("la TVA est soit récupérable, soit partiellement récupérable (prorata), pas les deux"))
        elif original is not None:
            data.vat_prorata = original.vat_prorata
        elif data.incurred_on is not None:
            data.vat_prorata = self.vat_prorata.get(data.incurred_on.year)
            if data.vat_prorata is None:
                fail("vat_partly_recoverable",
                     N_("aucun prorata de TVA n'est enregistré pour %(year)s sur l'opération %(code)s : enregistrez-le d'abord (page « Prorata de TVA » des dépenses)"),
                     year=data.incurred_on.year, code=self.operation.code)

    def _check_category(self, data, fail):
        code = data.category
        if data.subcategory is not None and data.subcategory not in PARTICIPANT_SUBCATEGORIES:
            fail("subcategory", N_("sous-catégorie inconnue « %(value)s »"), value=data.subcategory)
            return
        if not code:
            fail("category", N_("catégorie obligatoire"))
        elif code not in COST_CATEGORIES:
            fail("category", N_("catégorie inconnue « %(value)s »"), value=code)
        elif code in NOT_AN_EXPENSE_CATEGORY:
            fail("category", N_("les frais de personnel se saisissent en coûts de personnel (fiches de temps), pas en dépenses"))
        elif self.operation.current_plan is None:
            fail("category", N_("l'opération n'a pas de plan de financement"))
        elif code not in self.parts and is_covered(self.rates, code):
            fail(
                "category",
                N_("la catégorie %(code)s est couverte par un taux forfaitaire du plan : ses coûts réels ne se déclarent pas"),
                code=label_value(COST_CATEGORIES, code),
            )
        elif code not in self.planned:
            fail("category", N_("la catégorie %(code)s n'est pas prévue au plan de financement de l'opération"), code=label_value(COST_CATEGORIES, code))
        elif code != "PARTICIPANTS" and data.subcategory is not None:
            fail("subcategory", N_("la sous-catégorie ne s'indique que pour les dépenses liées aux participants"))
        elif code == "PARTICIPANTS" and data.subcategory is None:
            fail("subcategory", N_("précisez s'il s'agit de rémunérations et indemnités des participants ou d'autres dépenses liées aux participants"))
        elif is_covered(self.rates, code, data.subcategory):
            fail(
                "subcategory",
                N_("seules les rémunérations et indemnités des participants se déclarent en plus du taux forfaitaire des coûts restants (40 %, RPDC 56(2)) ; les autres dépenses liées aux participants sont couvertes par ce taux"),
            )

    def _check_amounts(self, data, fail, original=None, editing_id=None):
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
            if original is not None and amount <= 0 and vat <= 0 and key is not None:
                _check_remaining(original, data, editing_id, fail, self.pending_credit.get(original.id))


# ---- credit notes (avoirs), primer §9


def credit_note_terms(operation: Operation, data: ExpenseData) -> Expense | None:
    """A credit note reduces the line it names with that line's terms: same category and
    sub-category, allocation key and VAT treatment (primer §9), whatever was typed.
    Returns the original line (None when it is not a live line of the operation)."""
    original = db.session.get(Expense, data.credit_note_of_id)
    if original is None or original.operation_id != operation.id or original.deleted_at is not None:
        return None
    data.category = original.category
    data.subcategory = original.subcategory
    data.allocation_percent = original.allocation_percent
    data.vat_recoverable = original.vat_recoverable
    data.vat_partly_recoverable = original.vat_partly_recoverable
    return original


def _check_remaining(original: Expense, data: ExpenseData, editing_id, fail, pending=None) -> None:
    """A credit note never takes a line below zero: with the other credit notes on it, it
    reduces at most what remains of the line (amount excl. VAT, VAT, eligible amount)."""
    query = select(
        func.coalesce(func.sum(Expense.amount_excl_vat), 0), func.coalesce(func.sum(Expense.vat), 0),
        func.coalesce(func.sum(Expense.eligible_amount), 0),
    ).where(Expense.credit_note_of_id == original.id, Expense.deleted_at.is_(None))
    if editing_id is not None:
        query = query.where(Expense.id != editing_id)
    noted_amount, noted_vat, noted_eligible = (Decimal(value) for value in db.session.execute(query).one())
    if pending is not None:  # the credit notes on it earlier in the same file
        noted_amount, noted_vat, noted_eligible = (noted_amount + pending[0], noted_vat + pending[1],
                                                   noted_eligible + pending[2])
    remaining = original.amount_excl_vat + noted_amount
    remaining_vat = original.vat + noted_vat
    remaining_eligible = original.eligible_amount + noted_eligible
    if (remaining + data.amount_excl_vat < 0 or remaining_vat + data.vat < 0
            or remaining_eligible + data.eligible_amount < 0):
        fail(
            "amount_excl_vat",
            N_("l'avoir (%(amount)s HT, TVA %(vat)s) dépasse ce qui reste de la dépense n° %(number)s (%(remaining)s HT, TVA %(remaining_vat)s)"),
            amount=format_money(data.amount_excl_vat), vat=format_money(data.vat), number=original.id,
            remaining=format_money(remaining), remaining_vat=format_money(remaining_vat),
        )

"""The rules of an operation and its financing plan: one place for the form, the file
load and the CLI. Each check returns every problem found, naming its field
(``plan.costs[2].amount``: lines numbered from 1, as in the file); nothing is written.

Rules (FSE+ primer §1-3):
- start before end;
- resources total = costs total (flat-rate amounts included), to the cent;
- FSE+ agreed = rate x total eligible cost to the cent, unless the agreement fixes the
  amount (``fse_amount_fixed``): the rate used is then FSE+ / total (primer §1, §9);
- no advance for collectivités, OPCOs and State operators unless the agreement says so
  (``advance_override`` with a reason, primer §8);
- the payment deadline is on or after the end date (primer §9);
- a flat rate at most its ceiling, and only allowed combinations (CPR 54-56, flat_rates.py);
- a category covered by a flat rate carries no real costs (Décret art. 8-II);
- in-kind contributions equal in costs and resources;
- an envelope's programmed FSE+ never exceeds the envelope (services.check_envelope_room).
"""
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ..kernel.errors import DomainError, ForReader, Problem, label_value
from ..kernel.formatting import format_money, format_number
from ..kernel.i18n import N_
from ..kernel.money import HUNDRED, ZERO
from ..kernel.siret import siret_is_valid
from .flat_rates import COVERED_CATEGORIES, check_flat_rate_choice
from .models import (
    ADVANCE_RECOVERY,
    COST_CATEGORIES,
    FLAT_RATES,
    HOURS_DIVISORS,
    NO_ADVANCE_KINDS,
    OPERATION_STATUSES,
    ORGANISATION_KINDS,
    RESOURCE_KINDS,
)
from .plans import compute_plan
from . import field_labels  # noqa: F401  (registers what a page shows for these paths)

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")


def problem(path: str, message: str, **values) -> Problem:
    return Problem(DomainError(message, **values), field=path)


@dataclass
class OrganisationInput:
    name: str
    kind: str
    siret: str | None = None
    address: str | None = None


@dataclass
class EnvelopeInput:
    code: str
    name: str
    start_date: date
    end_date: date
    fse_amount: Decimal
    organisation: OrganisationInput


@dataclass
class OperationInput:
    code: str
    title: str
    start_date: date
    end_date: date
    fse_rate: Decimal  # percent
    fse_amount: Decimal
    service: str | None = None
    advance_rate: Decimal = Decimal("0")
    hours_divisor: int = 1720
    status: str = "programmed"
    last_payment_date: date | None = None
    fse_amount_fixed: bool = False  # the agreement fixes the amount: rate used = FSE+ / total
    advance_override: bool = False  # an advance although the beneficiary's kind gets none
    advance_override_reason: str | None = None
    advance_recovery: str = "interim"  # interim | final
    payment_deadline: date | None = None  # None: end date + 6 months
    salary_pay_delay: int = 0  # days after the month's end when salaries are paid (primer §9)
    csf_sample_percent: Decimal | None = None  # None: exhaustive service-done check (primer §8)
    csf_extrapolation: bool = False  # the agreement extrapolates a sample's error rate


@dataclass
class CostLine:
    category: str
    year: int
    amount: Decimal


@dataclass
class FlatRateLine:
    code: str
    rate: Decimal


@dataclass
class ResourceLine:
    kind: str
    name: str
    amount: Decimal


@dataclass
class PlanInput:
    costs: list = field(default_factory=list)
    flat_rates: list = field(default_factory=list)
    resources: list = field(default_factory=list)
    amendment_number: str | None = None
    signed_on: date | None = None
    reason: str | None = None


def check_organisation(org: OrganisationInput, prefix="organisation"):
    errors = []
    if not (org.name or "").strip():
        errors.append(problem(f"{prefix}.name", N_("nom obligatoire")))
    elif len(org.name) > 255:
        errors.append(problem(f"{prefix}.name", N_("255 caractères au plus")))
    if org.kind not in ORGANISATION_KINDS:
        errors.append(
            problem(f"{prefix}.kind", N_("type inconnu (valeurs : %(values)s)"), values=", ".join(ORGANISATION_KINDS))
        )
    if org.siret is not None and not siret_is_valid(org.siret):
        errors.append(problem(f"{prefix}.siret", N_("SIRET invalide (14 chiffres, clé de Luhn)")))
    return errors


def check_operation(op: OperationInput):
    errors = []
    if not CODE_PATTERN.match(op.code or ""):
        errors.append(problem("operation.code", N_("code invalide (lettres, chiffres, . _ -, 32 caractères au plus)")))
    if not (op.title or "").strip():
        errors.append(problem("operation.title", N_("intitulé obligatoire")))
    elif len(op.title) > 500:
        errors.append(problem("operation.title", N_("500 caractères au plus")))
    if op.service and len(op.service) > 255:
        errors.append(problem("operation.service", N_("255 caractères au plus")))
    if op.start_date and op.end_date and op.start_date >= op.end_date:
        errors.append(problem("operation.end_date", N_("la date de fin doit être postérieure à la date de début")))
    if not (ZERO < op.fse_rate <= HUNDRED):
        errors.append(problem("operation.fse_rate", N_("le taux FSE+ doit être compris entre 0 (exclu) et 100 %")))
    if op.fse_amount < 0:
        errors.append(problem("operation.fse_amount", N_("montant négatif")))
    if not (ZERO <= op.advance_rate <= HUNDRED):
        errors.append(problem("operation.advance_rate", N_("le taux d'avance doit être compris entre 0 et 100 %")))
    if op.hours_divisor not in HOURS_DIVISORS:
        errors.append(problem("operation.hours_divisor", N_("diviseur horaire annuel : 1720 ou 1607")))
    if not 0 <= op.salary_pay_delay <= 60:
        errors.append(problem("operation.salary_pay_delay",
                              N_("jours entre la fin du mois et la paie : un nombre entier de 0 à 60")))
    if op.advance_recovery not in ADVANCE_RECOVERY:
        errors.append(problem("operation.advance_recovery", N_("valeur inconnue (valeurs : %(values)s)"),
                              values=", ".join(ADVANCE_RECOVERY)))
    if op.advance_override and not (op.advance_override_reason or "").strip():
        errors.append(problem("operation.advance_override_reason",
                              N_("motif obligatoire : la clause de la convention qui prévoit l'avance")))
    if op.csf_sample_percent is not None and not (ZERO < op.csf_sample_percent <= HUNDRED):
        errors.append(problem("operation.csf_sample_percent", N_("le taux d'échantillonnage doit être compris entre 0 (exclu) et 100 %")))
    if op.csf_extrapolation and op.csf_sample_percent is None:
        errors.append(problem("operation.csf_extrapolation", N_("l'extrapolation suppose un contrôle par échantillon : indiquez son taux")))
    if op.payment_deadline and op.end_date and op.payment_deadline < op.end_date:
        errors.append(problem("operation.payment_deadline",
                              N_("la date limite d'acquittement ne peut précéder la fin de l'opération (%(end)s)"),
                              end=op.end_date))
    if op.status not in OPERATION_STATUSES:
        errors.append(
            problem("operation.status", N_("statut inconnu (valeurs : %(values)s)"), values=", ".join(OPERATION_STATUSES))
        )
    return errors


def check_plan(op: OperationInput, plan: PlanInput, units=()):
    """Every rule of the financing plan; returns [(path, message)] (empty when valid).
    Paths number lines from 1, as in the file (plan.costs[1] is the first cost line).
    ``units``: the unit costs and lump sums an amendment carries (``plans.compute_plan``)."""
    errors = []
    years = range(op.start_date.year, op.end_date.year + 1) if op.start_date and op.end_date else None
    seen = {}
    if not plan.costs:
        errors.append(problem("plan.costs", N_("au moins une ligne de dépenses est nécessaire")))
    for index, line in enumerate(plan.costs, start=1):
        path = f"plan.costs[{index}]"
        if line.category not in COST_CATEGORIES:
            errors.append(
                problem(f"{path}.category", N_("catégorie inconnue (valeurs : %(values)s)"), values=", ".join(COST_CATEGORIES))
            )
        if years is not None and line.year not in years:
            errors.append(
                problem(f"{path}.year", N_("l'année doit être comprise dans la période de l'opération (%(first)s-%(last)s)"),
                                    first=years.start, last=years.stop - 1)
            )
        if line.amount < 0:
            errors.append(problem(f"{path}.amount", N_("montant négatif")))
        key = (line.category, line.year)
        if key in seen:
            errors.append(
                problem(f"{path}.year", N_("la catégorie %(category)s a déjà un montant pour %(year)s (ligne %(line)s)"),
                                    category=label_value(COST_CATEGORIES, line.category), year=line.year, line=seen[key])
            )
        seen[key] = index

    rates = {}
    for index, line in enumerate(plan.flat_rates, start=1):
        path = f"plan.flat_rates[{index}]"
        if line.code not in FLAT_RATES:
            errors.append(problem(f"{path}.code", N_("taux forfaitaire inconnu (valeurs : %(values)s)"), values=", ".join(FLAT_RATES)))
            continue
        if line.code in rates:
            errors.append(problem(f"{path}.code", N_("taux %(code)s choisi deux fois"), code=label_value(FLAT_RATES, line.code)))
            continue
        try:
            check_flat_rate_choice({line.code: line.rate})
        except DomainError as exc:
            errors.append(problem(f"{path}.rate", exc.message, **exc.values))
            continue
        rates[line.code] = line.rate
    try:
        check_flat_rate_choice(rates)
    except DomainError as exc:
        errors.append(problem("plan.flat_rates", exc.message, **exc.values))

    # Décret art. 8-II: a category covered by a flat rate is not declared at real cost.
    for code in rates:
        for index, line in enumerate(plan.costs, start=1):
            if line.category in COVERED_CATEGORIES.get(code, ()) and line.amount:
                errors.append(
                    problem(f"plan.costs[{index}].category", N_("la catégorie %(category)s est couverte par le taux forfaitaire %(code)s : pas de dépenses réelles"),
                        category=label_value(COST_CATEGORIES, line.category), code=label_value(FLAT_RATES, code))
                )

    if not plan.resources:
        errors.append(problem("plan.resources", N_("au moins une ressource est nécessaire")))
    for index, line in enumerate(plan.resources, start=1):
        path = f"plan.resources[{index}]"
        if line.kind not in RESOURCE_KINDS:
            errors.append(problem(f"{path}.kind", N_("type de ressource inconnu (valeurs : %(values)s)"), values=", ".join(RESOURCE_KINDS)))
        if not (line.name or "").strip():
            errors.append(problem(f"{path}.name", N_("nom obligatoire")))
        elif len(line.name) > 255:
            errors.append(problem(f"{path}.name", N_("255 caractères au plus")))
        if line.amount < 0:
            errors.append(problem(f"{path}.amount", N_("montant négatif")))
    if errors:
        return errors

    figures = compute_plan(
        [(c.category, c.year, c.amount) for c in plan.costs],
        rates,
        [(r.kind, r.name, r.amount) for r in plan.resources],
        op.fse_rate,
        op.fse_amount,
        units=units,
    )
    if not figures.balanced:
        errors.append(
            problem("plan.resources", N_("total des ressources (%(resources)s) différent du coût total (%(total)s) : écart %(gap)s"),
                resources=format_money(figures.resources_total), total=format_money(figures.total_cost),
                gap=format_money(figures.resources_total - figures.total_cost))
        )
    if figures.in_kind_costs != figures.in_kind_resources:
        errors.append(
            problem("plan.resources", N_("les contributions en nature doivent figurer à égalité en dépenses (%(costs)s) et en ressources (%(resources)s)"),
                costs=format_money(figures.in_kind_costs), resources=format_money(figures.in_kind_resources))
        )
    if figures.fse_resource != op.fse_amount:
        errors.append(
            problem("plan.resources", N_("la ressource FSE+ (%(resource)s) doit être égale au montant FSE+ conventionné (%(agreed)s)"),
                resource=format_money(figures.fse_resource), agreed=format_money(op.fse_amount))
        )
    # Primer §1, §9: the rate is FSE+ / total. An amount that is not rate × total to the cent
    # is a typing error, unless the agreement fixes it; then the rate used is amount / total.
    if op.fse_amount_fixed:
        if figures.total_cost and op.fse_amount > figures.total_cost:
            errors.append(
                problem("operation.fse_amount", N_("le FSE+ (%(amount)s) dépasse le coût total éligible (%(total)s)"),
                        amount=format_money(op.fse_amount), total=format_money(figures.total_cost))
            )
    elif not figures.fse_is_rate_times_total:
        errors.append(
            problem("operation.fse_amount", N_("le FSE+ conventionné (%(amount)s) n'est pas le taux × coût total éligible (%(rate)s %% × %(total)s = %(max)s), écart %(gap)s ; si la convention fixe ce montant, %(how)s : le taux appliqué sera alors FSE+ / coût total (%(effective)s %%)"),
                how=ForReader(N_("cochez « La convention fixe ce montant »"), N_("indiquez fse_amount_fixed = true")),
                amount=format_money(op.fse_amount), rate=format_number(op.fse_rate, places=None), total=format_money(figures.total_cost),
                max=format_money(figures.fse_max), gap=format_money(figures.fse_amount - figures.fse_max),
                effective=format_number(figures.effective_rate, places=4))
        )
    return errors


def check_advance(kind: str | None, op: OperationInput):
    """Primer §8: no start-up advance for collectivités, OPCOs and State operators, unless
    the agreement provides one (``advance_override`` with its reason)."""
    if kind in NO_ADVANCE_KINDS and op.advance_rate and not op.advance_override:
        return [problem("operation.advance_rate", N_("pas d'avance pour un bénéficiaire de type %(kind)s (collectivité, OPCO, opérateur de l'État : fiche « La convention » du programme national FSE+, fse.gouv.fr) ; taux d'avance 0, sauf %(how)s"),
                        how=ForReader(N_("avance prévue par la convention (avec son motif)"),
                                      N_("avance prévue par la convention : advance_override = true avec son motif")),
                        kind=DomainError(ORGANISATION_KINDS[kind]))]
    return []


def check_envelope_input(env: EnvelopeInput):
    errors = []
    if env.code and not CODE_PATTERN.match(env.code):
        errors.append(problem("envelope.code", N_("code invalide « %(code)s » : lettres, chiffres, point, tiret ou "
                                                  "souligné, sans espace, 32 caractères au plus (exemple : HL-FSE-2021)"),
                              code=env.code))
    elif not env.code:
        errors.append(problem("envelope.code", N_("code obligatoire")))
    if not (env.name or "").strip():
        errors.append(problem("envelope.name", N_("nom obligatoire")))
    if env.start_date and env.end_date and env.start_date > env.end_date:
        errors.append(problem("envelope.end_date", N_("la date de fin doit être postérieure à la date de début")))
    if env.fse_amount < 0:
        errors.append(problem("envelope.fse_amount", N_("montant négatif")))
    errors += check_organisation(env.organisation, "envelope.organisation")
    return errors

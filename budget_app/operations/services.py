"""Operations, financing plans and envelopes: the rules (one place for the form, the file
load and the CLI) and the figures (pure functions over Decimal).

Services only flush; views and CLI commands commit.

Rules of a financing plan (FSE+ primer §1-3), each an error naming its field:
- start before end;
- resources total = costs total (flat-rate amounts included), to the cent;
- FSE+ agreed <= rate x total eligible cost (the cofinancing rate is FSE+ / total);
- a flat rate at most its ceiling, and only allowed combinations (CPR 54-56, flat_rates.py);
- a category covered by a flat rate carries no real costs (Décret art. 8-II);
- in-kind contributions equal in costs and resources;
- an envelope's programmed FSE+ never exceeds the envelope.
"""
import calendar
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from ..audit.services import note_for_changes, record
from ..extensions import db
from ..money import N_, cents, translate
from .flat_rates import COVERED_CATEGORIES, FlatRateError, check_flat_rate_choice, flat_rate_amounts, flat_rate_bases
from .models import (
    COST_CATEGORIES, FLAT_RATES, HOURS_DIVISORS, OPERATION_STATUSES, ORGANISATION_KINDS, RESOURCE_KINDS, Envelope,
    Operation, Organisation, PlanCost, PlanFlatRate, PlanResource, PlanVersion,
)

ZERO = Decimal("0.00")
HUNDRED = Decimal("100")
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")


class PlanError(ValueError):
    """Every problem found, as (field path, translated message); nothing was written."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("; ".join(f"{path} : {message}" for path, message in self.errors))

    def lines(self):
        return [f"{path} : {message}" if path else message for path, message in self.errors]


# ---------------------------------------------------------------- inputs


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


# ---------------------------------------------------------------- SIRET


def siret_is_valid(siret: str) -> bool:
    """14 digits with a valid Luhn key; La Poste's establishments (SIREN 356 000 000)
    follow INSEE's other rule: the sum of the digits is a multiple of 5."""
    if not siret or len(siret) != 14 or not siret.isdigit():
        return False
    if siret.startswith("356000000") and siret != "35600000000048":
        return sum(int(d) for d in siret) % 5 == 0
    total = 0
    for index, digit in enumerate(reversed(siret)):
        value = int(digit) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def normalise_siret(value) -> str | None:
    if value is None:
        return None
    text = re.sub(r"[\s.]", "", str(value))
    return text or None


# ---------------------------------------------------------------- figures (pure)


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def final_balance_deadline(end_date: date) -> date:
    """The final balance report is due at the latest 6 months after the end (primer §8)."""
    return add_months(end_date, 6)


def split_by_year(total: Decimal, per_year: dict) -> dict:
    """Amounts per year that add up to ``total``: each year rounded, the last absorbs the cent."""
    years = sorted(per_year)
    result = {}
    for year in years[:-1]:
        result[year] = cents(per_year[year])
    if years:
        result[years[-1]] = total - sum(result.values(), ZERO)
    return result


@dataclass
class PlanFigures:
    years: list
    costs: dict  # category -> {year: amount}
    category_totals: dict  # category -> amount
    year_totals: dict  # year -> direct costs
    direct_total: Decimal
    flat_rates: dict  # code -> {"rate", "base", "amount", "by_year"}
    flat_rate_amounts: dict  # code -> amount
    flat_total: Decimal
    total_cost: Decimal
    year_grand_totals: dict  # year -> direct + flat
    resources: list  # [{"kind", "name", "amount"}]
    resources_total: Decimal
    fse_rate: Decimal
    fse_amount: Decimal  # agreed
    fse_resource: Decimal
    fse_max: Decimal  # rate x total eligible cost
    fse_difference: Decimal  # fse_max - fse_amount
    in_kind_costs: Decimal
    in_kind_resources: Decimal

    @property
    def balanced(self) -> bool:
        return self.resources_total == self.total_cost

    @property
    def fse_within_rate(self) -> bool:
        return self.fse_amount <= self.fse_max

    @property
    def effective_rate(self) -> Decimal:
        if not self.total_cost:
            return ZERO
        return (self.fse_amount * HUNDRED / self.total_cost).quantize(Decimal("0.01"))

    def as_json(self, code: str, version_number: int | None = None) -> dict:
        def money(value):
            return format(cents(value), "f")

        return {
            "code": code,
            "version": version_number,
            "total_cost": money(self.total_cost),
            "direct_cost": money(self.direct_total),
            "fse_rate": money(self.fse_rate),
            "fse_amount": money(self.fse_amount),
            "fse_max": money(self.fse_max),
            "costs": {category: money(amount) for category, amount in self.category_totals.items()},
            "costs_by_year": {
                category: {str(year): money(amount) for year, amount in years.items()}
                for category, years in self.costs.items()
            },
            "flat_rates": {code_: money(amount) for code_, amount in self.flat_rate_amounts.items()},
            "resources": [
                {"name": line["name"], "kind": line["kind"], "amount": money(line["amount"])} for line in self.resources
            ],
            "resources_total": money(self.resources_total),
        }


def compute_plan(costs, rates, resources, fse_rate, fse_amount) -> PlanFigures:
    """Figures of a plan. ``costs``: iterable of (category, year, amount); ``rates``: code -> percent;
    ``resources``: iterable of (kind, name, amount)."""
    by_category: dict = {}
    for category, year, amount in costs:
        by_category.setdefault(category, {})
        by_category[category][year] = by_category[category].get(year, ZERO) + amount
    ordered = {c: dict(sorted(by_category[c].items())) for c in COST_CATEGORIES if c in by_category}
    years = sorted({year for per_year in ordered.values() for year in per_year})
    category_totals = {c: sum(per_year.values(), ZERO) for c, per_year in ordered.items()}
    year_totals = {y: sum((ordered[c].get(y, ZERO) for c in ordered), ZERO) for y in years}
    direct_total = sum(category_totals.values(), ZERO)

    amounts = flat_rate_amounts(rates, category_totals)
    bases = flat_rate_bases(rates, category_totals)
    flat = {}
    for code, amount in amounts.items():
        per_year_raw = {}
        for year in years:
            year_costs = {c: ordered[c].get(year, ZERO) for c in ordered}
            per_year_raw[year] = flat_rate_amounts(rates, year_costs)[code]
        flat[code] = {
            "rate": rates[code],
            "base": bases[code],
            "amount": amount,
            "by_year": split_by_year(amount, per_year_raw),
        }
    flat_total = sum(amounts.values(), ZERO)
    total_cost = direct_total + flat_total
    year_grand_totals = {
        y: year_totals[y] + sum((f["by_year"].get(y, ZERO) for f in flat.values()), ZERO) for y in years
    }

    lines = [{"kind": kind, "name": name, "amount": amount} for kind, name, amount in resources]
    resources_total = sum((line["amount"] for line in lines), ZERO)
    fse_resource = sum((line["amount"] for line in lines if line["kind"] == "fse"), ZERO)
    # FSE+ = rate x total eligible cost at most (CPR 2(44) "co-financing rate"; primer §1).
    fse_max = cents(total_cost * fse_rate / HUNDRED)
    return PlanFigures(
        years=years,
        costs=ordered,
        category_totals=category_totals,
        year_totals=year_totals,
        direct_total=direct_total,
        flat_rates=flat,
        flat_rate_amounts=amounts,
        flat_total=flat_total,
        total_cost=total_cost,
        year_grand_totals=year_grand_totals,
        resources=lines,
        resources_total=resources_total,
        fse_rate=fse_rate,
        fse_amount=fse_amount,
        fse_resource=fse_resource,
        fse_max=fse_max,
        fse_difference=fse_max - fse_amount,
        in_kind_costs=category_totals.get("NATURE", ZERO),
        in_kind_resources=sum((line["amount"] for line in lines if line["kind"] == "nature"), ZERO),
    )


def plan_figures(version: PlanVersion) -> PlanFigures:
    """Costs by category x year, flat-rate amounts, totals, resources and the FSE+ check of a
    stored plan version (claims use ``category_totals`` and ``flat_rates`` as the agreed amounts)."""
    operation = version.operation
    return compute_plan(
        [(c.category, c.year, c.amount) for c in version.costs],
        {f.code: f.rate for f in version.flat_rates},
        [(r.kind, r.name, r.amount) for r in version.resources],
        operation.fse_rate,
        operation.fse_amount,
    )


def empty_figures(operation: Operation) -> PlanFigures:
    return compute_plan([], {}, [], operation.fse_rate, operation.fse_amount)


def current_figures(operation: Operation) -> PlanFigures:
    version = operation.current_plan
    return plan_figures(version) if version else empty_figures(operation)


# ---------------------------------------------------------------- rules (pure)


def _t(message, **values):
    return translate(message, **values)


def check_organisation(org: OrganisationInput, prefix="organisation"):
    errors = []
    if not (org.name or "").strip():
        errors.append((f"{prefix}.name", _t(N_("nom obligatoire"))))
    elif len(org.name) > 255:
        errors.append((f"{prefix}.name", _t(N_("255 caractères au plus"))))
    if org.kind not in ORGANISATION_KINDS:
        errors.append(
            (f"{prefix}.kind", _t(N_("type inconnu (valeurs : %(values)s)"), values=", ".join(ORGANISATION_KINDS)))
        )
    if org.siret is not None and not siret_is_valid(org.siret):
        errors.append((f"{prefix}.siret", _t(N_("SIRET invalide (14 chiffres, clé de Luhn)"))))
    return errors


def check_operation(op: OperationInput):
    errors = []
    if not CODE_PATTERN.match(op.code or ""):
        errors.append(("operation.code", _t(N_("code invalide (lettres, chiffres, . _ -, 32 caractères au plus)"))))
    if not (op.title or "").strip():
        errors.append(("operation.title", _t(N_("intitulé obligatoire"))))
    elif len(op.title) > 500:
        errors.append(("operation.title", _t(N_("500 caractères au plus"))))
    if op.service and len(op.service) > 255:
        errors.append(("operation.service", _t(N_("255 caractères au plus"))))
    if op.start_date and op.end_date and op.start_date >= op.end_date:
        errors.append(("operation.end_date", _t(N_("la date de fin doit être postérieure à la date de début"))))
    if not (ZERO < op.fse_rate <= HUNDRED):
        errors.append(("operation.fse_rate", _t(N_("le taux FSE+ doit être compris entre 0 (exclu) et 100 %"))))
    if op.fse_amount < 0:
        errors.append(("operation.fse_amount", _t(N_("montant négatif"))))
    if not (ZERO <= op.advance_rate <= HUNDRED):
        errors.append(("operation.advance_rate", _t(N_("le taux d'avance doit être compris entre 0 et 100 %"))))
    if op.hours_divisor not in HOURS_DIVISORS:
        errors.append(("operation.hours_divisor", _t(N_("diviseur horaire annuel : 1720 ou 1607"))))
    if op.status not in OPERATION_STATUSES:
        errors.append(
            ("operation.status", _t(N_("statut inconnu (valeurs : %(values)s)"), values=", ".join(OPERATION_STATUSES)))
        )
    return errors


def check_plan(op: OperationInput, plan: PlanInput):
    """Every rule of the financing plan; returns [(path, message)] (empty when valid).
    Paths number lines from 1, as in the file (plan.costs[1] is the first cost line)."""
    errors = []
    years = range(op.start_date.year, op.end_date.year + 1) if op.start_date and op.end_date else None
    seen = {}
    if not plan.costs:
        errors.append(("plan.costs", _t(N_("au moins une ligne de dépenses est nécessaire"))))
    for index, line in enumerate(plan.costs, start=1):
        path = f"plan.costs[{index}]"
        if line.category not in COST_CATEGORIES:
            errors.append(
                (f"{path}.category", _t(N_("catégorie inconnue (valeurs : %(values)s)"), values=", ".join(COST_CATEGORIES)))
            )
        if years is not None and line.year not in years:
            errors.append(
                (f"{path}.year", _t(N_("l'année doit être comprise dans la période de l'opération (%(first)s-%(last)s)"),
                                    first=years.start, last=years.stop - 1))
            )
        if line.amount < 0:
            errors.append((f"{path}.amount", _t(N_("montant négatif"))))
        key = (line.category, line.year)
        if key in seen:
            errors.append(
                (f"{path}.year", _t(N_("la catégorie %(category)s a déjà un montant pour %(year)s (ligne %(line)s)"),
                                    category=line.category, year=line.year, line=seen[key]))
            )
        seen[key] = index

    rates = {}
    for index, line in enumerate(plan.flat_rates, start=1):
        path = f"plan.flat_rates[{index}]"
        if line.code not in FLAT_RATES:
            errors.append((f"{path}.code", _t(N_("taux forfaitaire inconnu (valeurs : %(values)s)"), values=", ".join(FLAT_RATES))))
            continue
        if line.code in rates:
            errors.append((f"{path}.code", _t(N_("taux %(code)s choisi deux fois"), code=line.code)))
            continue
        try:
            check_flat_rate_choice({line.code: line.rate})
        except FlatRateError as exc:
            errors.append((f"{path}.rate", _t(exc.message, **exc.values)))
            continue
        rates[line.code] = line.rate
    try:
        check_flat_rate_choice(rates)
    except FlatRateError as exc:
        errors.append(("plan.flat_rates", _t(exc.message, **exc.values)))

    # Décret art. 8-II: a category covered by a flat rate is not declared at real cost.
    for code in rates:
        for index, line in enumerate(plan.costs, start=1):
            if line.category in COVERED_CATEGORIES.get(code, ()) and line.amount:
                errors.append(
                    (f"plan.costs[{index}].category",
                     _t(N_("la catégorie %(category)s est couverte par le taux forfaitaire %(code)s : pas de dépenses réelles"),
                        category=line.category, code=code))
                )

    if not plan.resources:
        errors.append(("plan.resources", _t(N_("au moins une ressource est nécessaire"))))
    for index, line in enumerate(plan.resources, start=1):
        path = f"plan.resources[{index}]"
        if line.kind not in RESOURCE_KINDS:
            errors.append((f"{path}.kind", _t(N_("type de ressource inconnu (valeurs : %(values)s)"), values=", ".join(RESOURCE_KINDS))))
        if not (line.name or "").strip():
            errors.append((f"{path}.name", _t(N_("nom obligatoire"))))
        elif len(line.name) > 255:
            errors.append((f"{path}.name", _t(N_("255 caractères au plus"))))
        if line.amount < 0:
            errors.append((f"{path}.amount", _t(N_("montant négatif"))))
    if errors:
        return errors

    figures = compute_plan(
        [(c.category, c.year, c.amount) for c in plan.costs],
        rates,
        [(r.kind, r.name, r.amount) for r in plan.resources],
        op.fse_rate,
        op.fse_amount,
    )
    if not figures.balanced:
        errors.append(
            ("plan.resources",
             _t(N_("total des ressources (%(resources)s) différent du coût total (%(total)s) : écart %(gap)s"),
                resources=_money(figures.resources_total), total=_money(figures.total_cost),
                gap=_money(figures.resources_total - figures.total_cost)))
        )
    if figures.in_kind_costs != figures.in_kind_resources:
        errors.append(
            ("plan.resources",
             _t(N_("les contributions en nature doivent figurer à égalité en dépenses (%(costs)s) et en ressources (%(resources)s)"),
                costs=_money(figures.in_kind_costs), resources=_money(figures.in_kind_resources)))
        )
    if figures.fse_resource != op.fse_amount:
        errors.append(
            ("plan.resources",
             _t(N_("la ressource FSE+ (%(resource)s) doit être égale au montant FSE+ conventionné (%(agreed)s)"),
                resource=_money(figures.fse_resource), agreed=_money(op.fse_amount)))
        )
    if not figures.fse_within_rate:
        errors.append(
            ("operation.fse_amount",
             _t(N_("le FSE+ (%(amount)s) dépasse le taux × coût total éligible (%(rate)s %% × %(total)s = %(max)s) de %(gap)s"),
                amount=_money(op.fse_amount), rate=format(op.fse_rate.normalize(), "f"), total=_money(figures.total_cost),
                max=_money(figures.fse_max), gap=_money(-figures.fse_difference)))
        )
    return errors


def check_envelope_input(env: EnvelopeInput):
    errors = []
    if not CODE_PATTERN.match(env.code or ""):
        errors.append(("envelope.code", _t(N_("code invalide (lettres, chiffres, . _ -, 32 caractères au plus)"))))
    if not (env.name or "").strip():
        errors.append(("envelope.name", _t(N_("nom obligatoire"))))
    if env.start_date and env.end_date and env.start_date > env.end_date:
        errors.append(("envelope.end_date", _t(N_("la date de fin doit être postérieure à la date de début"))))
    if env.fse_amount < 0:
        errors.append(("envelope.fse_amount", _t(N_("montant négatif"))))
    errors += check_organisation(env.organisation, "envelope.organisation")
    return errors


def _money(value):
    from flask import has_request_context

    from ..money import format_money

    locale = "fr"
    if has_request_context():
        from flask_babel import get_locale

        locale = str(get_locale() or "fr")
    return format_money(value, locale)


# ---------------------------------------------------------------- database services


def find_operation(code: str) -> Operation | None:
    return db.session.scalar(select(Operation).where(Operation.code == code))


def find_envelope(code: str) -> Envelope | None:
    return db.session.scalar(select(Envelope).where(Envelope.code == code))


def find_or_create_organisation(org: OrganisationInput, demo=False) -> Organisation:
    if org.siret:
        found = db.session.scalar(select(Organisation).where(Organisation.siret == org.siret))
    else:
        found = db.session.scalar(
            select(Organisation).where(Organisation.name == org.name, Organisation.siret.is_(None)).order_by(Organisation.id)
        )
    if found is not None:
        return found
    organisation = Organisation(name=org.name.strip(), kind=org.kind, siret=org.siret, address=org.address, is_demo=demo)
    db.session.add(organisation)
    return organisation


def ensure_envelope(env: EnvelopeInput, demo=False) -> tuple[Envelope, bool]:
    """The envelope of that code, created if new; (envelope, created)."""
    errors = check_envelope_input(env)
    if errors:
        raise PlanError(errors)
    envelope = find_envelope(env.code)
    if envelope is not None:
        return envelope, False
    envelope = Envelope(
        code=env.code,
        name=env.name.strip(),
        organisation=find_or_create_organisation(env.organisation, demo),
        start_date=env.start_date,
        end_date=env.end_date,
        fse_amount=env.fse_amount,
        is_demo=demo,
    )
    db.session.add(envelope)
    db.session.flush()
    return envelope, True


def envelope_programmed(envelope: Envelope, excluding: Operation | None = None) -> Decimal:
    query = select(func.coalesce(func.sum(Operation.fse_amount), 0)).where(Operation.envelope_id == envelope.id)
    if excluding is not None and excluding.id is not None:
        query = query.where(Operation.id != excluding.id)
    return Decimal(db.session.scalar(query) or 0)


def check_envelope_room(envelope: Envelope | None, fse_amount: Decimal, operation: Operation | None = None):
    if envelope is None:
        return []
    others = envelope_programmed(envelope, excluding=operation)
    if others + fse_amount > envelope.fse_amount:
        return [
            ("operation.envelope",
             _t(N_("l'enveloppe %(envelope)s (%(total)s) serait dépassée : déjà programmé %(programmed)s, cette opération %(amount)s, dépassement %(gap)s"),
                envelope=envelope.code, total=_money(envelope.fse_amount), programmed=_money(others),
                amount=_money(fse_amount), gap=_money(others + fse_amount - envelope.fse_amount)))
        ]
    return []


def _add_version(operation, plan: PlanInput, number: int, user_id=None) -> PlanVersion:
    version = PlanVersion(
        operation=operation,
        number=number,
        amendment_number=plan.amendment_number if number > 1 else None,
        signed_on=plan.signed_on,
        reason=plan.reason if number > 1 else None,
        created_by_id=user_id,
    )
    version.costs = [PlanCost(category=c.category, year=c.year, amount=c.amount) for c in plan.costs]
    version.flat_rates = [PlanFlatRate(code=f.code, rate=f.rate) for f in plan.flat_rates]
    version.resources = [
        PlanResource(position=i, kind=r.kind, name=r.name.strip(), amount=r.amount) for i, r in enumerate(plan.resources)
    ]
    db.session.add(version)
    return version


def create_operation(op: OperationInput, org: OrganisationInput | Organisation, plan: PlanInput,
                     envelope: Envelope | None = None, demo=False, user_id=None) -> Operation:
    """A new operation with its agreement (plan version 1). Raises PlanError with every problem."""
    errors = check_operation(op)
    if isinstance(org, OrganisationInput):
        errors += check_organisation(org)
    if find_operation(op.code) is not None:
        errors.append(("operation.code", _t(N_("une opération %(code)s existe déjà"), code=op.code)))
    if not any(path == "operation.end_date" for path, _ in errors):
        errors += check_plan(op, plan)
    errors += check_envelope_room(envelope, op.fse_amount)
    if errors:
        raise PlanError(errors)
    organisation = org if isinstance(org, Organisation) else find_or_create_organisation(org, demo)
    operation = Operation(
        code=op.code,
        title=op.title.strip(),
        organisation=organisation,
        service=(op.service or "").strip() or None,
        start_date=op.start_date,
        end_date=op.end_date,
        fse_rate=op.fse_rate,
        fse_amount=op.fse_amount,
        advance_rate=op.advance_rate,
        hours_divisor=op.hours_divisor,
        status=op.status,
        last_payment_date=op.last_payment_date,
        envelope=envelope,
        is_demo=demo,
    )
    db.session.add(operation)
    _add_version(operation, plan, 1, user_id)
    db.session.flush()
    return operation


AMENDABLE_FIELDS = ("end_date", "fse_rate", "fse_amount")


def operation_input_of(operation: Operation, **changes) -> OperationInput:
    values = {
        "code": operation.code,
        "title": operation.title,
        "service": operation.service,
        "start_date": operation.start_date,
        "end_date": operation.end_date,
        "fse_rate": operation.fse_rate,
        "fse_amount": operation.fse_amount,
        "advance_rate": operation.advance_rate,
        "hours_divisor": operation.hours_divisor,
        "status": operation.status,
        "last_payment_date": operation.last_payment_date,
    }
    values.update(changes)
    return OperationInput(**values)


def record_amendment(operation: Operation, plan: PlanInput, end_date=None, fse_rate=None, fse_amount=None,
                     user_id=None) -> PlanVersion:
    """An amendment (avenant): a new plan version; earlier versions stay as they were.
    It may also change the end date, the FSE+ rate and the agreed FSE+ amount."""
    op = operation_input_of(
        operation,
        end_date=end_date if end_date is not None else operation.end_date,
        fse_rate=fse_rate if fse_rate is not None else operation.fse_rate,
        fse_amount=fse_amount if fse_amount is not None else operation.fse_amount,
    )
    errors = []
    if not (plan.amendment_number or "").strip():
        errors.append(("plan.amendment_number", _t(N_("numéro d'avenant obligatoire"))))
    elif len(plan.amendment_number) > 32:
        errors.append(("plan.amendment_number", _t(N_("32 caractères au plus"))))
    if plan.signed_on is None:
        errors.append(("plan.signed_on", _t(N_("date de l'avenant obligatoire"))))
    if not (plan.reason or "").strip():
        errors.append(("plan.reason", _t(N_("motif de l'avenant obligatoire"))))
    errors += check_operation(op)
    if not any(path == "operation.end_date" for path, _ in errors):
        errors += check_plan(op, plan)
    errors += check_envelope_room(operation.envelope, op.fse_amount, operation)
    if errors:
        raise PlanError(errors)
    number = (operation.current_plan.number if operation.current_plan else 0) + 1
    note_for_changes(
        _t(N_("Avenant n° %(number)s du %(date)s (version %(version)s) : %(reason)s"),
           number=plan.amendment_number, date=plan.signed_on.strftime("%d/%m/%Y"), version=number, reason=plan.reason)
    )
    before = {key: getattr(operation, key) for key in AMENDABLE_FIELDS}
    operation.end_date = op.end_date
    operation.fse_rate = op.fse_rate
    operation.fse_amount = op.fse_amount
    version = _add_version(operation, plan, number, user_id)
    db.session.flush()
    record(
        "amendment",
        "operations",
        operation.id,
        before=before,
        after={key: getattr(operation, key) for key in AMENDABLE_FIELDS} | {"plan_version": number},
        note=plan.reason,
    )
    return version


def plan_input_of(version: PlanVersion) -> PlanInput:
    return PlanInput(
        costs=[CostLine(c.category, c.year, c.amount) for c in version.costs],
        flat_rates=[FlatRateLine(f.code, f.rate) for f in version.flat_rates],
        resources=[ResourceLine(r.kind, r.name, r.amount) for r in version.resources],
    )


def same_plan(version: PlanVersion, plan: PlanInput) -> bool:
    """Same costs, flat rates and resources (order of cost lines and rates does not matter)."""
    def costs(lines):
        return sorted((c.category, c.year, cents(c.amount)) for c in lines)

    def rates(lines):
        return sorted((f.code, Decimal(f.rate).normalize()) for f in lines)

    def resources(lines):
        return [(r.kind, r.name.strip(), cents(r.amount)) for r in lines]

    stored = plan_input_of(version)
    return (
        costs(stored.costs) == costs(plan.costs)
        and rates(stored.flat_rates) == rates(plan.flat_rates)
        and resources(stored.resources) == resources(plan.resources)
    )


def compare_versions(old: PlanVersion, new: PlanVersion) -> dict:
    """Rows (label, old amount, new amount, difference) for costs, flat rates, totals and resources."""
    a, b = plan_figures(old), plan_figures(new)
    rows = []
    for category in COST_CATEGORIES:
        for year in sorted(set(a.costs.get(category, {})) | set(b.costs.get(category, {}))):
            x, y = a.costs.get(category, {}).get(year, ZERO), b.costs.get(category, {}).get(year, ZERO)
            rows.append(("cost", category, year, x, y, y - x))
    for code in FLAT_RATES:
        if code in a.flat_rate_amounts or code in b.flat_rate_amounts:
            x, y = a.flat_rate_amounts.get(code, ZERO), b.flat_rate_amounts.get(code, ZERO)
            rows.append(("flat", code, None, x, y, y - x))
    rows.append(("total", "total", None, a.total_cost, b.total_cost, b.total_cost - a.total_cost))
    names = []
    for line in a.resources + b.resources:
        if (line["kind"], line["name"]) not in names:
            names.append((line["kind"], line["name"]))
    for kind, name in names:
        x = sum((r["amount"] for r in a.resources if (r["kind"], r["name"]) == (kind, name)), ZERO)
        y = sum((r["amount"] for r in b.resources if (r["kind"], r["name"]) == (kind, name)), ZERO)
        rows.append(("resource", name, kind, x, y, y - x))
    rates_a = {f.code: f.rate for f in old.flat_rates}
    rates_b = {f.code: f.rate for f in new.flat_rates}
    return {"rows": rows, "old": old, "new": new, "rates_old": rates_a, "rates_new": rates_b}


# ---------------------------------------------------------------- progress (realised, claims)


def realised_costs(operation: Operation) -> dict:
    """Realised direct costs by category: complete, non-deleted expenses at their eligible amount,
    plus staff cost lines (PERSONNEL)."""
    from ..expenses.models import Expense
    from ..staff.models import StaffCostLine

    rows = db.session.execute(
        select(Expense.category, func.sum(Expense.eligible_amount))
        .where(Expense.operation_id == operation.id, Expense.deleted_at.is_(None), Expense.is_complete.is_(True))
        .group_by(Expense.category)
    ).all()
    costs = {category: Decimal(total or 0) for category, total in rows}
    staff = db.session.scalar(
        select(func.coalesce(func.sum(StaffCostLine.amount), 0)).where(StaffCostLine.operation_id == operation.id)
    )
    if staff:
        costs["PERSONNEL"] = costs.get("PERSONNEL", ZERO) + Decimal(staff)
    return {c: cents(costs[c]) for c in COST_CATEGORIES if c in costs}


def fse_flows(operation_ids) -> dict:
    """FSE+ asked (non-draft claims), paid on claims, and advances paid, for these operations."""
    from ..claims.models import Advance, Claim

    ids = list(operation_ids)
    if not ids:
        return {"asked": ZERO, "paid_claims": ZERO, "advances": ZERO}
    asked = db.session.scalar(
        select(func.coalesce(func.sum(Claim.fse_asked), 0)).where(Claim.operation_id.in_(ids), Claim.state != "draft")
    )
    paid = db.session.scalar(select(func.coalesce(func.sum(Claim.amount_paid), 0)).where(Claim.operation_id.in_(ids)))
    advances = db.session.scalar(select(func.coalesce(func.sum(Advance.amount), 0)).where(Advance.operation_id.in_(ids)))
    return {"asked": cents(Decimal(asked)), "paid_claims": cents(Decimal(paid)), "advances": cents(Decimal(advances))}


def elapsed_share(start: date, end: date, today: date) -> Decimal:
    """Share of the eligibility period elapsed at the end of ``today``, in percent (0-100)."""
    if today < start:
        return ZERO
    total_days = (end - start).days + 1
    days = min((today - start).days + 1, total_days)
    return (Decimal(days) * HUNDRED / Decimal(total_days)).quantize(Decimal("0.01"))


def forecast_at_pace(realised: Decimal, start: date, end: date, today: date) -> Decimal:
    """Realised amount extrapolated to the end of the period at the pace observed so far."""
    if today < start:
        return ZERO
    if today >= end:
        return realised
    days = (today - start).days + 1
    total_days = (end - start).days + 1
    return cents(realised * Decimal(total_days) / Decimal(days))


@dataclass
class Progress:
    planned: PlanFigures
    rows: list  # [{"code", "planned", "realised", "forecast"}] categories then flat rates
    planned_total: Decimal
    realised_total: Decimal
    forecast_total: Decimal
    consumed_percent: Decimal
    elapsed_percent: Decimal
    pace_gap: Decimal  # elapsed - consumed, percentage points
    pace_warning: bool
    fse_agreed: Decimal
    fse_asked: Decimal
    fse_paid_claims: Decimal
    fse_advances: Decimal
    fse_paid: Decimal
    fse_remaining: Decimal
    final_deadline: date
    deadline_passed: bool
    today: date


def operation_progress(operation: Operation, today: date, margin: Decimal = Decimal("15")) -> Progress:
    planned = current_figures(operation)
    realised = realised_costs(operation)
    rates = {f.code: f.rate for f in operation.current_plan.flat_rates} if operation.current_plan else {}
    realised_flat = flat_rate_amounts(rates, realised)
    start, end = operation.start_date, operation.end_date
    rows = []
    for category in COST_CATEGORIES:
        p, r = planned.category_totals.get(category, ZERO), realised.get(category, ZERO)
        if p or r:
            rows.append({"code": category, "kind": "category", "planned": p, "realised": r,
                         "forecast": forecast_at_pace(r, start, end, today)})
    for code in planned.flat_rate_amounts:
        p, r = planned.flat_rate_amounts[code], realised_flat.get(code, ZERO)
        rows.append({"code": code, "kind": "flat", "planned": p, "realised": r,
                     "forecast": forecast_at_pace(r, start, end, today)})
    planned_total = planned.total_cost
    realised_total = sum((row["realised"] for row in rows), ZERO)
    forecast_total = sum((row["forecast"] for row in rows), ZERO)
    consumed = (realised_total * HUNDRED / planned_total).quantize(Decimal("0.01")) if planned_total else ZERO
    elapsed = elapsed_share(start, end, today)
    gap = elapsed - consumed
    flows = fse_flows([operation.id])
    paid = flows["paid_claims"] + flows["advances"]
    deadline = final_balance_deadline(end)
    return Progress(
        planned=planned,
        rows=rows,
        planned_total=planned_total,
        realised_total=realised_total,
        forecast_total=forecast_total,
        consumed_percent=consumed,
        elapsed_percent=elapsed,
        pace_gap=gap,
        pace_warning=today >= start and gap > margin,
        fse_agreed=operation.fse_amount,
        fse_asked=flows["asked"],
        fse_paid_claims=flows["paid_claims"],
        fse_advances=flows["advances"],
        fse_paid=paid,
        fse_remaining=operation.fse_amount - paid,
        final_deadline=deadline,
        deadline_passed=today > deadline,
        today=today,
    )


@dataclass
class EnvelopeFigures:
    envelope: Envelope
    programmed: Decimal
    claimed: Decimal
    paid: Decimal
    remaining: Decimal  # envelope - programmed


def envelope_figures(envelope: Envelope) -> EnvelopeFigures:
    programmed = envelope_programmed(envelope)
    flows = fse_flows([operation.id for operation in envelope.operations])
    return EnvelopeFigures(
        envelope=envelope,
        programmed=programmed,
        claimed=flows["asked"],
        paid=flows["paid_claims"] + flows["advances"],
        remaining=envelope.fse_amount - programmed,
    )

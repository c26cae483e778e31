"""A financing plan's figures, as pure functions over Decimal: costs by category and
year, flat-rate amounts on their computed bases, totals, resources and the FSE+ check
(primer §1-3). Nothing here is stored: the plan keeps only what was typed."""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from ..kernel.dates import add_months
from ..kernel.extensions import db
from ..kernel.money import HUNDRED, ZERO, cents
from .flat_rates import flat_rate_amounts, flat_rate_bases
from .fse_rates import effective, stated
from .models import COST_CATEGORIES, FLAT_RATES, Operation, PlanVersion, VatProrata
from .unit_lines import plan_unit_amounts


def final_balance_deadline(end_date: date) -> date:
    """The final balance report is due at the latest 6 months after the end (primer §8)."""
    return add_months(end_date, 6)


def payment_deadline(operation: Operation) -> date:
    """A cost incurred in the realisation period is eligible when paid by this date (primer
    §9): the operation's setting, by default the end date + 6 months (the final bilan's
    deadline), so that December salaries paid in January count."""
    return operation.payment_deadline or add_months(operation.end_date, 6)


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
    # Unit costs and lump sums outside the flat-rate bases (``unit_lines``), part of the total.
    simplified_total: Decimal = ZERO
    simplified_by_year: dict = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        return self.resources_total == self.total_cost

    @property
    def fse_within_rate(self) -> bool:
        return self.fse_amount <= self.fse_max

    @property
    def fse_is_rate_times_total(self) -> bool:
        """The agreed FSE+ is rate × total eligible cost, to the cent (primer §1)."""
        return self.fse_amount == self.fse_max

    @property
    def effective_rate(self) -> Decimal:
        """FSE+ / total eligible cost in percent, four decimals (primer §9)."""
        if not self.total_cost:
            return ZERO
        return effective(self.fse_amount, self.total_cost).percent

    def bilans_maximum(self, applied) -> Decimal:
        """The most FSE+ the bilans can reach: the rate they apply (``applied``, an FseRate:
        amount / total when the agreement fixes the amount) × the total, within the agreed amount."""
        return min(self.fse_amount, applied.of(self.total_cost))

    def as_json(self, code: str, version_number: int | None = None, applied=None) -> dict:
        """``applied``: the FseRate the bilans apply (``fse_rates.rate_of``); ``fse_rate`` stays
        as stated, ``fse_rate_effective`` (four decimals) and ``fse_max`` follow the rate applied."""
        def money(value):
            return format(cents(value), "f")

        applied = applied or stated(self.fse_rate)

        return {
            "code": code,
            "version": version_number,
            "total_cost": money(self.total_cost),
            "direct_cost": money(self.direct_total),
            "fse_rate": money(self.fse_rate),
            "fse_amount": money(self.fse_amount),
            "fse_rate_effective": format(applied.percent, "f"),
            "fse_max": money(self.bilans_maximum(applied)),
            "fse_rate_times_total": money(self.fse_max),
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


def compute_plan(costs, rates, resources, fse_rate, fse_amount, units=()) -> PlanFigures:
    """Figures of a plan. ``costs``: iterable of (category, year, amount); ``rates``: code -> percent;
    ``resources``: iterable of (kind, name, amount); ``units``: (category, year, planned amount,
    in base) of the unit costs and lump sums (``unit_lines``): those in the flat-rate bases count
    in their category, the others in ``simplified_total``, outside every base."""
    costs = list(costs)
    simplified_by_year: dict = {}
    for category, year, amount, in_base in units:
        if in_base:
            costs.append((category, year, amount))
        else:
            simplified_by_year[year] = simplified_by_year.get(year, ZERO) + amount
    simplified_total = sum(simplified_by_year.values(), ZERO)
    by_category: dict = {}
    for category, year, amount in costs:
        by_category.setdefault(category, {})
        by_category[category][year] = by_category[category].get(year, ZERO) + amount
    ordered = {c: dict(sorted(by_category[c].items())) for c in COST_CATEGORIES if c in by_category}
    years = sorted({year for per_year in ordered.values() for year in per_year} | set(simplified_by_year))
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
    total_cost = direct_total + flat_total + simplified_total
    year_grand_totals = {
        y: year_totals[y] + sum((f["by_year"].get(y, ZERO) for f in flat.values()), ZERO)
        + simplified_by_year.get(y, ZERO) for y in years
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
        simplified_total=simplified_total,
        simplified_by_year=simplified_by_year,
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
        units=plan_unit_amounts(version.unit_lines),
    )


def empty_figures(operation: Operation) -> PlanFigures:
    return compute_plan([], {}, [], operation.fse_rate, operation.fse_amount)


def current_figures(operation: Operation) -> PlanFigures:
    version = operation.current_plan
    return plan_figures(version) if version else empty_figures(operation)


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
    if a.simplified_total or b.simplified_total:  # unit costs and lump sums outside the bases
        rows.append(("simplified", "simplified", None, a.simplified_total, b.simplified_total,
                     b.simplified_total - a.simplified_total))
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


def vat_prorata_by_year(operation: Operation) -> dict:
    """year -> the operation's VAT recovery pro-rata (percent) recorded for that year
    (partial VAT recovery, ``expenses.vat``)."""
    return dict(db.session.execute(
        select(VatProrata.year, VatProrata.percent).where(VatProrata.operation_id == operation.id)).all())

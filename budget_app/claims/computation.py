"""What a statement or a bilan computes (FSE+ primer §5, §9), as pure functions over Decimal.

Every path (screen, spreadsheet, CSV, CLI, submission, service-done check) calls
``claim_figures``: one rule, one place. Amounts are rounded half-up to the cent once per
computed amount (``money.cents``), and the printed parts add up to the printed total
because the total is the sum of the rounded parts.

Cumulated figures (``previous_total``, ``already_asked``) are those of the earlier bilans:
retained amounts and FSE+ due once controlled, declared amounts and FSE+ asked until then
(primer §9). The final bilan is the balance: FSE+ = min(agreed, rate × all costs within
the plan's total) − FSE+ of the earlier bilans, rounded once (primer §5.5, §9), so the
FSE+ of all bilans adds up to exactly that, whatever each interim bilan rounded.
"""
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from ..kernel.money import ZERO, cents
from ..operations.flat_rates import (
    COVERED_CATEGORIES,
    DIRECT_CATEGORIES,
    applied_rate_text,
    applied_rates,
    flat_rate_amounts,
)
from ..operations.fse_rates import FseRate, stated
from ..operations.unit_lines import SIMPLIFIED


@dataclass(frozen=True)
class ClaimFigures:
    categories: dict  # real-cost category -> amount (negative when credit notes exceed costs), display order
    flat_rates: dict  # flat-rate code -> amount
    flat_rate_percents: dict  # flat-rate code -> percent used
    total: Decimal  # total eligible cost = sum of the parts above
    fse_rate: Decimal  # percent, four decimals (the rate applied is ``rate``: see fse_rates)
    agreed_fse: Decimal  # the agreement's FSE+ amount (cap)
    over_plan: Decimal  # eligible cost beyond the plan's total: not funded (primer §5.4)
    fse_computed: Decimal  # (total - over_plan) × rate, half-up once
    fse_already_asked: Decimal  # by the operation's other live claims
    fse_cap_excess: Decimal  # computed but not asked: it would exceed the agreed amount
    fse_asked: Decimal
    fse_remaining: Decimal  # agreed - already asked - asked
    category_overruns: dict = field(default_factory=dict)  # category -> cumulated amount above the plan
    rate_numerator: Decimal | None = None  # the rate applied = numerator / denominator
    rate_denominator: Decimal | None = None
    plan_total: Decimal | None = None  # the plan's total eligible cost when computed
    previous_total: Decimal = ZERO  # cumulated eligible cost of the earlier bilans
    final_balance: bool = False  # the final bilan: FSE+ is the balance (primer §9)

    @property
    def fse_base(self) -> Decimal:
        return self.total - self.over_plan

    @property
    def applied_flat_rates(self) -> dict:
        """Code -> AppliedRate: each flat rate with its base (on this bilan's categories)."""
        return applied_rates(self.flat_rate_percents, self.categories, self.flat_rates)

    def applied_text(self, code: str) -> str:
        """« 15,00 % × 7 280,00 € (plafond RPDC 54 (b) : 15 %) = 1 092,00 € »."""
        return applied_rate_text(self.applied_flat_rates[code])

    @property
    def rate(self) -> FseRate:
        if self.rate_numerator is None:
            return stated(self.fse_rate)
        return FseRate(self.rate_numerator, self.rate_denominator)


def claim_categories(plan_categories=(), rates=(), amounts=()) -> list[str]:
    """Real-cost categories shown in a claim: those of the plan, then any other with an
    amount, in the décret's order, without the ones a chosen flat rate replaces (primer §3); then the
    unit costs and lump sums kept outside the flat-rate bases (``SIMPLIFIED``, CPR 53(1)(b)-(c))."""
    covered = covered_categories(rates)
    wanted = set(plan_categories) | {category for category in amounts if amounts[category]}
    return [category for category in (*DIRECT_CATEGORIES, SIMPLIFIED) if category in wanted and category not in covered]


def covered_categories(rates) -> set[str]:
    covered: set[str] = set()
    for code in rates:
        covered.update(COVERED_CATEGORIES.get(code, ()))
    return covered


def claim_figures(
    real_costs: dict,
    rates: dict,
    fse_rate,
    agreed_fse: Decimal,
    already_asked: Decimal = ZERO,
    plan_total: Decimal | None = None,
    previous_total: Decimal = ZERO,
    plan_categories=(),
    planned_by_category: dict | None = None,
    previous_by_category: dict | None = None,
    final: bool = False,
) -> ClaimFigures:
    """The figures of a statement or a bilan from its real costs by category.

    - ``fse_rate``: a percent (60 = 60 %) or an ``FseRate`` (agreement fixing the amount);
    - a credit note is netted in its period: a category may be negative (primer §9);
    - flat rates on their computed bases (operations.flat_rates, Décret art. 8-II);
    - the cost above the plan's total, cumulated over the bilans, is not funded: a
      category's overrun is offset by another's underrun only within the agreed total
      (primer §5.4); ``over_plan`` is this bilan's share of the cumulated excess;
    - interim: FSE+ = funded total × rate, half-up once; cumulated FSE+ never exceeds the
      agreed amount: the excess is shown, not asked (primer §5.4);
    - final (``final``): FSE+ = min(agreed, rate × cumulated cost within the plan's total)
      − FSE+ of the earlier bilans (primer §9), which may be negative (to be paid back).
    """
    rate = fse_rate if isinstance(fse_rate, FseRate) else stated(fse_rate)
    order = claim_categories(plan_categories, rates, real_costs)
    categories = {category: cents(real_costs.get(category) or ZERO) for category in order}
    flat = flat_rate_amounts(rates, categories)
    total = sum(categories.values(), ZERO) + sum(flat.values(), ZERO)
    over_plan = ZERO
    cumulated = previous_total + total
    funded_cumulated = cumulated
    if plan_total is not None:
        over_plan = max(ZERO, cumulated - plan_total) - max(ZERO, previous_total - plan_total)
        funded_cumulated = min(cumulated, plan_total)
    if final:
        fse_all = rate.of(funded_cumulated)
        fse_computed = fse_all - already_asked
        fse_asked = min(fse_all, agreed_fse) - already_asked
    else:
        fse_computed = rate.of(total - over_plan)
        room = max(ZERO, agreed_fse - already_asked)
        fse_asked = min(fse_computed, room)
    overruns = {}
    if planned_by_category is not None:
        previous_by_category = previous_by_category or {}
        for category, amount in categories.items():
            cumulated_category = (previous_by_category.get(category) or ZERO) + amount
            planned = planned_by_category.get(category) or ZERO
            if cumulated_category > planned:
                overruns[category] = cumulated_category - planned
    return ClaimFigures(
        categories=categories,
        flat_rates=flat,
        flat_rate_percents={code: rates[code] for code in flat},
        total=total,
        fse_rate=rate.percent,
        agreed_fse=agreed_fse,
        over_plan=over_plan,
        fse_computed=fse_computed,
        fse_already_asked=already_asked,
        fse_cap_excess=fse_computed - fse_asked,
        fse_asked=fse_asked,
        fse_remaining=agreed_fse - already_asked - fse_asked,
        category_overruns=overruns,
        rate_numerator=rate.numerator,
        rate_denominator=rate.denominator,
        plan_total=plan_total,
        previous_total=previous_total,
        final_balance=final,
    )


def fse_due(retained: ClaimFigures, fse_asked: Decimal) -> Decimal:
    """FSE+ due after the service-done check of an interim bilan: retained cost × rate
    within the cap, never more than what was asked (primer §5.4-5). For the final bilan,
    the balance on the retained figures (``retained.fse_asked``, primer §9)."""
    if retained.final_balance:
        return retained.fse_asked
    return min(retained.fse_asked, fse_asked)


def advance_recovery(fse_due_amount: Decimal, advance_outstanding: Decimal, final: bool = False,
                     at_final_balance: bool = False) -> tuple[Decimal, Decimal]:
    """Interim payment = FSE+ due − advance not yet recovered (primer §5.5), never below
    zero: what the payment cannot absorb stays outstanding for the next bilans. With
    ``at_final_balance`` (the operation's setting) interim bilans recover nothing. The
    final bilan recovers all that is outstanding: its payment may then be negative (an
    amount to pay back). Returns (advance recovered on this bilan, payment expected)."""
    outstanding = max(ZERO, advance_outstanding)
    if final:
        recovered = outstanding
    elif at_final_balance:
        recovered = ZERO
    else:
        recovered = min(max(ZERO, fse_due_amount), outstanding)
    return recovered, fse_due_amount - recovered


def figures_to_json(figures: ClaimFigures) -> dict:
    def plain(value):
        if isinstance(value, Decimal):
            return format(value, "f")
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        return value

    return {key: plain(value) for key, value in asdict(figures).items()}


def figures_from_json(data: dict) -> ClaimFigures:
    def dec(value):
        return Decimal(value)

    values = dict(data)
    for key in ("categories", "flat_rates", "flat_rate_percents", "category_overruns"):
        values[key] = {code: dec(amount) for code, amount in (data.get(key) or {}).items()}
    for key in (
        "total", "fse_rate", "agreed_fse", "over_plan", "fse_computed", "fse_already_asked", "fse_cap_excess",
        "fse_asked", "fse_remaining",
    ):
        values[key] = dec(data[key])
    # Figures frozen before the rate, plan and balance were kept (they default).
    for key in ("rate_numerator", "rate_denominator", "plan_total"):
        values[key] = dec(data[key]) if data.get(key) is not None else None
    values["previous_total"] = dec(data.get("previous_total") or "0.00")
    return ClaimFigures(**values)

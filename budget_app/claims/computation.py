"""What a claim computes (FSE+ primer §5), as pure functions over Decimal.

Every path (screen, spreadsheet, CSV, CLI, submission, service-done check) calls
``claim_figures``: one rule, one place. Amounts are rounded half-up to the cent once per
computed amount (``money.cents``), and the printed parts add up to the printed total
because the total is the sum of the rounded parts.
"""
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from ..kernel.money import cents
from ..operations.flat_rates import (
    COVERED_CATEGORIES,
    DIRECT_CATEGORIES,
    flat_rate_amounts,
)

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class ClaimFigures:
    categories: dict  # real-cost category -> amount (never negative), in display order
    flat_rates: dict  # flat-rate code -> amount
    flat_rate_percents: dict  # flat-rate code -> percent used
    total: Decimal  # total eligible cost = sum of the parts above
    fse_rate: Decimal  # percent
    agreed_fse: Decimal  # the agreement's FSE+ amount (cap)
    over_plan: Decimal  # eligible cost beyond the plan's total: not funded (primer §5.4)
    fse_computed: Decimal  # (total - over_plan) × rate, half-up once
    fse_already_asked: Decimal  # by the operation's other live claims
    fse_cap_excess: Decimal  # computed but not asked: it would exceed the agreed amount
    fse_asked: Decimal
    fse_remaining: Decimal  # agreed - already asked - asked
    category_overruns: dict = field(default_factory=dict)  # category -> cumulated amount above the plan

    @property
    def fse_base(self) -> Decimal:
        return self.total - self.over_plan


def claim_categories(plan_categories=(), rates=(), amounts=()) -> list[str]:
    """Real-cost categories shown in a claim: those of the plan, then any other with an
    amount, in the décret's order, without the ones a chosen flat rate replaces (primer §3)."""
    covered = covered_categories(rates)
    wanted = set(plan_categories) | {category for category in amounts if amounts[category]}
    return [category for category in DIRECT_CATEGORIES if category in wanted and category not in covered]


def covered_categories(rates) -> set[str]:
    covered: set[str] = set()
    for code in rates:
        covered.update(COVERED_CATEGORIES.get(code, ()))
    return covered


def claim_figures(
    real_costs: dict,
    rates: dict,
    fse_rate: Decimal,
    agreed_fse: Decimal,
    already_asked: Decimal = ZERO,
    plan_total: Decimal | None = None,
    previous_total: Decimal = ZERO,
    plan_categories=(),
    planned_by_category: dict | None = None,
    previous_by_category: dict | None = None,
) -> ClaimFigures:
    """The figures of a claim from its real costs by category.

    - a category is never negative in a claim (a credit note larger than the period's
      costs is left out upstream; this is the last guard);
    - flat rates on their computed bases (operations.flat_rates, Décret art. 8-II);
    - the cost above the plan's total, cumulated over the claims, is not funded: a
      category's overrun is offset by another's underrun only within the agreed total
      (primer §5.4);
    - FSE+ = funded total × rate, half-up once; cumulated FSE+ asked never exceeds the
      agreed amount: the excess is shown, not asked (primer §5.4).
    """
    order = claim_categories(plan_categories, rates, real_costs)
    categories = {category: max(ZERO, cents(real_costs.get(category) or ZERO)) for category in order}
    flat = flat_rate_amounts(rates, categories)
    total = sum(categories.values(), ZERO) + sum(flat.values(), ZERO)
    over_plan = ZERO
    if plan_total is not None:
        over_plan = min(total, max(ZERO, previous_total + total - plan_total))
    fse_computed = cents((total - over_plan) * fse_rate / HUNDRED)
    room = max(ZERO, agreed_fse - already_asked)
    fse_asked = min(fse_computed, room)
    overruns = {}
    if planned_by_category is not None:
        previous_by_category = previous_by_category or {}
        for category, amount in categories.items():
            cumulated = (previous_by_category.get(category) or ZERO) + amount
            planned = planned_by_category.get(category) or ZERO
            if cumulated > planned:
                overruns[category] = cumulated - planned
    return ClaimFigures(
        categories=categories,
        flat_rates=flat,
        flat_rate_percents={code: rates[code] for code in flat},
        total=total,
        fse_rate=fse_rate,
        agreed_fse=agreed_fse,
        over_plan=over_plan,
        fse_computed=fse_computed,
        fse_already_asked=already_asked,
        fse_cap_excess=fse_computed - fse_asked,
        fse_asked=fse_asked,
        fse_remaining=agreed_fse - already_asked - fse_asked,
        category_overruns=overruns,
    )


def fse_due(retained: ClaimFigures, fse_asked: Decimal) -> Decimal:
    """FSE+ due after the service-done check: retained cost × rate, never more than what
    was asked (the cap applied at submission still holds), primer §5.4-5."""
    return min(retained.fse_computed, fse_asked)


def advance_recovery(fse_due_amount: Decimal, advance_outstanding: Decimal) -> tuple[Decimal, Decimal]:
    """Interim payment = FSE+ due − advance not yet recovered (primer §5.5), never below
    zero: what the payment cannot absorb stays outstanding for the next claims.
    Returns (advance recovered on this claim, payment expected)."""
    recovered = min(max(ZERO, fse_due_amount), max(ZERO, advance_outstanding))
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
    return ClaimFigures(**values)

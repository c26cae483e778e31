"""The figures of a statement or a bilan over the database: the plan in force, what the
operation's earlier bilans count, and ``computation.claim_figures`` on top (FSE+ primer
§5, §9). Declared figures are frozen at submission; a draft is recomputed.

Cumulated figures (primer §9): a controlled (or paid) bilan counts for its retained
amounts and its FSE+ due; a submitted one for its declared amounts and its FSE+ asked.
The over-plan amount and the FSE+ cap of later bilans are computed on those.
"""
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from ..kernel.extensions import db
from ..kernel.money import ZERO
from ..operations.fse_rates import rate_of
from ..operations.models import Operation
from ..operations.plans import current_figures
from ..operations.unit_lines import SIMPLIFIED
from .computation import ClaimFigures, claim_figures, figures_from_json
from .models import Claim

# States of a bilan whose lines and figures count for the operation (not a draft).
LIVE_STATES = ("submitted", "controlled", "paid")
CHECKED_STATES = ("controlled", "paid")


def plan_context(operation: Operation) -> dict:
    """Rates, agreed amounts and the FSE+ rate applied, from the plan in force (the latest amendment)."""
    plan = operation.current_plan
    if plan is None:
        return {"rates": {}, "plan_categories": (), "plan_total": None, "planned_by_category": None,
                "fse_rate": rate_of(operation, None)}
    figures = current_figures(operation)
    planned = dict(figures.category_totals)
    if figures.simplified_total:
        planned[SIMPLIFIED] = figures.simplified_total  # unit costs and lump sums outside the bases
    return {
        "rates": {rate.code: rate.rate for rate in plan.flat_rates},
        "plan_categories": tuple(planned),
        "plan_total": figures.total_cost if planned else None,
        "planned_by_category": planned,
        "fse_rate": rate_of(operation, figures.total_cost),
    }


def live_claims(operation: Operation, excluding_id: int | None = None, before_number: int | None = None) -> list[Claim]:
    """The operation's submitted, controlled and paid bilans (``before_number``: only the earlier ones)."""
    query = select(Claim).where(Claim.operation_id == operation.id, Claim.state.in_(LIVE_STATES))
    if excluding_id is not None:
        query = query.where(Claim.id != excluding_id)
    if before_number is not None:
        query = query.where(Claim.number < before_number)
    return db.session.scalars(query.order_by(Claim.number)).all()


@dataclass
class Counted:
    """What one live bilan counts in the cumulated figures (primer §9)."""

    total: Decimal
    fse: Decimal
    categories: dict = field(default_factory=dict)
    flat_rates: dict = field(default_factory=dict)
    retained: bool = False


def counted(claim: Claim) -> Counted:
    """Retained amounts and FSE+ due once controlled; declared amounts and FSE+ asked before."""
    figures = claim.figures or {}
    if claim.state in CHECKED_STATES and "retained" in figures and claim.fse_due is not None:
        data = figures["retained"]
        return Counted(claim.total_retained or ZERO, claim.fse_due, _amounts(data, "categories"),
                       _amounts(data, "flat_rates"), retained=True)
    data = figures.get("declared") or {}
    return Counted(claim.total_eligible or ZERO, claim.fse_asked or ZERO, _amounts(data, "categories"),
                   _amounts(data, "flat_rates"))


def _amounts(data: dict, key: str) -> dict:
    return {code: Decimal(amount) for code, amount in (data.get(key) or {}).items()}


def cumulated_before(operation: Operation, claim: Claim | None = None) -> dict:
    """FSE+, eligible totals and categories counted by the bilans before ``claim`` (all the
    live bilans for a statement or a bilan not yet numbered)."""
    number = getattr(claim, "number", None)
    return cumulated(live_claims(operation, getattr(claim, "id", None), before_number=number))


def cumulated(claims) -> dict:
    """What these live bilans count together (``cumulated_before``)."""
    asked = total = ZERO
    by_category: dict = {}
    for other in claims:
        figures = counted(other)
        asked += figures.fse
        total += figures.total
        for category, amount in figures.categories.items():
            by_category[category] = by_category.get(category, ZERO) + amount
    return {"already_asked": asked, "previous_total": total, "previous_by_category": by_category}


def figures_for(operation: Operation, real_costs: dict, claim: Claim | None, context=None,
                before=None) -> ClaimFigures:
    """A draft's figures (``claim``: the bilan, or None for a statement; ``before``: the
    ``cumulated_before`` already read)."""
    context = context or plan_context(operation)
    before = cumulated_before(operation, claim) if before is None else before
    return claim_figures(
        real_costs,
        context["rates"],
        context["fse_rate"],
        operation.fse_amount,
        already_asked=before["already_asked"],
        plan_total=context["plan_total"],
        previous_total=before["previous_total"],
        plan_categories=context["plan_categories"],
        planned_by_category=context["planned_by_category"],
        previous_by_category=before["previous_by_category"],
        final=getattr(claim, "kind", None) == "final",
    )


def frozen_declared_figures(claim: Claim) -> ClaimFigures | None:
    """The figures frozen when the bilan was submitted (None while it is a draft)."""
    if claim.state != "draft" and claim.figures:
        return figures_from_json(claim.figures["declared"])
    return None

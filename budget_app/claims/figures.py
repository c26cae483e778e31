"""The figures of a claim over the database: the plan in force, what the operation's other
live claims already asked and declared, and ``computation.claim_figures`` on top (FSE+
primer §5). Declared figures are frozen at submission; a draft is recomputed."""
from decimal import Decimal

from sqlalchemy import select

from ..kernel.extensions import db
from ..operations.models import Operation
from ..operations.plans import current_figures
from .computation import ClaimFigures, claim_figures, figures_from_json
from .models import Claim

ZERO = Decimal("0.00")
# States of a claim whose lines and figures count for the operation (not a draft).
LIVE_STATES = ("submitted", "controlled", "paid")


def plan_context(operation: Operation) -> dict:
    """Rates and agreed amounts of the plan in force (the latest amendment)."""
    plan = operation.current_plan
    if plan is None:
        return {"rates": {}, "plan_categories": (), "plan_total": None, "planned_by_category": None}
    figures = current_figures(operation)
    planned = dict(figures.category_totals)
    return {
        "rates": {rate.code: rate.rate for rate in plan.flat_rates},
        "plan_categories": tuple(planned),
        "plan_total": figures.total_cost if planned else None,
        "planned_by_category": planned,
    }


def live_claims(operation: Operation, excluding_id: int | None = None) -> list[Claim]:
    query = select(Claim).where(Claim.operation_id == operation.id, Claim.state.in_(LIVE_STATES))
    if excluding_id is not None:
        query = query.where(Claim.id != excluding_id)
    return db.session.scalars(query).all()


def cumulated_before(operation: Operation, claim_id: int | None) -> dict:
    """FSE+ asked, eligible totals and categories of the operation's other live claims."""
    asked = total = ZERO
    by_category: dict = {}
    for other in live_claims(operation, claim_id):
        asked += other.fse_asked or ZERO
        total += other.total_eligible or ZERO
        if other.figures:
            for category, amount in other.figures["declared"]["categories"].items():
                by_category[category] = by_category.get(category, ZERO) + Decimal(amount)
    return {"already_asked": asked, "previous_total": total, "previous_by_category": by_category}


def figures_for(operation: Operation, real_costs: dict, claim_id: int | None, context=None) -> ClaimFigures:
    context = context or plan_context(operation)
    before = cumulated_before(operation, claim_id)
    return claim_figures(
        real_costs,
        context["rates"],
        operation.fse_rate,
        operation.fse_amount,
        already_asked=before["already_asked"],
        plan_total=context["plan_total"],
        previous_total=before["previous_total"],
        plan_categories=context["plan_categories"],
        planned_by_category=context["planned_by_category"],
        previous_by_category=before["previous_by_category"],
    )


def frozen_declared_figures(claim: Claim) -> ClaimFigures | None:
    """The figures frozen when the claim was submitted (None while it is a draft)."""
    if claim.state != "draft" and claim.figures:
        return figures_from_json(claim.figures["declared"])
    return None

"""The operations table (home page, operations list, envelope page) for any number of
operations in a bounded number of queries (issue 27): the figures of
``progress.operation_progress`` that the table shows, to the cent, without computing each
operation's statement on its own.

Realised = what the live bilans count + what a statement would count today among the
other lines (``claims.balance.realised``). Here the second part is read from the figures
kept per operation and category (``kept_figures``: a few rows per operation, whatever
the number of lines), computed again, by grouped scans, only for the operations whose
lines changed since; held lines are left out there (the per-operation computation
subtracts them afterwards: the same sums). Plans and live bilans are read once for all
the operations.

Worked example: an operation planned 10 000,00 with one live bilan counting 2 000,00 and
1 000,00 of paid, complete lines not yet declared realises 3 000,00: 30,00 % consumed.
"""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..claims.figures import LIVE_STATES, counted, cumulated, figures_for, plan_context
from ..claims.models import Claim
from ..kernel.extensions import db
from ..kernel.money import ZERO, percent
from ..operations.models import Operation, PlanVersion
from ..operations.unit_lines import CLAIM_CATEGORIES
from ..operations.plans import current_figures, final_balance_deadline
from .kept_figures import pending_sums
from .progress import elapsed_share


@dataclass
class Overview:
    """What the operations table shows of ``progress.Progress`` (same names, same values)."""

    planned_total: Decimal
    realised_total: Decimal
    consumed_percent: Decimal
    elapsed_percent: Decimal
    pace_gap: Decimal
    pace_warning: bool
    final_deadline: date
    deadline_passed: bool


def _load_plans(operations) -> None:
    """The plans in force with their rows, for all the operations at once."""
    db.session.scalars(
        select(Operation).where(Operation.id.in_([op.id for op in operations]))
        .options(selectinload(Operation.plan_versions).options(
            selectinload(PlanVersion.costs), selectinload(PlanVersion.flat_rates),
            selectinload(PlanVersion.resources), selectinload(PlanVersion.unit_lines)))
    ).all()


def overviews(operations, today: date, margin: Decimal) -> dict:
    """Operation id -> ``Overview``, equal to ``operation_progress``'s figures."""
    operations = list(operations)
    if not operations:
        return {}
    _load_plans(operations)
    contexts = {op.id: plan_context(op) for op in operations}
    live: dict = {op.id: [] for op in operations}
    for claim in db.session.scalars(
        select(Claim).where(Claim.operation_id.in_(list(live)), Claim.state.in_(LIVE_STATES))
        .order_by(Claim.operation_id, Claim.number)
    ):
        live[claim.operation_id].append(claim)
    pending = pending_sums(operations, lambda op: contexts[op.id]["rates"], today)
    return {op.id: _overview(op, today, margin, contexts[op.id], live[op.id], pending[op.id])
            for op in operations}


def _overview(operation, today, margin, context, claims, sums) -> Overview:
    categories: dict = {}
    flat: dict = {}
    for claim in claims:
        figures = counted(claim)
        for target, amounts in ((categories, figures.categories), (flat, figures.flat_rates)):
            for code, amount in amounts.items():
                target[code] = target.get(code, ZERO) + amount
    statement = figures_for(operation, sums, None, context, before=cumulated(claims))
    for target, amounts in ((categories, statement.categories), (flat, statement.flat_rates)):
        for code, amount in amounts.items():
            target[code] = target.get(code, ZERO) + amount
    planned = current_figures(operation)
    # The rows of ``operation_progress``: categories planned or realised, then every flat rate.
    realised_total = sum((categories.get(c, ZERO) for c in CLAIM_CATEGORIES), ZERO) + sum(flat.values(), ZERO)
    consumed = percent(realised_total, planned.total_cost)
    elapsed = elapsed_share(operation.start_date, operation.end_date, today)
    deadline = final_balance_deadline(operation.end_date)
    return Overview(
        planned_total=planned.total_cost, realised_total=realised_total, consumed_percent=consumed,
        elapsed_percent=elapsed, pace_gap=elapsed - consumed,
        pace_warning=today >= operation.start_date and elapsed - consumed > margin,
        final_deadline=deadline, deadline_passed=today > deadline,
    )

"""What an operation has realised against its plan, and its FSE+ flows: the figures of
the home page, the operations list, the operation dashboard and the envelope pages.
Reporting reads every domain and writes none."""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from ..claims.balance import fse_counted, realised
from ..claims.bilans import warnings as bilan_warnings
from ..claims.models import Advance, Claim
from ..kernel.extensions import db
from ..kernel.money import ZERO, cents, percent
from ..operations.models import Envelope, Operation
from ..operations.plans import PlanFigures, current_figures, final_balance_deadline
from ..operations.services import envelope_programmed
from ..operations.unit_lines import CLAIM_CATEGORIES, SIMPLIFIED


def fse_flows(operation_ids) -> dict:
    """FSE+ asked (live bilans: FSE+ due once controlled, primer §9), paid on bilans, and
    advances paid, for these operations."""
    ids = list(operation_ids)
    if not ids:
        return {"asked": ZERO, "paid_claims": ZERO, "advances": ZERO}
    asked = fse_counted(ids)
    paid = db.session.scalar(select(func.coalesce(func.sum(Claim.amount_paid), 0)).where(Claim.operation_id.in_(ids)))
    advances = db.session.scalar(select(func.coalesce(func.sum(Advance.amount), 0)).where(Advance.operation_id.in_(ids)))
    return {"asked": cents(Decimal(asked)), "paid_claims": cents(Decimal(paid)), "advances": cents(Decimal(advances))}


def elapsed_share(start: date, end: date, today: date) -> Decimal:
    """Share of the eligibility period elapsed at the end of ``today``, in percent (0-100)."""
    if today < start:
        return ZERO
    total_days = (end - start).days + 1
    days = min((today - start).days + 1, total_days)
    return percent(days, total_days)


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
    warnings: list  # bilans: a required interim missing, the final one late (primer §8-9)


def operation_progress(operation: Operation, today: date, margin: Decimal) -> Progress:
    """Planned against realised, realised being the bilan formula (``claims.balance``)."""
    planned = current_figures(operation)
    figures = realised(operation, today)
    realised_costs, realised_flat = figures.categories, figures.flat_rates
    start, end = operation.start_date, operation.end_date
    rows = []
    # The bilans' lines: the plan's categories (unit costs and lump sums inside the
    # flat-rate bases count in theirs), then those outside every base (SIMPLIFIES).
    planned_costs = {**planned.category_totals, SIMPLIFIED: planned.simplified_total}
    for category in CLAIM_CATEGORIES:
        p, r = planned_costs.get(category, ZERO), realised_costs.get(category, ZERO)
        if p or r:
            rows.append({"code": category, "kind": "simplified" if category == SIMPLIFIED else "category",
                         "planned": p, "realised": r,
                         "forecast": forecast_at_pace(r, start, end, today)})
    for code in dict.fromkeys([*planned.flat_rate_amounts, *realised_flat]):
        p, r = planned.flat_rate_amounts.get(code, ZERO), realised_flat.get(code, ZERO)
        rows.append({"code": code, "kind": "flat", "planned": p, "realised": r,
                     "forecast": forecast_at_pace(r, start, end, today)})
    planned_total = planned.total_cost
    realised_total = sum((row["realised"] for row in rows), ZERO)
    forecast_total = sum((row["forecast"] for row in rows), ZERO)
    consumed = percent(realised_total, planned_total)
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
        warnings=bilan_warnings(operation, today),
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

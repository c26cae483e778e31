"""An operation's figures over all its bilans (primer §5, §9), for the dashboard and the
bilan pages: what is realised by the bilan formula, and the FSE+ counted so far.

Realised = what the live bilans count (retained amounts once controlled, declared ones
before) + what a bilan would count today among the lines no bilan holds yet (the same
rules: paid, complete, approved, not replaced by a flat rate...). So the costs a flat rate
replaces (PERSONNEL_20's staff lines, RESTANTS_40's running costs) never count as
realised, and the flat-rate amounts are those of the bilans.
"""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import case, func, select

from ..kernel.extensions import db
from ..kernel.money import ZERO, cents
from ..operations.models import Operation
from .figures import CHECKED_STATES, LIVE_STATES, counted, live_claims
from .models import Claim
from .selection import compute_period


@dataclass
class Realised:
    categories: dict = field(default_factory=dict)  # category -> amount
    flat_rates: dict = field(default_factory=dict)  # flat-rate code -> amount
    declared_in_bilans: Decimal = ZERO  # the part the live bilans count
    not_yet_declared: Decimal = ZERO  # what a bilan would count today among the other lines

    @property
    def total(self) -> Decimal:
        return sum(self.categories.values(), ZERO) + sum(self.flat_rates.values(), ZERO)


def _add(target: dict, amounts: dict) -> None:
    for code, amount in amounts.items():
        target[code] = target.get(code, ZERO) + amount


def realised(operation: Operation, today: date) -> Realised:
    result = Realised()
    for claim in live_claims(operation):
        figures = counted(claim)
        _add(result.categories, figures.categories)
        _add(result.flat_rates, figures.flat_rates)
        result.declared_in_bilans += figures.total
    pending = compute_period(operation, operation.start_date, operation.end_date, as_of=today,
                             list_left_out=False, evidence=True).figures
    _add(result.categories, pending.categories)
    _add(result.flat_rates, pending.flat_rates)
    result.not_yet_declared = pending.total
    return result


def fse_counted(operation_ids) -> Decimal:
    """FSE+ of the live bilans of these operations: FSE+ due once controlled, asked before (primer §9)."""
    ids = list(operation_ids)
    if not ids:
        return ZERO
    value = case((Claim.state.in_(CHECKED_STATES) & Claim.fse_due.is_not(None), Claim.fse_due), else_=Claim.fse_asked)
    total = db.session.scalar(
        select(func.coalesce(func.sum(value), 0)).where(Claim.operation_id.in_(ids), Claim.state.in_(LIVE_STATES))
    )
    return cents(total or 0)

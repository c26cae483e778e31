"""The operation settled on what was actually received (primer §5.5: « FSE+ due on all
retained costs − FSE+ already paid »), and its statement of account.

A bilan's *base* payment is its FSE+ due − the advance it recovers. What a paid bilan
received short of (or beyond) its payment expected is carried onto the next payment:

- an interim's payment expected = base − held share + what earlier payments fell short
  (an excess received earlier reduces it, never below zero: the rest waits for the final);
- the final's payment expected = base + everything still carried, so that
  Σ advances + Σ payments + the final settlement = Σ FSE+ due over the operation's life.

The amount carried onto an unpaid bilan is Σ (base − received) over the operation's paid
bilans: each payment moves what it carried, so the sum telescopes whatever the order of
payments. It is frozen on the bilan when its payment is recorded (``Claim.carried_forward``):
bilans already paid keep their figures.
"""
from decimal import Decimal

from sqlalchemy import select

from ..kernel.extensions import db
from ..kernel.money import ZERO
from .models import Claim


def base_payment(claim: Claim) -> Decimal | None:
    """FSE+ due − advance recovered (None until the service-done check)."""
    if claim.fse_due is None:
        return None
    return claim.fse_due - (claim.advance_recovered or ZERO)


def outstanding_shortfall(operation_id: int, excluding_id: int | None = None) -> Decimal:
    """Σ (base − received) over the operation's paid bilans: positive when the paying body
    paid less than expected, negative when it paid more."""
    query = select(Claim).where(Claim.operation_id == operation_id, Claim.state == "paid")
    if excluding_id is not None:
        query = query.where(Claim.id != excluding_id)
    return shortfall((base_payment(claim) or ZERO, claim.amount_paid or ZERO) for claim in db.session.scalars(query))


def shortfall(paid) -> Decimal:
    """Σ (base − received) over (base, received) pairs of paid bilans."""
    return sum((base - received for base, received in paid), ZERO)


def carry(outstanding: Decimal, before_carry: Decimal | None, final: bool) -> Decimal:
    """The part of ``outstanding`` settled on a bilan whose payment expected would be
    ``before_carry`` without it: all of it on the final; on an interim, all of a shortfall
    but no more of an excess than keeps the payment at zero."""
    if not final and before_carry is not None and before_carry + outstanding < 0:
        return -before_carry
    return outstanding


def carried_onto(claim: Claim, before_carry: Decimal | None = None) -> Decimal:
    """What earlier payments fell short (+) or exceeded (−), settled on this bilan.
    ``before_carry``: the bilan's payment expected without it (its base − held share); an
    interim's payment expected never goes below zero, the final takes all."""
    if claim.state == "paid":
        return claim.carried_forward or ZERO
    return carry(outstanding_shortfall(claim.operation_id, excluding_id=claim.id), before_carry, claim.kind == "final")

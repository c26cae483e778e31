"""FSE+ money actually moving: the advance paid at the start and recovered on later
payments, the payment received for a controlled claim, and the operation's position
(asked, remaining, paid, advance not yet recovered) shown on the claim pages."""
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.formatting import today_in_paris
from ..kernel.i18n import N_
from ..kernel.transactions import atomic
from ..operations.hooks import final_payment_date
from ..operations.models import Operation
from .figures import live_claims
from .lifecycle import move
from .models import Advance, Claim

ZERO = Decimal("0.00")


def advance_outstanding(operation: Operation, excluding_claim_id: int | None = None) -> Decimal:
    """Advances paid minus what controlled or paid claims already recovered."""
    paid = db.session.scalar(select(func.sum(Advance.amount)).where(Advance.operation_id == operation.id)) or ZERO
    query = select(func.sum(Claim.advance_recovered)).where(
        Claim.operation_id == operation.id, Claim.state.in_(("controlled", "paid"))
    )
    if excluding_claim_id is not None:
        query = query.where(Claim.id != excluding_claim_id)
    recovered = db.session.scalar(query) or ZERO
    return paid - recovered


@atomic
def record_payment(claim: Claim, paid_on: date, amount: Decimal, reference: str | None = None, user=None) -> None:
    if amount < 0:
        raise DomainError(N_("Le montant reçu ne peut pas être négatif."))
    if paid_on > today_in_paris():
        raise DomainError(N_("La date de paiement ne peut pas être dans le futur."))
    if claim.controlled_at and paid_on < claim.controlled_at.date():
        raise DomainError(N_("La date de paiement précède le contrôle de service fait."))
    move(claim, "pay", "paid")
    claim.paid_on = paid_on
    claim.amount_paid = amount
    claim.payment_reference = (reference or "").strip() or None
    operation = claim.operation
    # Retention runs from the year of the last payment (CPR 82).
    if operation.last_payment_date is None or paid_on > operation.last_payment_date:
        operation.last_payment_date = paid_on
    db.session.flush()


def expected_payment(claim: Claim) -> Decimal | None:
    if claim.fse_due is None:
        return None
    return claim.fse_due - (claim.advance_recovered or ZERO)


@atomic
def record_advance(operation: Operation, paid_on: date, amount: Decimal, note: str | None = None) -> Advance:
    if amount <= 0:
        raise DomainError(N_("Le montant de l'avance doit être positif."))
    advance = Advance(operation=operation, paid_on=paid_on, amount=amount, note=(note or "").strip() or None)
    db.session.add(advance)
    db.session.flush()
    return advance


def operation_position(operation: Operation) -> dict:
    """FSE+ already asked, remaining, advance not yet recovered, paid: for the pages."""
    live = live_claims(operation)
    asked = sum((claim.fse_asked or ZERO for claim in live), ZERO)
    paid = sum((claim.amount_paid or ZERO for claim in live if claim.state == "paid"), ZERO)
    advances = db.session.scalar(select(func.sum(Advance.amount)).where(Advance.operation_id == operation.id)) or ZERO
    return {
        "agreed": operation.fse_amount,
        "asked": asked,
        "remaining": operation.fse_amount - asked,
        "paid": paid,
        "advances": advances,
        "advance_outstanding": advance_outstanding(operation),
    }


@final_payment_date.register
def final_payment(operation: Operation) -> date | None:
    """The payment that starts the retention period (CPR 82): the payment received for the
    claim whose period reaches the operation's end date (the final balance, primer §8)."""
    return db.session.scalar(
        select(func.max(Claim.paid_on)).where(
            Claim.operation_id == operation.id, Claim.state == "paid", Claim.period_end >= operation.end_date
        )
    )

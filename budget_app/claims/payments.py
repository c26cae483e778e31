"""FSE+ money actually moving: the payment received for a controlled bilan, and the
operation's position (FSE+ asked or due, remaining, paid, advance not yet recovered) shown
on the bilan pages. The advance itself is ``advances``."""
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.formatting import format_money, today_in_paris
from ..kernel.i18n import N_
from ..kernel.money import ZERO, cents
from ..kernel.transactions import atomic
from ..marks.services import held_ids
from ..operations.models import Operation
from .advances import advance_outstanding, advances_paid
from .computation import figures_from_json
from .figures import counted, live_claims
from .lifecycle import move
from .models import Claim, ClaimLine
from .settlement import base_payment, carried_onto


@atomic
def record_payment(claim: Claim, paid_on: date, amount: Decimal, reference: str | None = None, user=None,
                   overpayment: bool = False) -> None:
    """``overpayment``: the paying body paid more than expected; recorded as received, the
    excess is deducted from the next payment (primer §5.5, ``settlement``)."""
    _check_amount(claim, amount, overpayment)
    carried = carried_onto(claim, _before_carry(claim)) if claim.fse_due is not None else None
    if paid_on > today_in_paris():
        raise DomainError(N_("La date de paiement ne peut pas être dans le futur."))
    if claim.controlled_at and paid_on < claim.controlled_at.date():
        raise DomainError(N_("La date de paiement précède le contrôle de service fait."))
    move(claim, "pay", "paid")
    claim.paid_on = paid_on
    claim.amount_paid = amount
    claim.payment_reference = (reference or "").strip() or None
    claim.carried_forward = carried  # frozen: a paid bilan keeps its figures
    operation = claim.operation
    # Retention runs from the year of the last payment (CPR 82).
    if operation.last_payment_date is None or paid_on > operation.last_payment_date:
        operation.last_payment_date = paid_on
    db.session.flush()


def _check_amount(claim: Claim, amount: Decimal, overpayment: bool = False) -> None:
    """What is received never exceeds the payment expected (FSE+ due − advance recovered,
    primer §5.5; the §5.4 cap holds on FSE+ due). A final bilan whose FSE+ due is below what
    was already paid expects a repayment: a negative amount, at most what is owed."""
    expected = expected_payment(claim)
    if expected is None:
        return  # not checked yet: the move below refuses
    if amount < 0:
        if claim.kind != "final" or expected >= 0:
            raise DomainError(N_("Le montant reçu ne peut pas être négatif."))
        if amount < expected:
            raise DomainError(N_("Le reversement (%(amount)s) dépasse ce que le bénéficiaire doit reverser (%(expected)s)."),
                              amount=format_money(-amount), expected=format_money(-expected))
    elif expected < 0:
        raise DomainError(N_("Ce bilan final attend un reversement de %(expected)s par le bénéficiaire : indiquez le "
                             "montant reversé précédé du signe moins (ex. -%(plain)s)."),
                          expected=format_money(-expected), plain=format(-expected, "f").replace(".", ","))
    elif amount > expected and overpayment and claim.kind == "final":
        raise DomainError(N_("Le bilan final solde l'opération : aucun paiement ne suit pour déduire un trop-perçu ; "
                             "indiquez au plus %(expected)s."), expected=format_money(expected))
    elif amount > expected and not overpayment:
        raise DomainError(N_("Le montant reçu (%(amount)s) dépasse le paiement attendu (%(expected)s : FSE+ dû moins "
                             "l'avance récupérée, plus ce que les paiements précédents n'ont pas versé). Si l'organisme "
                             "payeur a réellement versé plus, confirmez le trop-perçu : il sera déduit du paiement "
                             "suivant."), amount=format_money(amount), expected=format_money(expected))


# The bilan's states whose payment may still wait for held lines (a paid bilan is settled).
WAITING_STATES = ("submitted", "controlled")


def amount_on_hold(claim: Claim) -> Decimal:
    """« Montant en attente »: the FSE+ share of the bilan's lines held today, whoever
    placed the hold (a mark: the authority's hold or a suspicion read alike, loi 2022-401).
    A held line stays in its bilan and the controller decides on it; its share -- its
    retained amount (declared while undecided) × the bilan's FSE+ rate, half-up once per
    line -- is left out of the payment expected until the hold is released. Flat rates
    computed on the line stay in the payment (decision: the hold waits for the line only)."""
    if claim.state not in WAITING_STATES or not claim.figures or "declared" not in claim.figures:
        return ZERO
    lines = db.session.scalars(select(ClaimLine).where(ClaimLine.claim_id == claim.id)).all()
    held = {("expense", line_id) for line_id in held_ids("expense", [l.expense_id for l in lines if l.expense_id])}
    held |= {("staff_cost_line", line_id)
             for line_id in held_ids("staff_cost_line", [l.staff_cost_line_id for l in lines if l.staff_cost_line_id])}
    if not held:
        return ZERO
    rate = figures_from_json(claim.figures["declared"]).rate
    total = ZERO
    for line in lines:
        pair = ("expense", line.expense_id) if line.kind == "expense" else ("staff_cost_line", line.staff_cost_line_id)
        if pair in held:
            amount = line.declared_amount if line.decision is None else line.retained_amount
            total += rate.of(amount)
    return cents(total)


def _before_carry(claim: Claim) -> Decimal:
    return base_payment(claim) - amount_on_hold(claim)


def carried_payment(claim: Claim) -> Decimal | None:
    """The part of the payment expected that settles earlier payments (None before the check)."""
    if claim.fse_due is None:
        return None
    return carried_onto(claim, _before_carry(claim))


def expected_payment(claim: Claim) -> Decimal | None:
    """FSE+ due − advance recovered − the share of held lines (``amount_on_hold``) + what
    earlier payments fell short of theirs (``settlement.carried_onto``, primer §5.5)."""
    if claim.fse_due is None:
        return None
    before = _before_carry(claim)
    return before + carried_onto(claim, before)


def operation_position(operation: Operation) -> dict:
    """FSE+ already asked (FSE+ due for the controlled bilans, primer §9), remaining,
    advance not yet recovered, paid: for the pages."""
    live = live_claims(operation)
    asked = sum((counted(claim).fse for claim in live), ZERO)
    paid = sum((claim.amount_paid or ZERO for claim in live if claim.state == "paid"), ZERO)
    advances = advances_paid(operation)
    return {
        "agreed": operation.fse_amount,
        "asked": asked,
        "remaining": operation.fse_amount - asked,
        "paid": paid,
        "advances": advances,
        "advance_outstanding": advance_outstanding(operation),
    }


def final_payment(operation: Operation) -> date | None:
    """The payment that starts the retention period (CPR 82): the payment received for the
    final bilan (primer §8), the one that settles the operation."""
    return db.session.scalar(
        select(func.max(Claim.paid_on)).where(
            Claim.operation_id == operation.id, Claim.state == "paid", Claim.kind == "final"
        )
    )

"""The FSE+ advance (primer §8-9): who may get one, how much, and what is still to recover.

- none for collectivités, OPCOs and State operators, unless the operation's agreement
  provides one (``Operation.advance_override``, with its reason);
- advances paid never exceed the advance rate × the agreed FSE+ amount, in total;
- an advance is recorded once paid: its date is not after today;
- it is recovered on the interim payments (default) or at the final balance
  (``Operation.advance_recovery``); the final bilan recovers whatever is left
  (``computation.advance_recovery``).
"""
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.formatting import format_money, today_in_paris
from ..kernel.i18n import N_, translate_label
from ..kernel.money import HUNDRED, ZERO, cents
from ..kernel.transactions import atomic
from ..operations.models import NO_ADVANCE_KINDS, ORGANISATION_KINDS, Operation
from .models import Advance, Claim


def advances_paid(operation: Operation) -> Decimal:
    return db.session.scalar(select(func.sum(Advance.amount)).where(Advance.operation_id == operation.id)) or ZERO


def advance_ceiling(operation: Operation) -> Decimal:
    """Advance rate × agreed FSE+ (primer §8: 30 % of the grant for most partners)."""
    return cents(operation.fse_amount * operation.advance_rate / HUNDRED)


def advance_outstanding(operation: Operation, excluding_claim_id: int | None = None) -> Decimal:
    """Advances paid minus what controlled or paid bilans already recovered."""
    query = select(func.sum(Claim.advance_recovered)).where(
        Claim.operation_id == operation.id, Claim.state.in_(("controlled", "paid"))
    )
    if excluding_claim_id is not None:
        query = query.where(Claim.id != excluding_claim_id)
    recovered = db.session.scalar(query) or ZERO
    return advances_paid(operation) - recovered


def advance_refusal(operation: Operation) -> DomainError | None:
    """Why the operation gets no advance at all, or None."""
    kind = operation.organisation.kind if operation.organisation else None
    if kind in NO_ADVANCE_KINDS and not operation.advance_override:
        return DomainError(
            N_("Pas d'avance pour un bénéficiaire de type « %(kind)s » (collectivité, OPCO, opérateur de l'État : fiche « La convention » du programme national FSE+, fse.gouv.fr), sauf si la convention la prévoit : l'administrateur l'indique alors dans la fiche de l'opération, avec le motif."),
            kind=translate_label(ORGANISATION_KINDS, kind))
    if not operation.advance_rate:
        return DomainError(N_("Le taux d'avance de l'opération est nul : aucune avance n'est prévue."))
    return None


@atomic
def record_advance(operation: Operation, paid_on: date, amount: Decimal, note: str | None = None) -> Advance:
    if amount <= 0:
        raise DomainError(N_("Le montant de l'avance doit être positif."))
    if paid_on > today_in_paris():
        raise DomainError(N_("La date de versement de l'avance ne peut pas être dans le futur."))
    if paid_on < operation.start_date:
        # Primer §8: the advance is paid once the start of the operation is certified.
        raise DomainError(N_("L'avance est versée une fois le démarrage de l'opération attesté : le %(day)s précède "
                             "son début (%(start)s)."), day=paid_on,
                          start=operation.start_date)
    refusal = advance_refusal(operation)
    if refusal is not None:
        raise refusal
    already = advances_paid(operation)
    ceiling = advance_ceiling(operation)
    if already + amount > ceiling:
        raise DomainError(
            N_("Avance refusée : %(already)s déjà versés + %(amount)s dépasseraient le plafond de %(ceiling)s (taux d'avance %(rate)s %% × FSE+ conventionné %(agreed)s)."),
            already=format_money(already), amount=format_money(amount), ceiling=format_money(ceiling),
            rate=format(operation.advance_rate.normalize(), "f"), agreed=format_money(operation.fse_amount))
    advance = Advance(operation=operation, paid_on=paid_on, amount=amount, note=(note or "").strip() or None)
    db.session.add(advance)
    db.session.flush()
    return advance

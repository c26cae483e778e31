"""How long an operation's records are kept (CPR art. 82, primer §7): documents and cost
lines are kept 5 years from 31 December of the year of the last payment to the
beneficiary, i.e. until 31 December of that year + 5; longer while a procedure is under way.

- before the final payment, the end is not known ("à déterminer");
- while a procedure concerns the operation, the retention is extended (CPR 82(2)): never
  "ended", whatever the date. Two causes, said in the same words ("prolongée : procédure en
  cours") so that neither can be told from the other: a procedure the managing authority
  records (``place_procedure``, `retention hold`), or one the layers above know of
  (``hooks.retention_extended``: an alert, known to the anti-fraud referent only);
- no supporting document, expense or declared cost line is deleted before the end: every
  ORM deletion of a model that names its operation (``retention_operation_id``) is checked
  before the flush, so no path (a view, a command, a cascade) can delete one too early.
"""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import event
from sqlalchemy.orm import Session

from ..kernel.errors import DomainError
from ..kernel.formatting import today_in_paris
from ..kernel.i18n import N_
from .hooks import final_payment_date, retention_extended
from .models import Operation

RETENTION_YEARS = 5


def retention_end(last_payment: date) -> date:
    """CPR 82: 5 years from 31 December of the year of the last payment.
    A last payment on 15/03/2025 -> kept until 31/12/2030."""
    return date(last_payment.year + RETENTION_YEARS, 12, 31)


@dataclass(frozen=True)
class Retention:
    last_payment: date | None
    end: date | None  # None: to be determined (no final payment yet)
    extended: bool  # a procedure is under way: kept beyond ``end``

    def ended(self, today: date | None = None) -> bool:
        today = today or today_in_paris()
        return self.end is not None and not self.extended and today > self.end


def retention_of(operation: Operation) -> Retention:
    final = final_payment_date(operation)
    if final is None and operation.status == "closed":
        # An operation closed with its last payment recorded (loaded from a file, paid
        # outside the application): that payment was the final one.
        final = operation.last_payment_date
    last = operation.last_payment_date
    if final is not None and (last is None or final > last):
        last = final
    end = retention_end(last) if final is not None else None
    extended = bool(operation.retention_procedure) or bool(retention_extended(operation.id))
    return Retention(last_payment=last, end=end, extended=extended)


PROCEDURE_LENGTH = 300


def place_procedure(operation: Operation, reason: str) -> None:
    """CPR 82(2): the retention is interrupted by legal proceedings or at the Commission's
    duly justified request. Recorded (and audited, the operation being ``Audited``) with its reason."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError(N_("Indiquez la procédure qui prolonge la conservation (RPDC art. 82(2))."))
    if len(reason) > PROCEDURE_LENGTH:
        raise DomainError(N_("Le motif de prolongation dépasse %(max)s caractères."), max=PROCEDURE_LENGTH)
    operation.retention_procedure = reason


def lift_procedure(operation: Operation) -> None:
    if not operation.retention_procedure:
        raise DomainError(N_("Aucune procédure enregistrée ne prolonge la conservation de l'opération %(code)s."),
                          code=operation.code)
    operation.retention_procedure = None


def ensure_retention_ended(operation: Operation, today: date | None = None) -> None:
    retention = retention_of(operation)
    if retention.ended(today):
        return
    if retention.end is None:
        raise DomainError(N_("Les pièces et lignes de dépenses de l'opération %(code)s sont conservées : la fin de "
                             "conservation sera fixée après le paiement final (RPDC art. 82)."), code=operation.code)
    raise DomainError(N_("Les pièces et lignes de dépenses de l'opération %(code)s sont conservées au moins "
                         "jusqu'au %(end)s (RPDC art. 82)."), code=operation.code, end=retention.end)


@event.listens_for(Session, "before_flush")
def _kept_until_retention_end(session, _flush_context, _instances):
    """Refuse the deletion of a kept record (document, expense, declared cost line) before
    its operation's retention has ended."""
    checked = {}
    with session.no_autoflush:
        for instance in session.deleted:
            operation_id = getattr(instance, "retention_operation_id", lambda: None)()
            if operation_id is None or operation_id in checked:
                continue
            checked[operation_id] = True
            ensure_retention_ended(session.get(Operation, operation_id))

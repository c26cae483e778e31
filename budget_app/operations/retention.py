"""How long an operation's records are kept (CPR art. 82, primer §7): documents and cost
lines are kept 5 years from 31 December of the year of the last payment to the
beneficiary, i.e. until 31 December of that year + 5; longer while a procedure is under way.

- before the final payment, the end is not known ("à déterminer");
- while a procedure concerns the operation, the retention is extended (CPR 82(2)): never
  "ended", whatever the date. Two causes: a procedure the managing authority records
  (``place_procedure``, `retention hold`, its reason kept in ``retention_procedures`` for the
  authority only), or one the layers above know of (``hooks.retention_extended``: an alert,
  known to the anti-fraud referent only). Neither extends anything by itself: the daily
  computation (``update_extensions``, `retention update`, also run by `retention purge`)
  opens and closes the extensions every page reads (``retention_extensions``), one neutral
  audit entry each way, whatever the cause. So both read, and take effect, the same: at the
  next computation, said in the same words ("prolongée : procédure en cours") (loi 2022-401);
- no supporting document, expense or declared cost line is deleted before the end: every
  ORM deletion of a model that names its operation (``retention_operation_id``) is checked
  before the flush, so no path (a view, a command, a cascade) can delete one too early; a
  cause not yet applied by the computation already protects them.
"""
from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import event, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..kernel.audit import services as audit
from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.formatting import today_in_paris
from ..kernel.i18n import N_
from .hooks import final_payment_date, retention_extended
from .models import Operation, RetentionExtension, RetentionProcedure

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
    return Retention(last_payment=last, end=end, extended=open_extension(operation.id) is not None)


PROCEDURE_LENGTH = 300


def live_procedure(operation: Operation) -> RetentionProcedure | None:
    return db.session.scalar(select(RetentionProcedure).where(
        RetentionProcedure.operation_id == operation.id, RetentionProcedure.lifted_at.is_(None)))


def place_procedure(operation: Operation, reason: str) -> RetentionProcedure:
    """CPR 82(2): the retention is interrupted by legal proceedings or at the Commission's
    duly justified request. Recorded with its reason for the authority; the retention reads
    extended from the next daily computation, like any other cause."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError(N_("Indiquez la procédure qui prolonge la conservation (RPDC art. 82(2))."))
    if len(reason) > PROCEDURE_LENGTH:
        raise DomainError(N_("Le motif de prolongation dépasse %(max)s caractères."), max=PROCEDURE_LENGTH)
    if live_procedure(operation) is not None:
        raise DomainError(N_("Une procédure est déjà enregistrée pour l'opération %(code)s."), code=operation.code)
    procedure = RetentionProcedure(operation_id=operation.id, reason=reason)
    db.session.add(procedure)
    db.session.flush()
    return procedure


def lift_procedure(operation: Operation) -> RetentionProcedure:
    procedure = live_procedure(operation)
    if procedure is None:
        raise DomainError(N_("Aucune procédure enregistrée ne prolonge la conservation de l'opération %(code)s."),
                          code=operation.code)
    procedure.lifted_at = datetime.now(timezone.utc)
    db.session.flush()
    return procedure


def live_procedures() -> list[RetentionProcedure]:
    return db.session.scalars(select(RetentionProcedure).where(RetentionProcedure.lifted_at.is_(None))
                              .order_by(RetentionProcedure.placed_at, RetentionProcedure.id)).all()


# ---- the extension every page reads, applied by the daily computation


def open_extension(operation_id: int) -> RetentionExtension | None:
    return db.session.scalar(select(RetentionExtension).where(
        RetentionExtension.operation_id == operation_id, RetentionExtension.until.is_(None)))


def extension_wanted(operation: Operation) -> bool:
    """A cause is under way now (a live procedure, or the layers above say so), applied or
    not yet by the daily computation."""
    return live_procedure(operation) is not None or bool(retention_extended(operation.id))


# The audit entries of the computation, whatever the cause: the operation and the day,
# written as the system (the reason stays with the authority's procedure or the alert).
EXTENSION_ACTOR = "system"


def update_extensions(today: date | None = None) -> tuple[int, int]:
    """The daily computation: opens an extension (from ``today``) for each operation with a
    cause under way, closes it (on ``today``) for each whose causes have all ended, one
    audit entry each. Idempotent; two runs at once open each extension once. Returns
    (opened, closed)."""
    today = today or today_in_paris()
    opened = closed = 0
    for operation in db.session.scalars(select(Operation).order_by(Operation.id)).all():
        current = open_extension(operation.id)
        wanted = extension_wanted(operation)
        if wanted and current is None:
            try:
                with db.session.begin_nested():
                    db.session.add(RetentionExtension(operation_id=operation.id, since=today))
                    db.session.flush()
            except IntegrityError:  # another run opened it meanwhile
                continue
            audit.record("retention_extended", "operations", operation.id, after={"since": today},
                         actor=EXTENSION_ACTOR)
            opened += 1
        elif not wanted and current is not None:
            until = max(today, current.since)
            ended = db.session.execute(
                update(RetentionExtension).where(RetentionExtension.id == current.id, RetentionExtension.until.is_(None))
                .values(until=until).execution_options(synchronize_session=False))
            db.session.expire(current)
            if ended.rowcount != 1:  # another run closed it meanwhile
                continue
            audit.record("retention_extension_ended", "operations", operation.id, after={"until": until},
                         actor=EXTENSION_ACTOR)
            closed += 1
    return opened, closed


def ensure_retention_ended(operation: Operation, today: date | None = None) -> None:
    retention = retention_of(operation)
    if retention.ended(today) and not extension_wanted(operation):
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

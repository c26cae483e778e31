"""Conflict-of-interest declarations (DACI, primer §6): people who select or check
operations sign one, for one operation or for every operation of a programme year; a
declared interest means the person steps aside. A controller without a declaration in
force, or with a declared interest, cannot record service-done decisions (``control``)."""
from datetime import date

from sqlalchemy import or_, select

from ..accounts.models import OperationMember, User
from ..accounts.policy import service_done_checkers
from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.formatting import today_in_paris
from ..kernel.i18n import N_
from ..kernel.transactions import atomic
from ..operations.models import Operation
from .models import DaciDeclaration


def today() -> date:
    return today_in_paris()


@atomic
def record_declaration(*, user, operation, programme_year, signed_on, valid_until, has_interest,
                       interest_description, recorded_by) -> DaciDeclaration:
    if (operation is None) == (programme_year is None):
        raise DomainError(N_("Choisissez une opération ou une année de programmation (l'une ou l'autre)."))
    if valid_until is not None and valid_until < signed_on:
        raise DomainError(N_("La fin de validité précède la date de signature."))
    if signed_on > today():
        raise DomainError(N_("La date de signature ne peut pas être dans le futur."))
    description = (interest_description or "").strip()
    if has_interest and not description:
        raise DomainError(N_("Décrivez l'intérêt déclaré."))
    if has_interest and operation is None:
        raise DomainError(N_("Un intérêt se déclare pour une opération précise, pas pour une année entière."))
    declaration = DaciDeclaration(
        user_id=user.id,
        operation_id=operation.id if operation is not None else None,
        programme_year=programme_year,
        signed_on=signed_on,
        valid_until=valid_until,
        has_interest=bool(has_interest),
        interest_description=description or None,
        recorded_by=recorded_by.id if recorded_by is not None else None,
    )
    db.session.add(declaration)
    db.session.flush()
    return declaration


def withdraw_declaration(declaration: DaciDeclaration, on: date | None = None) -> None:
    if declaration.withdrawn_on is not None:
        raise DomainError(N_("Cette déclaration est déjà retirée."))
    declaration.withdrawn_on = on or today()
    db.session.flush()


def declarations_covering(user_id: int, operation_id: int, on: date) -> list[DaciDeclaration]:
    """Declarations of a person in force on ``on`` for an operation: its own, or the
    programme-year one of that year."""
    query = select(DaciDeclaration).where(
        DaciDeclaration.user_id == user_id,
        or_(DaciDeclaration.operation_id == operation_id, DaciDeclaration.programme_year == on.year),
        DaciDeclaration.signed_on <= on,
        or_(DaciDeclaration.valid_until.is_(None), DaciDeclaration.valid_until >= on),
        or_(DaciDeclaration.withdrawn_on.is_(None), DaciDeclaration.withdrawn_on > on),
    )
    return db.session.scalars(query).all()


def controller_may_check(user, operation, on: date | None = None) -> DomainError | None:
    """None when ``user`` may record service-done decisions on ``operation``; otherwise
    the reason, e.g. no valid conflict-of-interest declaration (DACI) or a declared interest."""
    on = on or today()
    covering = declarations_covering(user.id, operation.id, on)
    if any(d.has_interest for d in covering):
        return DomainError(N_("Vous avez déclaré un intérêt pour l'opération %(code)s : vous vous déportez de ce dossier."),
                           code=operation.code)
    if not covering:
        return DomainError(N_("Aucune déclaration d'absence de conflit d'intérêts (DACI) valide pour l'opération %(code)s."),
                           code=operation.code)
    return None


# Who records a declaration (claims.daci_new in accounts/policy.py).
DACI_RECORDERS = N_("Seul un administrateur ou le référent anti-fraude peut l'enregistrer (Registre DACI) : "
                    "transmettez-lui votre déclaration signée avant de contrôler.")


def checks_blocked(user, operations, on: date | None = None) -> list[tuple]:
    """(operation, reason) for each of ``operations`` where ``user`` may not record
    service-done decisions: shown before any work, on the home and bilan pages."""
    on = on or today()
    return [(operation, reason) for operation in operations
            if (reason := controller_may_check(user, operation, on)) is not None]


def missing_declarations(on: date | None = None) -> list[tuple]:
    """(user, operation) pairs of controllers assigned to an operation without a DACI in force."""
    on = on or today()
    rows = db.session.execute(
        select(User, Operation)
        .join(OperationMember, OperationMember.user_id == User.id)
        .join(Operation, Operation.id == OperationMember.operation_id)
        .where(service_done_checkers())
        .order_by(Operation.code, User.email)
    ).all()
    # The declarations in force that day, read once (``declarations_covering``'s rule for
    # every pair at once): an operation's own, or the programme-year one of that year.
    in_force = db.session.execute(select(DaciDeclaration.user_id, DaciDeclaration.operation_id,
                                         DaciDeclaration.programme_year).where(
        DaciDeclaration.signed_on <= on,
        or_(DaciDeclaration.valid_until.is_(None), DaciDeclaration.valid_until >= on),
        or_(DaciDeclaration.withdrawn_on.is_(None), DaciDeclaration.withdrawn_on > on),
    )).all()
    for_operation = {(user_id, operation_id) for user_id, operation_id, _year in in_force if operation_id is not None}
    for_year = {user_id for user_id, _operation_id, year in in_force if year == on.year}
    return [(user, operation) for user, operation in rows
            if user.id not in for_year and (user.id, operation.id) not in for_operation]


def daci_register() -> list[DaciDeclaration]:
    return db.session.scalars(
        select(DaciDeclaration).order_by(DaciDeclaration.signed_on.desc(), DaciDeclaration.id.desc())
    ).all()


def declaration_in_force(declaration: DaciDeclaration, on: date | None = None) -> bool:
    on = on or today()
    if declaration.withdrawn_on is not None and declaration.withdrawn_on <= on:
        return False
    if declaration.signed_on > on or (declaration.valid_until is not None and declaration.valid_until < on):
        return False
    return declaration.programme_year is None or declaration.programme_year == on.year

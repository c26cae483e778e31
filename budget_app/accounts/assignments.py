"""Who is assigned to which operation. Finance officers and controllers see only the
operations they are assigned to; the operations domain names them (``operation_directory``)."""
from flask import g, has_request_context
from sqlalchemy import select

from ..kernel.extensions import db
from ..kernel.hooks import Hook
from .models import OperationMember

# The operations domain answers: code -> operation (or None), ids -> {id: code}.
operation_by_code = Hook("operation_by_code", closed=lambda code: None)
operation_codes = Hook("operation_codes", closed=lambda ids: {})
# Every operation code, in order (the administrator's assignment screen).
all_operation_codes = Hook("all_operation_codes", closed=lambda: [])


def assigned_operation_ids(user_id: int) -> frozenset:
    """The ids of the operations a user is assigned to (read once per request)."""
    cache = g.setdefault("assigned_operations", {}) if has_request_context() else {}
    if user_id not in cache:
        cache[user_id] = frozenset(
            db.session.scalars(select(OperationMember.operation_id).where(OperationMember.user_id == user_id))
        )
    return cache[user_id]


def assign(user_id: int, operation_id: int) -> None:
    if db.session.get(OperationMember, (user_id, operation_id)) is None:
        db.session.add(OperationMember(user_id=user_id, operation_id=operation_id))
        db.session.flush()
    _forget(user_id)


def unassign(user_id: int, operation_id: int) -> None:
    member = db.session.get(OperationMember, (user_id, operation_id))
    if member is not None:
        db.session.delete(member)  # through the ORM: the audit trail records it
        db.session.flush()
    _forget(user_id)


def codes_of(user_id: int) -> list[str]:
    """The codes of a user's operations, in order."""
    ids = db.session.scalars(select(OperationMember.operation_id).where(OperationMember.user_id == user_id)).all()
    return sorted(operation_codes(ids).values())


def codes_by_user() -> dict:
    """user id -> the codes of their operations, in order (one query for every user)."""
    rows = db.session.execute(select(OperationMember.user_id, OperationMember.operation_id)).all()
    names = operation_codes({operation_id for _, operation_id in rows})
    result: dict = {}
    for user_id, operation_id in rows:
        result.setdefault(user_id, []).append(names.get(operation_id, str(operation_id)))
    return {user_id: sorted(codes) for user_id, codes in result.items()}


def _forget(user_id: int) -> None:
    if has_request_context():
        g.setdefault("assigned_operations", {}).pop(user_id, None)

"""Holds placed by the managing authority (a document to complete, a check under way,
primer §8): the line stays out of every new bilan until released. A held line reads
« En attente » for everyone, exactly like a line held because of an alert, so that the
wording never tells an alert (loi 2022-401); both causes are answered here to the expenses
list (``expenses.hooks.authority_held_lines``) and to the selection of a bilan."""
from datetime import datetime, timezone

from sqlalchemy import select

from ..expenses.hooks import authority_held_lines
from ..expenses.models import Expense
from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.i18n import N_
from ..operations.models import Operation
from ..staff.models import StaffCostLine
from .models import HOLD_LINE_TYPES, LineHold

REASON_LENGTH = 300
LINE_MODELS = {"expense": Expense, "staff_cost_line": StaffCostLine}


def _reason(text: str | None) -> str:
    reason = " ".join((text or "").split())
    if not reason:
        raise DomainError(N_("Indiquez le motif de la mise en attente ou de sa levée."))
    if len(reason) > REASON_LENGTH:
        raise DomainError(N_("Le motif dépasse %(max)s caractères."), max=REASON_LENGTH)
    return reason


def _line(operation: Operation, line_type: str, line_id: int):
    model = LINE_MODELS.get(line_type)
    line = db.session.get(model, line_id) if model is not None else None
    if line is None or line.operation_id != operation.id or getattr(line, "deleted_at", None) is not None:
        raise DomainError(N_("%(kind)s n° %(number)s introuvable dans l'opération %(code)s."),
                          kind=HOLD_LINE_TYPES.get(line_type, line_type), number=line_id, code=operation.code)
    return line


def live_hold(operation: Operation, line_type: str, line_id: int) -> LineHold | None:
    return db.session.scalar(select(LineHold).where(
        LineHold.operation_id == operation.id, LineHold.line_type == line_type, LineHold.line_id == line_id,
        LineHold.released_at.is_(None)))


def place_hold(operation: Operation, line_type: str, line_id: int, reason: str) -> LineHold:
    """Hold a line not yet declared in a bilan (a declared line is decided by the check)."""
    line = _line(operation, line_type, line_id)
    reason = _reason(reason)
    if line.claim_id is not None:
        raise DomainError(N_("Cette ligne est déjà déclarée dans un bilan : le contrôle de service fait en décide."))
    if live_hold(operation, line_type, line_id) is not None:
        raise DomainError(N_("Cette ligne est déjà en attente."))
    hold = LineHold(operation_id=operation.id, line_type=line_type, line_id=line_id, reason=reason)
    db.session.add(hold)
    db.session.flush()
    return hold


def release_hold(operation: Operation, line_type: str, line_id: int, reason: str) -> LineHold:
    _line(operation, line_type, line_id)
    reason = _reason(reason)
    hold = live_hold(operation, line_type, line_id)
    if hold is None:
        raise DomainError(N_("Cette ligne n'est pas en attente."))
    hold.released_at, hold.release_reason = datetime.now(timezone.utc), reason
    db.session.flush()
    return hold


def held_cost_lines(operation_id: int) -> set[tuple[str, int]]:
    """Lines the managing authority holds, as ("expense" | "staff_cost_line", id) pairs."""
    rows = db.session.execute(select(LineHold.line_type, LineHold.line_id).where(
        LineHold.operation_id == operation_id, LineHold.released_at.is_(None))).all()
    return {(line_type, line_id) for line_type, line_id in rows}


@authority_held_lines.register
def held_expenses(operation_id: int) -> set[int]:
    return {line_id for line_type, line_id in held_cost_lines(operation_id) if line_type == "expense"}

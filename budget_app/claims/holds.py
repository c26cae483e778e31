"""Holds placed by the managing authority (a document to complete, a check under way,
primer §8): the line stays out of every new bilan until released. The hold itself is a
mark on the line (``marks.place_hold``, the same service a referent's suspicion uses), so
it reads « En attente » everywhere exactly like a line held because of an alert (loi
2022-401); the reason and the link to the mark stay here (``LineHold.mark_id``)."""
from datetime import datetime, timezone

from sqlalchemy import select

from ..expenses.models import Expense
from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.i18n import N_
from ..kernel.transactions import atomic
from ..marks import services as marks
from ..marks.models import LINE_TYPES, LineMark
from ..operations.models import Operation
from ..staff.models import StaffCostLine
from ..units.models import UnitRecord
from .models import LineHold

REASON_LENGTH = 300
LINE_MODELS = {"expense": Expense, "staff_cost_line": StaffCostLine, "unit_record": UnitRecord}


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
                          kind=LINE_TYPES.get(line_type, line_type), number=line_id, code=operation.code)
    return line


def live_hold(operation: Operation, line_type: str, line_id: int) -> LineHold | None:
    return db.session.scalar(select(LineHold).where(
        LineHold.operation_id == operation.id, LineHold.line_type == line_type, LineHold.line_id == line_id,
        LineHold.released_at.is_(None)))


@atomic
def place_hold(operation: Operation, line_type: str, line_id: int, reason: str) -> LineHold:
    """Hold a line, declared in a bilan or not, as a suspicion may (loi 2022-401): a
    declared line stays in its bilan, the controller decides on it, and its FSE+ share
    waits until the hold is released."""
    _line(operation, line_type, line_id)
    reason = _reason(reason)
    if live_hold(operation, line_type, line_id) is not None:
        raise DomainError(N_("Cette ligne est déjà en attente."))
    mark = marks.place_hold(line_type, line_id)
    hold = LineHold(operation_id=operation.id, line_type=line_type, line_id=line_id, reason=reason, mark_id=mark.id)
    db.session.add(hold)
    db.session.flush()
    return hold


@atomic
def release_hold(operation: Operation, line_type: str, line_id: int, reason: str) -> LineHold:
    _line(operation, line_type, line_id)
    reason = _reason(reason)
    hold = live_hold(operation, line_type, line_id)
    if hold is None:
        raise DomainError(N_("Cette ligne n'est pas en attente."))
    hold.released_at, hold.release_reason = datetime.now(timezone.utc), reason
    marks.release_hold(hold.mark_id)
    db.session.flush()
    return hold


def held_cost_lines(operation_id: int) -> set[tuple[str, int]]:
    """The operation's held lines, whoever asked (their marks), as ("expense" |
    "staff_cost_line" | "unit_record", id) pairs."""
    pairs = set()
    for line_type, model in LINE_MODELS.items():
        rows = db.session.scalars(
            select(LineMark.line_id).join(model, model.id == LineMark.line_id)
            .where(LineMark.line_type == line_type, LineMark.kind == "held", LineMark.released_at.is_(None),
                   model.operation_id == operation_id)
        )
        pairs.update((line_type, line_id) for line_id in rows)
    return pairs

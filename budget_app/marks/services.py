"""Placing, releasing and reading the marks of cost lines (``models.LineMark``).

Claims declare a bilan's lines at submission and release them when it is withdrawn; the
managing authority's holds (claims) and a referent's suspicions (alerts) both go through
``place_hold``/``release_hold``, which take no reason and no asker. Expenses and staff
read marks directly (``frozen_problem``, ``live_marks``): a line that carries a live mark
cannot be changed, deleted or recomputed, whatever placed it.
"""
from datetime import datetime, timezone

from sqlalchemy import exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..kernel.audit import services as audit
from ..kernel.errors import Conflict, DomainError
from ..kernel.extensions import db
from ..kernel.i18n import N_
from .hooks import bilan_numbers
from .models import LINE_TYPES, LineMark

CHUNK = 5000  # ids per ... IN (...): under SQLite's bound-parameter limit

# One wording for every hold (authority, suspicion): it reveals no alert (loi 2022-401).
HOLD_LABEL = N_("En attente")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _check_type(line_type: str) -> None:
    if line_type not in LINE_TYPES:
        raise ValueError(f"unknown line type {line_type!r}")


def _live(line_type: str, kind: str | None = None):
    conditions = [LineMark.line_type == line_type, LineMark.released_at.is_(None)]
    if kind is not None:
        conditions.append(LineMark.kind == kind)
    return conditions


# ---- writing


def declare(line_type: str, line_ids, bilan_id: int, conflict: Conflict) -> None:
    """Mark ``line_ids`` declared in bilan ``bilan_id``. A line declared in another bilan
    meanwhile (two submissions at once) raises ``conflict`` and marks nothing."""
    _check_type(line_type)
    ids = list(line_ids)
    if not ids:
        return
    now = _now()
    rows = [{"line_type": line_type, "line_id": line_id, "kind": "declared", "bilan_id": bilan_id,
             "placed_at": now} for line_id in ids]
    try:
        with db.session.begin_nested():
            db.session.execute(insert(LineMark), rows)
    except IntegrityError:
        raise conflict from None


def release_declarations(bilan_id: int) -> None:
    """A bilan withdrawn to draft: its lines are free for another bilan."""
    db.session.execute(
        update(LineMark).where(LineMark.kind == "declared", LineMark.bilan_id == bilan_id,
                               LineMark.released_at.is_(None))
        .values(released_at=_now()).execution_options(synchronize_session=False)
    )


# The audit entry of every hold and release, whoever asked (the managing authority, a
# referent's suspicion): one action, one object type, the line and nothing else, written
# as the system, so the trail tells no alert from an ordinary hold (loi 2022-401). The
# reason stays with its author (``line_holds`` for the authority, the referent's log).
HOLD_ACTOR = "system"


def _audit_hold(action: str, mark: LineMark) -> None:
    audit.record(action, "line_marks", object_id=mark.id,
                 after={"line_type": mark.line_type, "line_id": mark.line_id, "kind": mark.kind},
                 actor=HOLD_ACTOR)


def place_hold(line_type: str, line_id: int) -> LineMark:
    """Hold a line out of every new bilan, declared in a bilan or not (a declared line stays
    in it; its FSE+ share waits, ``claims``). The asker keeps the returned mark's id with its
    own record (who, why); the mark and its audit entry say neither."""
    _check_type(line_type)
    mark = LineMark(line_type=line_type, line_id=line_id, kind="held", placed_at=_now())
    db.session.add(mark)
    db.session.flush()
    _audit_hold("hold", mark)
    return mark


def release_hold(mark_id: int | None) -> None:
    """Lift one hold; the line stays held while another live hold remains."""
    if mark_id is None:
        return
    mark = db.session.get(LineMark, mark_id)
    if mark is not None and mark.kind == "held" and mark.released_at is None:
        mark.released_at = _now()
        db.session.flush()
        _audit_hold("release_hold", mark)


# ---- reading


def has_live_mark(line_type: str, id_column, kind: str | None = None):
    """A SQL condition: the line whose id is ``id_column`` carries a live mark (of ``kind``)."""
    return exists().where(LineMark.line_id == id_column, *_live(line_type, kind))


def declared_bilan(line_type: str, id_column):
    """A SQL expression: the bilan a line is declared in (NULL when none). Correlated to the
    line's table at whatever depth it is nested (inside ``bilan_state``'s select of the
    bilan, SQLAlchemy would otherwise add the lines' table to this subquery's FROM, and
    every line would read the bilan of the first line declared anywhere)."""
    return (select(LineMark.bilan_id).where(LineMark.line_id == id_column, *_live(line_type, "declared"))
            .correlate_except(LineMark).limit(1).scalar_subquery())


def is_held(line_type: str, id_column):
    """A SQL expression: the line carries a live hold (what ``held_ids`` tells of a list of
    ids, for a query that reads the lines themselves)."""
    return select(LineMark.id).where(LineMark.line_id == id_column, *_live(line_type, "held")).correlate_except(LineMark).exists()


def live_marks(line_type: str, line_ids, kind: str | None = None) -> dict[int, list[LineMark]]:
    """line id -> its live marks (only the ids that carry some)."""
    found: dict[int, list[LineMark]] = {}
    ids = list(line_ids)
    for start in range(0, len(ids), CHUNK):
        rows = db.session.scalars(select(LineMark).where(LineMark.line_id.in_(ids[start:start + CHUNK]),
                                                         *_live(line_type, kind)).order_by(LineMark.id))
        for mark in rows:
            found.setdefault(mark.line_id, []).append(mark)
    return found


def held_ids(line_type: str, line_ids) -> set[int]:
    return set(live_marks(line_type, line_ids, "held"))


def declared_in(line_type: str, line_ids) -> dict[int, int]:
    """line id -> the bilan it is declared in."""
    return {line_id: marks[0].bilan_id for line_id, marks in live_marks(line_type, line_ids, "declared").items()}


def lines_declared_in(line_type: str, bilan_id: int):
    """A select of the ids of the lines declared in a bilan (live)."""
    return select(LineMark.line_id).where(LineMark.bilan_id == bilan_id, *_live(line_type, "declared"))


def frozen_problem(line_type: str, line_id: int | None, what, kinds=("declared", "held")) -> DomainError | None:
    """Why a line can no longer change, delete or be recomputed: it is declared in a bilan
    (corrected by a credit note or the control's decision), or held (one message whatever
    placed the hold, corrected once it is released). ``what`` names the line."""
    if line_id is None:
        return None
    marks = [mark for mark in live_marks(line_type, [line_id]).get(line_id, []) if mark.kind in kinds]
    declared = next((mark for mark in marks if mark.kind == "declared"), None)
    if declared is not None:
        number, state = bilan_numbers([declared.bilan_id]).get(declared.bilan_id, ("?", ""))
        return DomainError(N_("%(what)s fait partie du bilan n° %(number)s %(state)s : elle ne peut plus être "
                              "modifiée ni supprimée ; une erreur se corrige par un avoir ou au contrôle."),
                           what=what, number=number, state=f"({state})" if state else "")
    if marks:
        return DomainError(N_("%(what)s est en attente : elle ne peut être ni modifiée ni supprimée avant la levée "
                              "de l'attente."), what=what)
    return None


def carries_marks(line_type: str, line_id: int) -> bool:
    return bool(live_marks(line_type, [line_id]).get(line_id))


"""State machines: claims, timesheets and alerts move only along their declared table.

A ``StateMachine`` lists the ``Transition``s of one kind of record. ``move`` applies one,
guarded in the database: the UPDATE matches only the state that was read, so two people
moving the same record at once cannot both succeed (the second gets a ``Conflict``).
The ORM sees the new state too, so the automatic audit entry records the move.
``move_all`` applies one transition to many records of a kind at once (a bilan's
timesheets locked or unlocked): one guarded UPDATE for all, all or none; the caller writes
one audit entry per record.
"""
from dataclasses import dataclass

from sqlalchemy import inspect, update
from sqlalchemy.orm import attributes

from .errors import Conflict, DomainError
from .extensions import db
from .i18n import N_, translate


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple
    target: str
    label: str = ""  # marked with N_, shown on the button
    reason_required: bool = False
    flags: frozenset = frozenset()  # what else the move implies (e.g. "tells_reporter")

    def has(self, flag: str) -> bool:
        return flag in self.flags


class StateMachine:
    def __init__(self, labels: dict, transitions, column: str = "state", refusal: str | None = None,
                 conflict: str | None = None):
        self.labels = labels  # state -> label (N_)
        self.transitions = tuple(transitions)
        self.column = column
        # Messages (N_) for a move the table does not allow (with %(state)s, %(target)s) and
        # for a record someone else moved first.
        self.refusal = refusal or N_("Le passage de l'état « %(state)s » à l'état « %(target)s » n'est pas permis.")
        self.conflict = conflict or N_(
            "Cet enregistrement a été modifié entre-temps par quelqu'un d'autre ; rechargez la page."
        )

    def label(self, state: str) -> str:
        return translate(self.labels[state]) if state in self.labels else state

    def allowed(self, state: str) -> tuple:
        return tuple(move for move in self.transitions if state in move.sources)

    def by_action(self, state: str, action: str) -> Transition:
        move = next((m for m in self.transitions if m.action == action), None)
        if move is None:
            raise DomainError(N_("Action inconnue."))
        if state not in move.sources:
            raise DomainError(
                N_("Action « %(action)s » impossible à l'état « %(state)s »."),
                action=translate(move.label) if move.label else action,
                state=self.label(state),
            )
        return move

    def by_target(self, state: str, target: str, action: str | None = None) -> Transition:
        move = next(
            (m for m in self.allowed(state) if m.target == target and (action is None or m.action == action)), None
        )
        if move is None:
            raise DomainError(self.refusal, state=self.label(state), target=self.label(target))
        return move

    def _new_values(self, model, transition: Transition) -> tuple[dict, str | None]:
        """The UPDATE's values: the target state, and the version bumped when the model has one."""
        values = {self.column: transition.target}
        mapper = inspect(model)
        version_key = None
        if mapper.version_id_col is not None:
            version_key = mapper.get_property_by_column(mapper.version_id_col).key
            values[version_key] = getattr(model, version_key) + 1
        return values, version_key

    def move(self, record, transition: Transition, reason: str | None = None) -> str:
        """Apply ``transition`` to ``record`` (guarded UPDATE); returns the state it left."""
        reason = (reason or "").strip() or None
        if transition.reason_required and not reason:
            raise DomainError(N_("Indiquez le motif."))
        column = self.column
        from_state = getattr(record, column)
        if from_state not in transition.sources:
            self.by_action(from_state, transition.action)  # raises: not allowed from this state
        model = type(record)
        values, version_key = self._new_values(model, transition)
        db.session.flush()
        moved = db.session.execute(
            update(model)
            .where(model.id == record.id, getattr(model, column) == from_state)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        if moved != 1:
            raise Conflict(self.conflict)
        if version_key is not None:
            attributes.set_committed_value(record, version_key, getattr(record, version_key) + 1)
        attributes.set_committed_value(record, column, from_state)
        setattr(record, column, transition.target)
        return from_state

    def move_all(self, records, transition: Transition) -> list[str]:
        """Apply ``transition`` to every record in one guarded UPDATE (the rows must all still
        be in the state that was read, else ``Conflict`` and none moves). Returns the state
        each record left, in order; the caller records one audit entry per record (the ORM
        writes none: the records are left clean)."""
        records = list(records)
        if not records:
            return []
        column = self.column
        before = [getattr(record, column) for record in records]
        for state in before:
            if state not in transition.sources:
                self.by_action(state, transition.action)  # raises: not allowed from this state
        model = type(records[0])
        values, version_key = self._new_values(model, transition)
        db.session.flush()
        moved = 0
        for state in sorted(set(before)):
            ids = [record.id for record, old in zip(records, before, strict=True) if old == state]
            for start in range(0, len(ids), 500):  # bounded IN lists (SQLite's variable limit)
                moved += db.session.execute(
                    update(model)
                    .where(model.id.in_(ids[start:start + 500]), getattr(model, column) == state)
                    .values(**values)
                    .execution_options(synchronize_session=False)
                ).rowcount
        if moved != len(records):
            raise Conflict(self.conflict)
        for record in records:
            if version_key is not None:
                attributes.set_committed_value(record, version_key, getattr(record, version_key) + 1)
            attributes.set_committed_value(record, column, transition.target)
        return before

"""Every write that may change an operation's kept figures (``kept_models``) adds one to
its generation, in the same transaction, whatever wrote it: the ORM (``after_flush``:
new, changed and deleted objects) or a statement sent through the session
(``do_orm_execute``: an import's bulk INSERT, a guarded UPDATE of timesheets, the marks
of a bilan). A bulk statement bumps each operation it touches once: one UPDATE for all.

What is watched, and how a row names its operation:
- expenses, staff cost lines, staff assignments, plan versions, unit records (recorded,
  withdrawn, made complete by their evidence): their ``operation_id``;
- operations: their ``id`` (dates, payment deadline, evidence date);
- timesheets and staff documents: through their assignment; a unit record's evidence
  through its record;
- plan flat rates: through their plan version;
- marks (declared, held): through the line they mark.
An UPDATE or DELETE finds its operations by the same WHERE, read before it runs; one
whose operations cannot be told (a key column changed in bulk, a WHERE with a parameter
per row) bumps every operation: slower next read, never wrong.
"""
from sqlalchemy import event, select, union, update
from sqlalchemy.orm import Session, attributes

from ..expenses.models import Expense
from ..marks.models import LineMark
from ..operations.models import Operation, PlanFlatRate, PlanVersion
from ..staff.models import StaffAssignment, StaffCostLine, StaffDocument, Timesheet
from ..units.models import UnitEvidence, UnitRecord
from .kept_models import PendingFigureState

CHUNK = 500

DIRECT = {Expense.__table__: "operation_id", StaffCostLine.__table__: "operation_id",
          StaffAssignment.__table__: "operation_id", PlanVersion.__table__: "operation_id",
          UnitRecord.__table__: "operation_id", Operation.__table__: "id"}
THROUGH = {Timesheet.__table__: ("assignment_id", StaffAssignment.__table__),
           StaffDocument.__table__: ("assignment_id", StaffAssignment.__table__),
           PlanFlatRate.__table__: ("version_id", PlanVersion.__table__),
           UnitEvidence.__table__: ("record_id", UnitRecord.__table__)}
MARKED = {"expense": Expense.__table__, "staff_cost_line": StaffCostLine.__table__,
          "unit_record": UnitRecord.__table__}
# By name: an ORM statement (``update(Timesheet)``) names an annotated copy of the table.
WATCHED = {table.name: table for table in (*DIRECT, *THROUGH, LineMark.__table__)}
EVERY = object()  # every operation


def _watched(table):
    return WATCHED.get(getattr(table, "name", None))


def _key_column(table) -> str:
    if table is LineMark.__table__:
        return "line_id"
    return DIRECT[table] if table in DIRECT else THROUGH[table][0]


def _operations_of(table, where) -> object:
    """A SELECT of the operation ids of ``table``'s rows matching ``where``."""
    if table in DIRECT:
        return select(table.c[DIRECT[table]]).where(where)
    if table in THROUGH:
        key, parent = THROUGH[table]
        return select(parent.c.operation_id).where(parent.c.id.in_(select(table.c[key]).where(where)))
    return union(*[
        select(lines.c.operation_id).where(lines.c.id.in_(
            select(table.c.line_id).where(where, table.c.line_type == line_type)))
        for line_type, lines in MARKED.items()])


def _resolve(connection, table, keys) -> set:
    """Operation ids of rows of ``table`` whose key column holds ``keys`` (for a mark:
    (line type, line id) pairs)."""
    found: set = set()
    keys = [key for key in keys if key is not None]
    if table in DIRECT:
        return set(keys)
    if table in THROUGH:
        parent = THROUGH[table][1]
        for start in range(0, len(keys), CHUNK):
            found.update(connection.execute(select(parent.c.operation_id)
                                             .where(parent.c.id.in_(keys[start:start + CHUNK]))).scalars())
        return found
    for line_type, lines in MARKED.items():
        ids = sorted({line_id for kind, line_id in keys if kind == line_type})
        for start in range(0, len(ids), CHUNK):
            found.update(connection.execute(select(lines.c.operation_id)
                                            .where(lines.c.id.in_(ids[start:start + CHUNK]))).scalars())
    return found


def bump(connection, operation_ids) -> None:
    """One more generation for these operations (``EVERY``: all of them)."""
    table = PendingFigureState.__table__
    statement = update(table).values(generation=table.c.generation + 1)
    if operation_ids is EVERY:
        connection.execute(statement)
        return
    ids = sorted({op_id for op_id in operation_ids if op_id is not None})
    for start in range(0, len(ids), CHUNK):
        connection.execute(statement.where(table.c.operation_id.in_(ids[start:start + CHUNK])))


def _object_keys(obj, table):
    """The key values of an ORM object (the value before the change too); ``EVERY`` when
    one is not loaded (never loaded here: the row may be gone)."""
    names = ("line_type", "line_id") if table is LineMark.__table__ else (_key_column(table),)
    values = []
    for name in names:
        history = attributes.get_history(obj, name, passive=attributes.PASSIVE_NO_INITIALIZE)
        found = [*history.unchanged, *history.added, *history.deleted]
        if not found:
            return EVERY
        values.append(found)
    if table is LineMark.__table__:
        return [(kind, line_id) for kind in values[0] for line_id in values[1]]
    return values[0]


@event.listens_for(Session, "after_flush")
def _after_flush(session, flush_context):
    keys: dict = {}
    for objects in (session.new, session.dirty, session.deleted):
        for obj in objects:
            table = _watched(getattr(type(obj), "__table__", None))
            if table is None or (objects is session.new and table is Operation.__table__):
                continue
            if objects is session.dirty and not session.is_modified(obj, include_collections=False):
                continue
            found = _object_keys(obj, table)
            if found is EVERY:
                bump(session.connection(), EVERY)
                return
            keys.setdefault(table, []).extend(found)
    if not keys:
        return
    connection = session.connection()
    ids: set = set()
    for table, values in keys.items():
        ids |= _resolve(connection, table, values)
    bump(connection, ids)


def _parameter_keys(table, parameters):
    rows = parameters if isinstance(parameters, (list, tuple)) else [parameters]
    names = ("line_type", "line_id") if table is LineMark.__table__ else (_key_column(table),)
    keys = []
    for row in rows:
        if not isinstance(row, dict) or any(name not in row for name in names):
            return EVERY
        keys.append((row["line_type"], row["line_id"]) if len(names) == 2 else row[names[0]])
    return keys


@event.listens_for(Session, "do_orm_execute")
def _before_statement(state):
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    statement = state.statement
    table = _watched(getattr(statement, "table", None))
    if table is None:
        return
    connection = state.session.connection()
    if state.is_insert:
        if table is Operation.__table__:
            return  # a new operation has no figures yet
        keys = _parameter_keys(table, state.parameters) if state.parameters else EVERY
        bump(connection, EVERY if keys is EVERY else _resolve(connection, table, keys))
        return
    values = {getattr(column, "key", column) for column in (getattr(statement, "_values", None) or {})}
    where = statement.whereclause
    if (isinstance(state.parameters, (list, tuple)) or where is None
            or values & {_key_column(table), "line_type"}):
        bump(connection, EVERY)
        return
    bump(connection, connection.execute(_operations_of(table, where), state.parameters or {}).scalars().all())

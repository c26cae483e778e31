"""The audit trail: every change to an audited model is written here by the ORM
itself (views and services cannot forget), and services add business events
(login, submission, approval...) with ``record``.

A model opts in by inheriting ``Audited``; ``__audit_exclude__`` names columns
whose values must never be copied (password hashes, encrypted alert contents:
the entry then says the field changed, not its value).
"""
import enum
import getpass
from datetime import date, datetime, timezone
from decimal import Decimal

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Mapper, Session, attributes

from ..extensions import db
from .models import AuditEntry

REDACTED = "***"


class Audited:
    __audit_exclude__: frozenset = frozenset()

    @classmethod
    def audit_type(cls) -> str:
        return cls.__tablename__


@event.listens_for(Mapper, "mapper_configured")
def _keep_old_values(mapper, class_):
    """An expired attribute that is set would lose its old value; load it first so the
    entry can show what the value was before."""
    if issubclass(class_, Audited):
        for prop in mapper.column_attrs:
            mapper.class_manager[prop.key].impl.active_history = True


_PLAIN_TYPES = frozenset({type(None), bool, int, str})


def json_value(value):
    kind = type(value)  # the common exact types first (bulk imports write thousands of entries)
    if kind in _PLAIN_TYPES:
        return value
    if kind is Decimal:
        return format(value, "f")
    if kind is date:
        return value.isoformat()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return REDACTED
    if isinstance(value, float):  # never for money; kept readable for anything else
        return repr(value)
    return str(value)


def current_actor() -> tuple[int | None, str]:
    """Who is acting: the logged-in user, the anonymous public, or the OS user of a CLI command."""
    if has_request_context():
        if current_user and current_user.is_authenticated:
            return current_user.id, f"user:{current_user.email}"
        return None, "public"
    try:
        os_user = getpass.getuser()
    except Exception:  # no login name (containers): still say it was the command line
        os_user = "unknown"
    return None, f"cli:{os_user}"


def record(action: str, object_type: str, object_id=None, before=None, after=None, note=None, session=None,
           actor: str | None = None):
    """Add a business event to the trail, in the current transaction. ``actor`` (e.g.
    "system") replaces the current user where the entry must not say who acted."""
    session = session or db.session
    user_id, current = current_actor()
    if actor is None:
        actor = current
    else:
        user_id = None
    session.add(
        AuditEntry(
            actor=actor,
            user_id=user_id,
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            before=_clean(before),
            after=_clean(after),
            note=note,
        )
    )


def record_many(action: str, object_type: str, changes, note=None, session=None) -> int:
    """One entry per object of a bulk move, ``changes`` as ``(object_id, before, after)``,
    written in one INSERT (the same entries ``record`` would add one by one)."""
    session = session or db.session
    user_id, actor = current_actor()
    now = datetime.now(timezone.utc)
    rows = [
        {"occurred_at": now, "actor": actor, "user_id": user_id, "action": action, "object_type": object_type,
         "object_id": None if object_id is None else str(object_id), "before": _clean(before),
         "after": _clean(after), "note": note}
        for object_id, before, after in changes
    ]
    if rows:
        session.connection().execute(insert(AuditEntry.__table__), rows)
    return len(rows)


def _clean(values):
    if values is None:
        return None
    return {key: json_value(value) for key, value in values.items()}


def _column_keys(obj):
    mapper = inspect(obj).mapper
    return [prop.key for prop in mapper.column_attrs]


def _value(obj, key, value):
    return REDACTED if key in obj.__audit_exclude__ and value is not None else json_value(value)


def _identity(obj):
    identity = inspect(obj).identity
    if identity is None:
        return None
    return ":".join(str(part) for part in identity)


def _entries_for_flush(session: Session):
    for obj in session.new:
        if isinstance(obj, Audited):
            after = {key: _value(obj, key, getattr(obj, key)) for key in _column_keys(obj)}
            yield "create", obj, None, after
    for obj in session.dirty:
        if not isinstance(obj, Audited) or not session.is_modified(obj, include_collections=False):
            continue
        before, after = {}, {}
        for key in _column_keys(obj):
            history = attributes.get_history(obj, key)
            if not history.has_changes():
                continue
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if old == new:
                continue
            before[key] = _value(obj, key, old)
            after[key] = _value(obj, key, new)
        if after:
            yield "update", obj, before, after
    for obj in session.deleted:
        if isinstance(obj, Audited):
            before = {key: _value(obj, key, getattr(obj, key)) for key in _column_keys(obj)}
            yield "delete", obj, before, None


@event.listens_for(Session, "after_flush")
def _write_audit_entries(session, flush_context):
    rows = []
    user_id = actor = None
    for action, obj, before, after in _entries_for_flush(session):
        if actor is None:
            user_id, actor = current_actor()
        rows.append(
            {
                "occurred_at": datetime.now(timezone.utc),
                "actor": actor,
                "user_id": user_id,
                "action": action,
                "object_type": obj.audit_type(),
                "object_id": _identity(obj),
                "before": before,
                "after": after,
                "note": session.info.get("audit_note"),
            }
        )
    if rows:
        session.connection().execute(insert(AuditEntry.__table__), rows)


def note_for_changes(note: str | None, session=None):
    """Attach a reason (amendment, withdrawal...) to the automatic entries of this transaction."""
    (session or db.session).info["audit_note"] = note


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_note(session):
    session.info.pop("audit_note", None)

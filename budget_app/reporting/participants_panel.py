"""The participants block of an operation's dashboard (participants §4, §5): entered,
present and exited, and the caseworkers' deadlines late or due, by caseworker. Counts and
pseudonymous codes only, never an identity."""
from sqlalchemy import select

from ..accounts.models import User
from ..accounts.policy import may
from ..kernel.extensions import db
from ..participants.deadlines import open_dues, presence_counts


def participants_panel(operation, today) -> dict | None:
    """None for whoever may not see the operation's participants (the anti-fraud referent)."""
    if not may("participants.index", operation=operation):
        return None
    dues = open_dues([operation.id], today)
    ids = {due.caseworker_id for due in dues if due.caseworker_id}
    names = {user.id: user.display_name for user in db.session.scalars(select(User).where(User.id.in_(ids)))} \
        if ids else {}
    late: dict = {}
    for due in dues:
        if due.late:
            late.setdefault(names.get(due.caseworker_id, ""), []).append(due)
    return {"counts": presence_counts(operation.id, today), "late": sorted(late.items()),
            "due": sum(1 for due in dues if not due.late)}

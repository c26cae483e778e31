"""What a caseworker owes, and when (participants §4, product rule): the entry record
within 4 weeks of entry, the situation at exit within 4 weeks of exit, the six-month
follow-up from exit + 6 months (late 4 weeks after). Also the participants entered,
present and exited, for the dashboard. Codes only: nothing here reads an identity."""
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, case, func, or_, select

from ..kernel.extensions import db
from ..kernel.i18n import N_
from .models import Participant as P
from .rules import UPON_LEAVING_DAYS

GRACE = timedelta(days=UPON_LEAVING_DAYS)
KINDS = {
    "entry": N_("fiche d'entrée complète"),
    "exit": N_("situation à la sortie"),
    "follow_up": N_("suivi à 6 mois"),
}


@dataclass(frozen=True)
class Due:
    code: str
    operation_id: int
    caseworker_id: int | None
    kind: str
    due: date
    late: bool


def dues_of(participant, today: date) -> list[Due]:
    found = []

    def add(kind, due, late_after):
        found.append(Due(participant.code, participant.operation_id, participant.caseworker_id, kind, due,
                         today > late_after))

    if participant.erased_at is not None:
        return found
    if not participant.complete:
        due = participant.entry_date + GRACE
        add("entry", due, due)
    if participant.exit_date is not None and participant.exit_situation is None:
        due = participant.exit_date + GRACE
        add("exit", due, due)
    if participant.follow_up_date is not None and participant.follow_up_date <= today and (
            participant.employed_6m is None
            or (participant.employment_status == "emploi" and participant.improved_6m is None)):
        add("follow_up", participant.follow_up_date, participant.follow_up_date + GRACE)
    return found


def open_dues(operation_ids, today: date) -> list[Due]:
    """Every item still owed on these operations, the most urgent first."""
    if not operation_ids:
        return []
    query = select(P).where(P.operation_id.in_(list(operation_ids)), P.erased_at.is_(None), or_(
        P.complete.is_(False),
        and_(P.exit_date.is_not(None), P.exit_situation.is_(None)),
        and_(P.follow_up_date.is_not(None), P.follow_up_date <= today,
             or_(P.employed_6m.is_(None), and_(P.employment_status == "emploi", P.improved_6m.is_(None)))),
    ))
    dues = [due for participant in db.session.scalars(query) for due in dues_of(participant, today)]
    return sorted(dues, key=lambda due: (not due.late, due.due, due.code))


def late_by_caseworker(operation_ids, today: date) -> dict:
    """caseworker id (None: imported without one) -> the late items."""
    found: dict = {}
    for due in open_dues(operation_ids, today):
        if due.late:
            found.setdefault(due.caseworker_id, []).append(due)
    return found


def presence_counts(operation_id: int, today: date) -> dict:
    """Participants entered (so far), present today, exited (so far)."""
    entered = func.count(P.id)
    present = func.sum(case((or_(P.exit_date.is_(None), P.exit_date > today), 1), else_=0))
    exited = func.sum(case((and_(P.exit_date.is_not(None), P.exit_date <= today), 1), else_=0))
    row = db.session.execute(select(entered, present, exited).where(P.operation_id == operation_id,
                                                                   P.entry_date <= today)).one()
    return {"entered": int(row[0] or 0), "present": int(row[1] or 0), "exited": int(row[2] or 0)}

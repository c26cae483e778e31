"""The unit « participant ayant achevé le parcours », counted from the participants' records
by their pseudonymous code, never by name (participants §5: finance and claims see counts).

The rule (product rule, from participants §3-4): a participant counts once, in the period
holding the exit date, when
- the record is complete (participants §4: an incomplete record counts in no indicator), and
- the exit reason is « fin de parcours » (an « abandon » or « autre » exit is not a completed path).
The situation at exit does not matter: the unit pays for the path, not for its result.
"""
from datetime import date

from sqlalchemy import select

from ..kernel.extensions import db
from ..participants.models import Participant


def completed_codes(operation_id: int, start: date, end: date, exclude=frozenset()) -> list[str]:
    """The codes of the participants who completed their path between ``start`` and ``end``
    (both included), without those in ``exclude`` (counted already), in code order."""
    codes = db.session.scalars(
        select(Participant.code).where(
            Participant.operation_id == operation_id, Participant.complete.is_(True),
            Participant.exit_reason == "fin", Participant.exit_date >= start, Participant.exit_date <= end,
        ).order_by(Participant.code))
    return [code for code in codes if code not in exclude]

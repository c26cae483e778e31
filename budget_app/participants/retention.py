"""The end of retention for participants (participants §5; CPR art. 82, the same date as
the operation's documents): `retention purge` erases the identities (the encrypted rows and
the keyed hash) and the special-category answers, and keeps the other pseudonymous
answers, so every indicator other than EECO12, 13, 14 and 16 stays what it was; the
bilans' frozen tables (claims) are never touched. ``create_app`` wires these answers to
the operations hooks that the purge calls; it writes one manifest row per participant erased."""
from sqlalchemy import delete, func, select, update

from ..kernel.audit import services as audit
from ..kernel.extensions import db
from .models import SENSITIVE, Participant, ParticipantIdentity

ERASED = "identité et réponses sensibles effacées (RPDC art. 82)"


def participants_left(operation_id: int) -> int:
    return db.session.scalar(select(func.count(Participant.id)).where(Participant.operation_id == operation_id,
                                                                      Participant.erased_at.is_(None))) or 0


def erase_participants(operation, when) -> list[tuple]:
    codes = db.session.scalars(select(Participant.code).where(Participant.operation_id == operation.id,
                                                              Participant.erased_at.is_(None))
                               .order_by(Participant.code)).all()
    if not codes:
        return []
    ids = select(Participant.id).where(Participant.operation_id == operation.id, Participant.erased_at.is_(None))
    db.session.execute(delete(ParticipantIdentity).where(ParticipantIdentity.participant_id.in_(ids))
                       .execution_options(synchronize_session=False))
    db.session.execute(update(Participant).where(Participant.operation_id == operation.id,
                                                 Participant.erased_at.is_(None))
                       .values({**dict.fromkeys(SENSITIVE), "identity_hash": None, "erased_at": when,
                                "version": Participant.version + 1})
                       .execution_options(synchronize_session=False))
    db.session.expire_all()
    # One business entry (codes only): the bulk erasure is not a row-by-row ORM change.
    audit.record("participants_erased", "operations", operation.id,
                 after={"participants": len(codes), "first_code": codes[0], "last_code": codes[-1]})
    return [("participant", code, ERASED) for code in codes]

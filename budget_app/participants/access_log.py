"""The data protection officer's log (participants §5): every read of an identity or of a
special-category answer (who, when, which participant, by code), and every account given
the caseworker role (read from the audit trail, where the account's creation or change is
recorded). Auditors read it on a read-only page."""
from sqlalchemy import select

from ..kernel.audit.models import AuditEntry
from ..kernel.audit.services import current_actor
from ..kernel.extensions import db
from ..kernel.i18n import N_
from .models import ParticipantAccess

ACTIONS = {
    "identity": N_("identité et réponses sensibles lues"),
    "cli_show": N_("fiche lue en ligne de commande"),
    "access_export": N_("export du droit d'accès"),
    "role_granted": N_("rôle accompagnateur donné"),
}
CASEWORKER_ROLE = "caseworker"


def log_read(participant, action: str = "identity") -> None:
    """Record one read (in the current transaction: the request or the command commits it)."""
    user_id, actor = current_actor()
    db.session.add(ParticipantAccess(actor=actor, user_id=user_id, operation_id=participant.operation_id,
                                     participant_code=participant.code, action=action))


def entries(limit: int = 500) -> list[dict]:
    """The newest reads and caseworker role grants, newest first."""
    reads = [{"at": entry.occurred_at, "actor": entry.actor, "user_id": entry.user_id, "action": entry.action,
              "code": entry.participant_code}
             for entry in db.session.scalars(
                 select(ParticipantAccess).order_by(ParticipantAccess.occurred_at.desc()).limit(limit))]
    grants = []
    for entry in db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "users")
                                    .order_by(AuditEntry.occurred_at.desc()).limit(limit * 4)):
        after = entry.after or {}
        if after.get("role") == CASEWORKER_ROLE:
            grants.append({"at": entry.occurred_at, "actor": entry.actor, "user_id": entry.user_id,
                           "action": "role_granted", "code": None, "account": after.get("id") or entry.object_id})
    return sorted(reads + grants, key=lambda item: item["at"], reverse=True)[:limit]

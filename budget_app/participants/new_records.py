"""New participants written in bulk (an import of 10 000 people is one INSERT per table):
the pseudonymous rows with their generated codes, the encrypted identities, and the
audit entries the ORM would have written (codes only; special-category answers and the
identity as « *** »), in the same transaction."""
import base64
import secrets
from datetime import datetime, timezone

from sqlalchemy import select

from ..kernel.audit.models import AuditEntry
from ..kernel.audit.services import REDACTED, current_actor, json_value
from ..kernel.bulk import insert_rows, insert_with_ids
from ..kernel.extensions import db
from . import rules
from .answers import IDENTITY_KEYS
from .crypto import encrypt_identities
from .models import SENSITIVE, Participant, ParticipantIdentity

RECORD_KEYS = ("sex", "entry_date", "last_entry_date", "employment_status", "unemployment_months", "education_level",
               "disability", "third_country", "foreign_background", "homeless", "rural", *rules.EXIT_KEYS)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 8  # 40 bits: codes are names, not secrets


# 32 letters: each is 5 random bits, so base32 of 5 random bytes, read in this alphabet, is
# a code drawn uniformly (one draw of the system's CSPRNG for a whole import).
_FROM_BASE32 = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", CODE_ALPHABET.encode("ascii"))


def _draw(count: int) -> list[str]:
    letters = base64.b32encode(secrets.token_bytes(5 * count)).translate(_FROM_BASE32).decode("ascii")
    return ["P-" + letters[start:start + CODE_LENGTH] for start in range(0, len(letters), CODE_LENGTH)]


def new_code(taken: set) -> str:
    while True:
        code = _draw(1)[0]
        if code not in taken:
            taken.add(code)
            return code


def columns_of(record: dict) -> dict:
    """The stored columns of a checked record (the identity apart)."""
    values = {key: record.get(key) for key in RECORD_KEYS}
    values.update(age_at_entry=record.get("age_at_entry"), complete=not rules.missing(record),
                  follow_up_date=rules.add_months(record["exit_date"], rules.FOLLOW_UP_MONTHS)
                  if record.get("exit_date") else None)
    return values


def identity_json(record: dict) -> dict:
    identity = {key: record.get(key) for key in IDENTITY_KEYS if record.get(key) is not None}
    if identity.get("birth_date"):
        identity["birth_date"] = identity["birth_date"].isoformat()
    return identity


def _fresh_codes(count: int) -> list[str]:
    """``count`` codes no participant holds yet."""
    codes = _draw(count)
    taken: set = set()
    for index, code in enumerate(codes):
        if code in taken:  # the same code drawn twice in the file (about 1 in 10^12 a pair)
            codes[index] = new_code(taken | set(codes[index:]))
        taken.add(codes[index])
    for start in range(0, len(codes), 500):
        clash = set(db.session.scalars(select(Participant.code).where(Participant.code.in_(codes[start:start + 500]))))
        for index in range(start, min(start + 500, len(codes))):
            while codes[index] in clash:
                codes[index] = new_code(taken)
    return codes


def insert_new(operation, records: list[dict], caseworker_id: int | None) -> list[int]:
    """Insert the new participants of ``records`` (checked, merged records); their ids, in order."""
    if not records:
        return []
    now = datetime.now(timezone.utc)
    codes = _fresh_codes(len(records))
    rows = []
    for record, code in zip(records, codes):
        rows.append({**columns_of(record), "operation_id": operation.id, "code": code,
                     "identity_hash": record.get("identity_hash"), "caseworker_id": caseworker_id,
                     "recorded_at": now, "erased_at": None, "version": 1})
    ids = insert_with_ids(Participant.__table__, rows)
    blobs = encrypt_identities([(code, identity_json(record)) for code, record in zip(codes, records)])
    identities = [{"participant_id": id_, "ciphertext": blob} for id_, blob in zip(ids, blobs)]
    insert_rows(ParticipantIdentity.__table__, identities)
    user_id, actor = current_actor()
    entries = []
    for id_, row in zip(ids, rows):
        after = {key: (REDACTED if key in SENSITIVE and value is not None else json_value(value))
                 for key, value in row.items()}
        after["id"] = id_
        entries.append({"occurred_at": now, "actor": actor, "user_id": user_id, "action": "create",
                        "object_type": "participants", "object_id": str(id_), "before": None, "after": after,
                        "note": None})
        entries.append({"occurred_at": now, "actor": actor, "user_id": user_id, "action": "create",
                        "object_type": "participant_identities", "object_id": str(id_), "before": None,
                        "after": {"participant_id": id_, "ciphertext": REDACTED}, "note": None})
    insert_rows(AuditEntry.__table__, entries)
    return ids

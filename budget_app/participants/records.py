"""Recording participants: the one service behind the entry and exit forms, the import
and the command (a form is a one-row import). Each row is parsed (``answers``), merged
with what is recorded, checked (``rules``) and, when every row passes, written: the
pseudonymous record, the encrypted identity, the age at entry, the completeness.
Services flush; the request or the command commits."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..kernel.errors import DomainError, Problem
from ..kernel.extensions import db
from ..kernel.formatting import today_in_paris
from ..kernel.i18n import N_
from ..operations.closure import ensure_open
from . import rules
from .answers import COLUMNS, IDENTITY_KEYS, Answers
from .crypto import decrypt_identity, encrypt_identity, identity_digest
from .models import Participant, ParticipantIdentity, ParticipantSetting
from .new_records import RECORD_KEYS, columns_of, identity_json, insert_new

def allows_non_binary(operation) -> bool:
    setting = db.session.get(ParticipantSetting, operation.id)
    return bool(setting and setting.allow_non_binary)


def set_non_binary(operation, allowed: bool) -> None:
    setting = db.session.get(ParticipantSetting, operation.id)
    if setting is None:
        setting = ParticipantSetting(operation_id=operation.id, allow_non_binary=allowed)
        db.session.add(setting)
    elif not allowed and setting.allow_non_binary and db.session.scalar(
            select(Participant.id).where(Participant.operation_id == operation.id, Participant.sex == "X").limit(1)):
        raise DomainError(N_("Des participants de l'opération %(code)s sont enregistrés avec le sexe X : le "
                             "paramètre ne peut être retiré."), code=operation.code)
    setting.allow_non_binary = allowed
    db.session.flush()


def recorded_values(participant: Participant, with_identity: bool = False) -> dict:
    values = {key: getattr(participant, key) for key in RECORD_KEYS}
    values["age_at_entry"] = participant.age_at_entry
    values["erased_at"] = participant.erased_at
    if with_identity and participant.identity is not None:
        values.update(identity_of(participant))
    return values


def identity_of(participant: Participant) -> dict:
    """The decrypted identity (the callers that show it log the read: ``access_log``)."""
    if participant.identity is None:
        return {}
    found = decrypt_identity(participant.code, participant.identity.ciphertext)
    if found.get("birth_date"):
        found["birth_date"] = datetime.strptime(found["birth_date"], "%Y-%m-%d").date()
    return found


@dataclass
class Change:
    """What one row does: ``outcome`` new, updated, reentry or unchanged."""

    row: Answers
    outcome: str
    record: dict
    participant: Participant | None = None


def check_rows(operation, rows: list[Answers], problems: list, by_code: dict | None = None) -> list[Change]:
    """Merge and check each row; a refused row adds its Problems (named columns)."""
    ensure_open(operation)
    codes = {row.values["code"] for row in rows if row.values.get("code")}
    digests = {row.line: _digest(row.values) for row in rows if not row.values.get("code")}
    if by_code is None:
        by_code = _recorded(operation, Participant.code, codes)
    by_digest = _recorded(operation, Participant.identity_hash, {d for d in digests.values() if d})
    context = {"allow_non_binary": allows_non_binary(operation), "operation_start": operation.start_date,
               "operation_end": operation.end_date, "today": today_in_paris()}
    changes, seen = [], set()
    for row in rows:
        code = row.values.get("code")
        digest = digests.get(row.line)
        participant = by_code.get(code) if code else by_digest.get(digest)
        if digest and digest in seen:
            problems.append(Problem(DomainError(N_("même personne (nom, prénom, date de naissance) qu'une ligne "
                                                  "précédente du fichier")), line=row.line, column=COLUMNS["last_name"]))
            continue
        if digest:
            seen.add(digest)
            code = participant.code if participant else None
        if code and participant is None:
            problems.append(Problem(DomainError(N_("participant inconnu dans cette opération : « %(code)s »"), code=code),
                                    line=row.line, column=COLUMNS["code"]))
            continue
        if code and code in seen:
            problems.append(Problem(DomainError(N_("code en double dans le fichier")), line=row.line,
                                    column=COLUMNS["code"]))
            continue
        seen.add(code)
        answers = {key: value for key, value in row.values.items() if key != "code"}
        needs_identity = participant is not None and any(key in answers for key in IDENTITY_KEYS)
        recorded = recorded_values(participant, with_identity=needs_identity) if participant else None
        record, reentry = rules.merge(recorded, answers)
        birth = record.get("birth_date")
        if birth and record.get("entry_date") and birth < record["entry_date"]:
            record["age_at_entry"] = rules.age_at(birth, record["entry_date"])
        record["identity_hash"] = digest if digest and not needs_identity else _digest(record)
        refusals = rules.check(record, recorded=recorded, answers=answers, reentry=reentry, **context)
        for key, error in refusals:
            problems.append(Problem(error, line=row.line, column=COLUMNS.get(key, key)))
        if refusals:
            continue
        if participant is None:
            outcome = "new"
        elif reentry:
            outcome = "reentry"
        elif all(record.get(key) == recorded.get(key) for key in answers):
            outcome = "unchanged"
        else:
            outcome = "updated"
        changes.append(Change(row, outcome, record, participant))
    return changes


def _digest(values: dict) -> str | None:
    if values.get("last_name") and values.get("first_name") and values.get("birth_date"):
        return identity_digest(values["last_name"], values["first_name"], values["birth_date"])
    return None


def _recorded(operation, column, wanted: set) -> dict:
    found = {}
    wanted = sorted(wanted)
    for start in range(0, len(wanted), 500):
        for participant in db.session.scalars(select(Participant).where(
                Participant.operation_id == operation.id, column.in_(wanted[start:start + 500]))):
            found[getattr(participant, column.key)] = participant
    return found


def apply_changes(operation, changes: list[Change], user=None, load_new: bool = True) -> list[Participant]:
    """Write the checked changes: new participants in bulk (``new_records``), changed ones
    through the ORM; the audit trail records each participant by its id and code, the
    special-category answers and the identity only as changed, never their values."""
    written = []
    for change in changes:
        if change.outcome in ("new", "unchanged"):
            continue
        participant, record = change.participant, change.record
        for key, value in columns_of(record).items():
            setattr(participant, key, value)
        participant.identity_hash = record.get("identity_hash") or participant.identity_hash
        if any(key in change.row.values for key in IDENTITY_KEYS):
            _store_identity(participant, identity_json(record))
    db.session.flush()
    new_ids = insert_new(operation, [change.record for change in changes if change.outcome == "new"],
                         caseworker_id=getattr(user, "id", None))
    loaded = {p.id: p for p in db.session.scalars(select(Participant).where(Participant.id.in_(new_ids)))} \
        if load_new and new_ids else {}
    new_ids = iter(new_ids)
    for change in changes:
        if change.outcome == "new":
            written.append(loaded.get(next(new_ids)))
        else:
            written.append(change.participant)
    return written


def _store_identity(participant: Participant, identity: dict) -> None:
    if not participant.code:
        raise RuntimeError("a participant has its code before its identity")
    blob = encrypt_identity(participant.code, identity)
    if participant.identity is None:
        participant.identity = ParticipantIdentity(ciphertext=blob)
    else:
        participant.identity.ciphertext = blob

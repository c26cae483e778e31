"""Participants of an operation and their answers to the FSE+ common indicators
(Regulation (EU) 2021/1057, annex I; participants §1-§5).

Three tables, kept apart on purpose (participants §5):
- ``participants``: the pseudonymous record (a generated code) with the indicator
  answers, the age at entry computed and stored, so that every count is SQL over codes;
- ``participant_identities``: names, date of birth, commune and contact, encrypted at rest
  with a key of their own (``crypto.py``); only the operation's caseworkers read them;
- ``participant_accesses``: who read an identity or a special-category answer, when, of
  which participant (by code): the log the data protection officer reads.

The four questions disability, third-country national, foreign background and homeless
are the special-category answers (disability is health data, GDPR art. 9): never copied
into the audit trail (``__audit_exclude__``), erased by the retention purge.
"""
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..kernel.audit.models import utcnow
from ..kernel.audit.services import Audited
from ..kernel.extensions import db
from ..kernel.i18n import N_

SEXES = {"F": N_("Femme"), "H": N_("Homme"), "X": N_("Non binaire")}
STATUSES = {"chomeur": N_("chômeur"), "inactif": N_("inactif"), "emploi": N_("en emploi")}
ANSWERS = {"oui": N_("oui"), "non": N_("non"), "refus": N_("refus")}
EXIT_REASONS = {"fin": N_("fin de parcours"), "abandon": N_("abandon"), "autre": N_("autre")}
EXIT_SITUATIONS = {
    "recherche": N_("recherche d'emploi"),
    "formation": N_("formation"),
    "emploi": N_("emploi"),
    "inconnue": N_("inconnue"),
}
RESULTS = {"oui": N_("oui"), "non": N_("non"), "inconnue": N_("inconnue")}
# The special-category answers (participants §5): caseworkers only, never audited in clear.
SENSITIVE = ("disability", "third_country", "foreign_background", "homeless")


def _known(column: str, values) -> CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IS NULL OR {column} IN ({listed})", name=f"{column}_known")


class Participant(Audited, db.Model):
    __tablename__ = "participants"
    __audit_exclude__ = frozenset(SENSITIVE)
    __table_args__ = (
        _known("sex", SEXES),
        _known("employment_status", STATUSES),
        *(_known(column, ANSWERS) for column in SENSITIVE),
        _known("exit_reason", EXIT_REASONS),
        _known("exit_situation", EXIT_SITUATIONS),
        _known("qualification", RESULTS),
        _known("employed_6m", RESULTS),
        _known("improved_6m", RESULTS),
        CheckConstraint("education_level IS NULL OR (education_level >= 0 AND education_level <= 8)",
                        name="education_level_range"),
        CheckConstraint("unemployment_months IS NULL OR (unemployment_months >= 0 AND employment_status = 'chomeur')",
                        name="unemployment_months_for_unemployed"),
        CheckConstraint("exit_date IS NULL OR exit_date >= entry_date", name="exit_after_entry"),
        CheckConstraint("age_at_entry IS NULL OR (age_at_entry >= 0 AND age_at_entry < 130)", name="age_range"),
        UniqueConstraint("operation_id", "identity_hash", name="one_record_per_person"),
        Index("ix_participants_operation_entry", "operation_id", "entry_date"),
        Index("ix_participants_operation_exit", "operation_id", "exit_date"),
        Index("ix_participants_operation_follow_up", "operation_id", "follow_up_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), nullable=False)
    # Pseudonymous, generated (records.new_code): the only name of a participant outside caseworkers' pages.
    code: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    # HMAC (participant key) of surname, first name and birth date: finds the same person
    # again (one record per person and operation, participants §1) without decrypting anyone.
    identity_hash: Mapped[str | None] = mapped_column(String(64))
    sex: Mapped[str | None] = mapped_column(String(1))
    entry_date: Mapped[date] = mapped_column(Date, nullable=False)  # the first entry (participants §1)
    last_entry_date: Mapped[date | None] = mapped_column(Date)  # a re-entry into the same operation
    age_at_entry: Mapped[int | None] = mapped_column(Integer)  # whole years, from the identity's birth date
    employment_status: Mapped[str | None] = mapped_column(String(8))
    unemployment_months: Mapped[int | None] = mapped_column(Integer)
    education_level: Mapped[int | None] = mapped_column(Integer)  # CITE (ISCED) 0-8
    disability: Mapped[str | None] = mapped_column(String(5))
    third_country: Mapped[str | None] = mapped_column(String(5))
    foreign_background: Mapped[str | None] = mapped_column(String(5))
    homeless: Mapped[str | None] = mapped_column(String(5))
    rural: Mapped[bool | None] = mapped_column(Boolean)
    exit_date: Mapped[date | None] = mapped_column(Date)  # the last exit
    exit_reason: Mapped[str | None] = mapped_column(String(8))
    exit_situation: Mapped[str | None] = mapped_column(String(10))
    exit_situation_date: Mapped[date | None] = mapped_column(Date)
    qualification: Mapped[str | None] = mapped_column(String(8))
    employed_6m: Mapped[str | None] = mapped_column(String(8))
    improved_6m: Mapped[str | None] = mapped_column(String(8))
    # exit date + 6 months: the period that counts EECR05-06 (participants §3), stored for SQL.
    follow_up_date: Mapped[date | None] = mapped_column(Date)
    # Complete on the data participants §4 lists: only complete records count.
    complete: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    caseworker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    # Set by the retention purge: identity and special-category answers erased (CPR 82).
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}

    identity = relationship("ParticipantIdentity", uselist=False, back_populates="participant")


class ParticipantIdentity(Audited, db.Model):
    """Surname, first name, date of birth, commune, contact: one AES-GCM ciphertext
    (``crypto.py``) bound to the participant's code; never copied into the audit trail."""

    __tablename__ = "participant_identities"
    __audit_exclude__ = frozenset({"ciphertext"})

    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)

    participant = relationship("Participant", back_populates="identity")


class ParticipantSetting(Audited, db.Model):
    """An operation's participant settings (product rules the agreement may change)."""

    __tablename__ = "participant_settings"

    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), primary_key=True)
    # Non-binary persons « in accordance with national law » (annex I): X allowed when true.
    allow_non_binary: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class ParticipantAccess(db.Model):
    """A read of an identity or of a special-category answer, or a caseworker role given:
    the data protection officer's log (auditors read it). Codes only, never contents."""

    __tablename__ = "participant_accesses"
    __table_args__ = (Index("ix_participant_accesses_occurred_at", "occurred_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    actor: Mapped[str] = mapped_column(String(300), nullable=False)  # user:EMAIL or cli:OS_USER
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("operations.id"))
    participant_code: Mapped[str | None] = mapped_column(String(16), index=True)
    # identity | sensitive | cli_show | access_export
    action: Mapped[str] = mapped_column(String(32), nullable=False)

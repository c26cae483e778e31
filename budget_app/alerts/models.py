"""Alerts (signalements).

Everything a reporter writes (facts, persons, identity, messages, attachment names and
contents) is stored encrypted (``LargeBinary`` columns ending in ``_enc``, see
``crypto.py``) under the alert's own content key, which only its referents, the reporter
and the organisation's recovery key open (``keyring.py``): neither a database dump nor the
server's key reveals any of it (directive 2019/1937 art. 16).
No request data (address, user agent) is stored with an alert.

Alerts are not ``Audited`` models and write nothing to the general audit trail (append-only,
read by admins and auditors): their events go to the referent's own log (``AlertLogEntry``,
written by ``journal.record``).
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
    JSON,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..kernel.audit.models import utcnow
from ..kernel.db_types import Money
from ..kernel.extensions import db
from ..kernel.i18n import N_
from ..marks.models import LINE_TYPES as MARKED_LINE_TYPES

# Alert kinds (CPR art. 69 and annex XII "type of irregularity").
FRAUD = "fraud"
CONFLICT_OF_INTEREST = "conflict_of_interest"
DOUBLE_FUNDING = "double_funding"
OTHER_IRREGULARITY = "other"
KINDS = (FRAUD, CONFLICT_OF_INTEREST, DOUBLE_FUNDING, OTHER_IRREGULARITY)
KIND_LABELS = {
    FRAUD: N_("Fraude"),
    CONFLICT_OF_INTEREST: N_("Conflit d'intérêts"),
    DOUBLE_FUNDING: N_("Double financement"),
    OTHER_IRREGULARITY: N_("Autre irrégularité"),
}

# States; the allowed moves are the transition table in services.py.
RECEIVED = "received"
ACKNOWLEDGED = "acknowledged"
UNDER_REVIEW = "under_review"
TRANSMITTED = "transmitted"
CLOSED_FOUNDED = "closed_founded"
CLOSED_UNFOUNDED = "closed_unfounded"
STATES = (RECEIVED, ACKNOWLEDGED, UNDER_REVIEW, TRANSMITTED, CLOSED_FOUNDED, CLOSED_UNFOUNDED)
CLOSED_STATES = frozenset({CLOSED_FOUNDED, CLOSED_UNFOUNDED})
STATE_LABELS = {
    RECEIVED: N_("Reçu"),
    ACKNOWLEDGED: N_("Accusé de réception envoyé"),
    UNDER_REVIEW: N_("En cours d'examen"),
    TRANSMITTED: N_("Transmis"),
    CLOSED_FOUNDED: N_("Clos (fondé)"),
    CLOSED_UNFOUNDED: N_("Clos (non fondé)"),
}

# Who an alert is transmitted to.
RECIPIENTS = ("managing_authority", "olaf", "prosecutor")
RECIPIENT_LABELS = {
    "managing_authority": N_("Autorité de gestion"),
    "olaf": N_("OLAF (Office européen de lutte antifraude)"),
    "prosecutor": N_("Procureur de la République"),
}

# Cost lines an alert can put under suspicion: the real-cost lines that carry marks (unit
# costs and lump sums carry marks too, but a suspicion names invoices and staff months).
LINE_TYPES = tuple(line_type for line_type in MARKED_LINE_TYPES if line_type != "unit_record")
ALERT_LINE_TYPE_CHECK = "line_type IN ({})".format(", ".join(f"'{line_type}'" for line_type in LINE_TYPES))


def _in(column, values):
    return "{} IN ({})".format(column, ", ".join(f"'{v}'" for v in values))


class Alert(db.Model):
    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint(_in("kind", KINDS), name="kind_known"),
        CheckConstraint(_in("state", STATES), name="state_known"),
        CheckConstraint("transmitted_to IS NULL OR " + _in("transmitted_to", RECIPIENTS), name="recipient_known"),
        CheckConstraint("amount_concerned IS NULL OR amount_concerned >= 0", name="amount_not_negative"),
        CheckConstraint("eu_amount_concerned IS NULL OR eu_amount_concerned >= 0", name="eu_amount_not_negative"),
        Index("ix_alerts_state", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # SIG-<year>-<6 random digits>: random, so it reveals neither how many alerts exist nor others'.
    reference: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    state: Mapped[str] = mapped_column(String(32), nullable=False, default=RECEIVED)
    anonymous: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("operations.id"), nullable=True, index=True)
    # Argon2 hash of the follow-up secret; the secret itself is shown once and stored nowhere.
    secret_hash: Mapped[str | None] = mapped_column(String(255))
    # Encrypted JSON: facts, persons concerned, dates, the operation as described by the reporter.
    content_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Encrypted JSON: name and contact of a reporter who chose not to stay anonymous.
    identity_enc: Mapped[bytes | None] = mapped_column(LargeBinary)

    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    received_on: Mapped[date] = mapped_column(Date, nullable=False)
    acknowledgment_due: Mapped[date] = mapped_column(Date, nullable=False)
    acknowledged_on: Mapped[date | None] = mapped_column(Date)
    feedback_due: Mapped[date] = mapped_column(Date, nullable=False)
    feedback_on: Mapped[date | None] = mapped_column(Date)
    transmitted_to: Mapped[str | None] = mapped_column(String(32))
    transmitted_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)

    # Transmission form (CPR art. 69 and annex XII).
    amount_concerned: Mapped[object | None] = mapped_column(Money())
    eu_amount_concerned: Mapped[object | None] = mapped_column(Money())
    detected_on: Mapped[date | None] = mapped_column(Date)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    # Encrypted JSON: how detected, measures taken, persons as they appear on the form.
    transmission_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    reveal_persons: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Contents under the alert's own content key (wrapped per holder, ``keyring``), itself
    # inside the server key's layer. False: an alert of before migration 0019, under the
    # server key alone, until the first referent's login converts it.
    sealed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    operation = relationship("Operation")
    messages = relationship("AlertMessage", back_populates="alert", order_by="AlertMessage.id", cascade="all, delete-orphan")
    attachments = relationship(
        "AlertAttachment", back_populates="alert", order_by="AlertAttachment.id", cascade="all, delete-orphan"
    )
    cost_lines = relationship("AlertCostLine", back_populates="alert", order_by="AlertCostLine.id", cascade="all, delete-orphan")

    @property
    def is_closed(self) -> bool:
        return self.state in CLOSED_STATES

    def __repr__(self):
        return f"<Alert {self.reference} {self.state}>"


class AlertMessage(db.Model):
    """The follow-up thread between the referent and the (possibly anonymous) reporter."""

    __tablename__ = "alert_messages"
    __table_args__ = (CheckConstraint("author IN ('reporter', 'referent')", name="author_known"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), nullable=False, index=True)
    author: Mapped[str] = mapped_column(String(16), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    body_enc: Mapped[bytes | None] = mapped_column(LargeBinary)

    alert = relationship(Alert, back_populates="messages")


class AlertAttachment(db.Model):
    """A file sent with an alert or a reporter's answer, encrypted on disk under a random name."""

    __tablename__ = "alert_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), nullable=False, index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("alert_messages.id"))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    # Encrypted JSON: original file name and content type.
    meta_enc: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)

    alert = relationship(Alert, back_populates="attachments")


class AlertCostLine(db.Model):
    """A cost line put under suspicion by an alert. ``line_id`` points to ``expenses`` or
    ``staff_cost_lines`` (by ``line_type``), so it has no foreign key. While ``lifted_at``
    is empty, the line stays out of any new claim."""

    __tablename__ = "alert_cost_lines"
    __table_args__ = (
        CheckConstraint(ALERT_LINE_TYPE_CHECK, name="line_type_known"),
        Index("ix_alert_cost_lines_line", "line_type", "line_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), nullable=False, index=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), nullable=False, index=True)
    line_type: Mapped[str] = mapped_column(String(32), nullable=False)
    line_id: Mapped[int] = mapped_column(Integer, nullable=False)
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    linked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lifted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Encrypted: the reason may name people.
    lift_reason: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The hold the suspicion placed, as every other page reads it: a mark on the line
    # (``marks``), saying neither that an alert asked nor why.
    mark_id: Mapped[int | None] = mapped_column(ForeignKey("line_marks.id"))

    alert = relationship(Alert, back_populates="cost_lines")


class AlertEvent(db.Model):
    """A state change of an alert with its reason (encrypted: reasons name people)."""

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), nullable=False, index=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    from_state: Mapped[str] = mapped_column(String(32), nullable=False)
    to_state: Mapped[str] = mapped_column(String(32), nullable=False)
    reason_enc: Mapped[bytes | None] = mapped_column(LargeBinary)

    user = relationship("User")


class AlertAccess(db.Model):
    """Each opening of an alert by a user: who, when, which, what (no contents).
    Auditors read this log; it is kept after a purge."""

    __tablename__ = "alert_accesses"
    __table_args__ = (Index("ix_alert_accesses_opened_at", "opened_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    action: Mapped[str] = mapped_column(String(32), nullable=False)

    user = relationship("User")


class AlertLogEntry(db.Model):
    """The referent's own log of alert events (filing, messages, moves, links of cost lines,
    transmission form, purge, key rotation). Alert events never go to the general audit
    trail, which admins and auditors read and which cannot be purged. Actors: "public" for
    anything done through the public channel (whoever is logged in), else "user:<id>"."""

    __tablename__ = "alert_log_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), nullable=True, index=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    details: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class FollowUpSession(db.Model):
    """A reporter's follow-up session, kept on the server: the cookie holds only a random
    token whose hash is stored here. "Terminer" and idle expiry delete the row, so every
    copy of the cookie is dead."""

    __tablename__ = "alert_follow_up_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # The alert's content key, opened with the follow-up secret, under a key derived from the
    # cookie's token (which only the cookie carries).
    key_enc: Mapped[bytes | None] = mapped_column(LargeBinary)

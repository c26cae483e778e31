"""Who may open which alert (``keyring.py``): each alert's content key wrapped for each
holder, each referent's key pair (private part under their password), the organisation's
recovery key (public part only: the private part was printed once and is kept offline)."""
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..kernel.audit.models import utcnow
from ..kernel.extensions import db

REFERENT = "referent"
RECOVERY = "recovery"
REPORTER = "reporter"
# Transitional: the content key under the server key, only while a referent who held the
# alerts before keys per referent existed has not logged in since (then deleted).
SERVER = "server"
HOLDERS = (REFERENT, RECOVERY, REPORTER, SERVER)


class AlertKeyWrap(db.Model):
    __tablename__ = "alert_key_wraps"
    __table_args__ = (
        CheckConstraint("holder IN ({})".format(", ".join(f"'{h}'" for h in HOLDERS)), name="holder_known"),
        CheckConstraint("(holder = 'referent') = (user_id IS NOT NULL)", name="referent_has_user"),
        Index("ix_alert_key_wraps_alert_holder", "alert_id", "holder"),
        Index("ix_alert_key_wraps_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), nullable=False)
    holder: Mapped[str] = mapped_column(String(16), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # referent, recovery: sealed to their X25519 public key; reporter: under a key derived
    # from the follow-up secret and ``salt``; server: under the server key (Fernet).
    wrapped: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    salt: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class ReferentKey(db.Model):
    """A referent's key pair and whether they were granted access. The private key is
    encrypted under a key derived from their password (argon2id, ``kdf_salt``)."""

    __tablename__ = "alert_referent_keys"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    private_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    kdf_salt: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    # Set by a grant from another referent, by `alerts recover`, for the very first referent,
    # or by migration 0019 for the referents who already read the alerts.
    granted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A referent of before migration 0019 who has not logged in since: their alerts wait
    # for them under the server key (``SERVER`` wraps).
    legacy_pending: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class RecoveryKey(db.Model):
    __tablename__ = "alert_recovery_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)

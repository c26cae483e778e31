from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..kernel.audit.models import utcnow
from ..kernel.audit.services import Audited
from ..kernel.extensions import db
from .roles import ROLES


class User(UserMixin, Audited, db.Model):
    __tablename__ = "users"
    __audit_exclude__ = frozenset({"password_hash", "setup_token_hash", "totp_secret_enc", "totp_last_counter"})
    __table_args__ = (
        CheckConstraint("role IN ({})".format(", ".join(f"'{r}'" for r in ROLES)), name="role_known"),
        CheckConstraint("locale IN ('fr', 'en')", name="locale_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    # The person's name, shown in pages and histories instead of the e-mail address.
    full_name: Mapped[str | None] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    locale: Mapped[str] = mapped_column(String(5), nullable=False, default="fr")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Demo accounts are made by `flask seed`; production mode refuses to start while one is active.
    is_demo: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A single-use link an admin hands over so the person sets their own password (SHA-256 of
    # the token; it expires 48 h after it was made).
    setup_token_hash: Mapped[str | None] = mapped_column(String(64))
    setup_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Second factor (TOTP, RFC 6238): the secret, encrypted under a key derived from
    # SECRET_KEY; in use once confirmed by a first code; the last time step accepted, so that
    # a code is never accepted twice.
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    totp_last_counter: Mapped[int | None] = mapped_column(Integer)

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def display_name(self) -> str:
        return self.full_name or self.email

    def __repr__(self):
        return f"<User {self.email} {self.role}>"


class OperationMember(Audited, db.Model):
    """A finance officer or controller assigned to an operation: they see only these."""

    __tablename__ = "operation_members"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), primary_key=True)


class UserSession(db.Model):
    """Server-side record of a login: logout or a password change ends it, so a copied
    cookie stops working (the signed cookie alone cannot be revoked)."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    # SHA-256 of the random token kept in the session cookie; the token itself is stored nowhere.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(32))
    # Password given, second factor not yet: the session opens no page but the code's.
    second_factor_pending: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Last time the person typed their password and code again (sensitive actions, « fresh »).
    fresh_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Keys opened at login (the referent's private key), encrypted under a key derived from
    # the cookie's token, which the database does not hold (only its SHA-256): neither the
    # database nor the cookie alone opens them. Emptied when the session ends.
    vault: Mapped[bytes | None] = mapped_column(LargeBinary)

    user = relationship(User)


class RecoveryCode(db.Model):
    """A single-use code replacing the second factor (lost phone); only its hash is kept."""

    __tablename__ = "user_recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    code_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

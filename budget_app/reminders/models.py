"""What the reminders keep: which item was announced to whom at which threshold (so a
digest never announces it twice, even from two servers at once), what each person turned
off, and each person's private calendar feed.

Item keys are stored as keyed digests (HMAC with the application's secret key): the table
never says which alert, operation or person an item was about.
"""
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..kernel.audit.models import utcnow
from ..kernel.extensions import db

THRESHOLDS = ("new", "soon", "overdue")


class ReminderDelivery(db.Model):
    """One item announced (or being announced) to one person at one threshold."""

    __tablename__ = "reminder_deliveries"
    __table_args__ = (
        UniqueConstraint("user_id", "item_digest", "threshold", name="one_announcement_per_threshold"),
        CheckConstraint("threshold IN ('new', 'soon', 'overdue')", name="threshold_known"),
        CheckConstraint("state IN ('pending', 'sent')", name="state_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    item_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    threshold: Mapped[str] = mapped_column(String(16), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class ReminderOptOut(db.Model):
    """A kind of reminder a person turned off (never a legal deadline)."""

    __tablename__ = "reminder_opt_outs"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)


class CalendarFeed(db.Model):
    """A person's private iCalendar URL: only the token's SHA-256 is stored; revoking it
    (or issuing a new one) ends the old URL."""

    __tablename__ = "calendar_feeds"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

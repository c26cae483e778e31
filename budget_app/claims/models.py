"""Payment claims (demandes de paiement) and the FSE+ advance.

A claim covers a period of an operation. While ``draft`` it is recomputed from the cost
lines; submitting attaches its lines (``expenses.claim_id`` / ``staff_cost_lines.claim_id``)
and freezes a snapshot of the figures (the claims issue adds the snapshot and CSF tables).
"""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..audit.models import utcnow
from ..audit.services import Audited
from ..db_types import Money
from ..extensions import db
from ..money import N_

CLAIM_STATES = {
    "draft": N_("Brouillon"),
    "submitted": N_("Déposée"),
    "controlled": N_("Contrôlée"),
    "paid": N_("Payée"),
}


class Claim(Audited, db.Model):
    __tablename__ = "claims"
    __table_args__ = (
        CheckConstraint("state IN ('draft', 'submitted', 'controlled', 'paid')", name="state_known"),
        CheckConstraint("period_start <= period_end", name="period_ordered"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), nullable=False, index=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False)  # 1, 2, ... per operation
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")
    # Frozen at submission (None while draft).
    total_eligible: Mapped[Decimal | None] = mapped_column(Money())
    fse_asked: Mapped[Decimal | None] = mapped_column(Money())
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # After the service-done check.
    total_retained: Mapped[Decimal | None] = mapped_column(Money())
    fse_due: Mapped[Decimal | None] = mapped_column(Money())
    controlled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    controlled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Payment received.
    paid_on: Mapped[date | None] = mapped_column(Date)
    amount_paid: Mapped[Decimal | None] = mapped_column(Money())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)

    operation = relationship("Operation")


class Advance(Audited, db.Model):
    """FSE+ advance paid to the beneficiary (e.g. 30 % for a partner association)."""

    __tablename__ = "advances"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), nullable=False, index=True)
    paid_on: Mapped[date] = mapped_column(Date, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)

    operation = relationship("Operation")

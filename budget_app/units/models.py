"""What a bilan counts instead of invoices for the simplified cost options of the plan
(CPR 53(1)(b)-(c), ``operations.unit_lines``): the units delivered (a quantity, on a date,
with its evidence) and the deliverables achieved or not (all or nothing, with evidence).

The amount is computed once when the record is written (``amounts``): units × amount per
unit, half-up to the cent; a lump sum's amount when achieved, nothing otherwise. The
category a bilan counts it in (its category inside the flat-rate bases, or the simplified
costs' own line) is copied from the plan line, so that bilans group it in SQL. A record is
a cost line: it carries marks (``marks``: line type ``unit_record``) like an expense.

A unit « participant ayant achevé le parcours » keeps the participants' codes it counted
(``participant_codes``), never a name.
"""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..kernel.audit.models import utcnow
from ..kernel.audit.services import Audited
from ..kernel.db_types import Hours, Money
from ..kernel.extensions import db


class UnitRecord(Audited, db.Model):
    __tablename__ = "unit_records"
    __table_args__ = (
        CheckConstraint("(quantity IS NOT NULL AND achieved IS NULL) OR (quantity IS NULL AND achieved IS NOT NULL)",
                        name="units_or_deliverable"),
        CheckConstraint("quantity IS NULL OR quantity >= 0", name="quantity_not_negative"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        Index("ix_unit_records_operation_delivered", "operation_id", "delivered_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), nullable=False)
    plan_line_id: Mapped[int] = mapped_column(ForeignKey("plan_unit_lines.id"), nullable=False, index=True)
    # The day the units were delivered (the end of the period they cover) or the deliverable achieved.
    delivered_on: Mapped[date] = mapped_column(Date, nullable=False)
    period_start: Mapped[date | None] = mapped_column(Date)
    quantity: Mapped[Decimal | None] = mapped_column(Hours())  # unit costs
    achieved: Mapped[bool | None] = mapped_column(Boolean)  # lump sums
    rate: Mapped[Decimal] = mapped_column(Money(), nullable=False)  # as applied, from the plan line
    amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    category: Mapped[str] = mapped_column(String(16), nullable=False)  # the bilan's (unit_lines.claim_category)
    description: Mapped[str] = mapped_column(String(500), nullable=False)
    participant_codes: Mapped[str | None] = mapped_column(Text)  # counted from participants: their codes
    # Complete once its evidence is attached (``UnitEvidence``).
    is_complete: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delete_reason: Mapped[str | None] = mapped_column(Text)

    operation = relationship("Operation")
    plan_line = relationship("PlanUnitLine")
    documents = relationship("UnitEvidence", back_populates="record", order_by="UnitEvidence.id")

    def retention_operation_id(self) -> int:
        """Kept until the operation's retention ends (operations.retention, CPR 82)."""
        return self.operation_id

    @property
    def evidence(self):
        """The latest evidence attached (None before any)."""
        return self.documents[-1] if self.documents else None

    @property
    def original_name(self) -> str | None:
        return self.evidence.original_name if self.evidence else None

    @property
    def stored_name(self) -> str | None:
        return self.evidence.stored_name if self.evidence else None

    @property
    def sha256(self) -> str | None:
        return self.evidence.sha256 if self.evidence else None


class UnitEvidence(Audited, db.Model):
    """The evidence of a record (kernel.uploads: checked by content, random name, SHA-256),
    kept as a supporting document is, and purged with them when the retention ends
    (``retention``). A newer file is added beside an older one, never over it."""

    __tablename__ = "unit_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("unit_records.id"), nullable=False, index=True)
    original_name: Mapped[str] = mapped_column(String(255), nullable=False)
    stored_name: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    record = relationship("UnitRecord", back_populates="documents")

    # The purge's manifest names a document by its kind.
    kind = "unit_evidence"

    def retention_operation_id(self) -> int:
        """Kept until the operation's retention ends (operations.retention, CPR 82)."""
        return self.record.operation_id

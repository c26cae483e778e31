"""Expenses declared at real cost, and their supporting documents.

The eligible amount is computed by ``expenses.services`` (never typed) and stored so
that lists, totals and claims aggregate in the database:
eligible = (amount excl. VAT + VAT when not recoverable) × allocation key, half-up; VAT
partly recoverable counts VAT × (100 % − the pro-rata of its invoice's year) (``vat``).
"""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..kernel.audit.models import utcnow
from ..kernel.audit.services import Audited
from ..kernel.db_types import Money, Rate, rate_check
from ..kernel.extensions import db
from ..kernel.i18n import N_

DOCUMENT_KINDS = {
    "invoice": N_("Facture ou pièce de valeur probante équivalente"),
    "payment": N_("Preuve de paiement"),
    "other": N_("Autre pièce"),
}


class Expense(Audited, db.Model):
    __tablename__ = "expenses"
    __table_args__ = (
        *rate_check("allocation_percent > 0 AND allocation_percent <= {100}", "allocation_range"),
        # Only a credit note (avoir), which names the expense it reduces, may be negative.
        CheckConstraint(
            "credit_note_of_id IS NOT NULL OR (amount_excl_vat >= 0 AND vat >= 0)", name="negative_only_for_credit_note"
        ),
        # Participants' costs say whether they are pay and allowances (CPR 56(2), primer §9).
        CheckConstraint(
            "subcategory IS NULL OR (category = 'PARTICIPANTS' AND subcategory IN ('REMUNERATION', 'AUTRES'))",
            name="subcategory_of_participants",
        ),
        # VAT is recoverable, partly recoverable (with the pro-rata applied) or not at all.
        CheckConstraint("NOT (vat_recoverable AND vat_partly_recoverable)", name="vat_treatment_one"),
        *rate_check("vat_prorata IS NULL OR (vat_prorata >= 0 AND vat_prorata <= {100})", "vat_prorata_range"),
        Index("ix_expenses_operation_incurred", "operation_id", "incurred_on", "id"),
        Index("ix_expenses_supplier_document", "supplier_key", "document_key"),
        # Keyset pagination of the list: one index per sort order, and the filtered page
        # (category and period) read in date order (migration 0006).
        Index("ix_expenses_operation_category_incurred", "operation_id", "category", "incurred_on", "id"),
        Index("ix_expenses_operation_eligible", "operation_id", "eligible_amount", "id"),
        Index("ix_expenses_operation_supplier_name", "operation_id", "supplier_name", "id"),
        Index("ix_expenses_supplier_incurred", "supplier_key", "incurred_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), nullable=False)
    category: Mapped[str] = mapped_column(String(16), nullable=False)
    # PARTICIPANTS only: REMUNERATION (participants' pay and allowances) or AUTRES
    # (operations.models.PARTICIPANT_SUBCATEGORIES); None on other categories.
    subcategory: Mapped[str | None] = mapped_column(String(16))
    incurred_on: Mapped[date] = mapped_column(Date, nullable=False)  # date of the document
    paid_on: Mapped[date | None] = mapped_column(Date)  # date d'acquittement
    supplier_name: Mapped[str] = mapped_column(String(255), nullable=False)
    supplier_siret: Mapped[str | None] = mapped_column(String(14))
    supplier_key: Mapped[str] = mapped_column(String(255), nullable=False)  # SIRET, else normalised name
    document_number: Mapped[str] = mapped_column(String(64), nullable=False)  # n° de pièce
    document_key: Mapped[str] = mapped_column(String(64), nullable=False)  # normalised document number
    label: Mapped[str] = mapped_column(String(500), nullable=False)
    amount_excl_vat: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    vat: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal("0.00"))
    vat_recoverable: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Partial VAT recovery: the operation's pro-rata of the invoice's year, as applied to this
    # line (kept: a declared line never changes when the year's pro-rata does).
    vat_partly_recoverable: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    vat_prorata: Mapped[Decimal | None] = mapped_column(Rate())
    allocation_percent: Mapped[Decimal] = mapped_column(Rate(), nullable=False, default=Decimal("100"))
    eligible_amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    credit_note_of_id: Mapped[int | None] = mapped_column(ForeignKey("expenses.id"))
    # A required document (invoice, proof of payment) is missing: never counted in a claim.
    is_complete: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # The bilan a line is declared in, and any hold on it, are its marks (``marks``).
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Soft delete with a reason.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    delete_reason: Mapped[str | None] = mapped_column(Text)
    # Optimistic locking: a concurrent edit raises StaleDataError instead of overwriting.
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}

    operation = relationship("Operation")
    credit_note_of = relationship("Expense", remote_side=[id])
    documents = relationship(
        "SupportingDocument", back_populates="expense", order_by="SupportingDocument.id", cascade="all, delete-orphan"
    )

    def retention_operation_id(self) -> int:
        """Kept until the operation's retention ends (operations.retention, CPR 82)."""
        return self.operation_id


class SupportingDocument(Audited, db.Model):
    """A file stored under the upload folder with a random name; checked by content."""

    __tablename__ = "supporting_documents"
    __table_args__ = (CheckConstraint("kind IN ('invoice', 'payment', 'other')", name="kind_known"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    expense_id: Mapped[int] = mapped_column(ForeignKey("expenses.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    original_name: Mapped[str] = mapped_column(String(255), nullable=False)
    stored_name: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    expense = relationship("Expense", back_populates="documents")

    def retention_operation_id(self) -> int:
        """Kept until the operation's retention ends (operations.retention, CPR 82)."""
        return self.expense.operation_id


class ExpenseMonthTotal(db.Model):
    """Count and sums of the live (not deleted) expense lines of an operation, by category
    and month of the document date. Kept by database triggers on ``expenses`` (migration
    0006), whatever writes the lines (ORM, bulk insert, another domain), so the list's
    totals do not read 100 000 lines. Rows whose count fell to 0 stay, holding zeros."""

    __tablename__ = "expense_month_totals"

    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), primary_key=True)
    category: Mapped[str] = mapped_column(String(16), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    line_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    amount_excl_vat: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal("0.00"))
    vat: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal("0.00"))
    eligible_amount: Mapped[Decimal] = mapped_column(Money(), nullable=False, default=Decimal("0.00"))


# Operation documents (issue 22, primer §8: the CSF checks the agreement, publicity
# obligations and public procurement rules). Kept in the expenses domain because a
# procurement file names the expenses it covers.
OPERATION_DOCUMENT_KINDS = {
    "agreement": N_("Convention signée"),
    "amendment": N_("Avenant signé"),
    "publicity": N_("Preuve de publicité (RPDC art. 50 : affiche, mention sur le site, logos)"),
    "procurement": N_("Dossier de mise en concurrence (devis, marché, contrat)"),
}


class OperationDocument(Audited, db.Model):
    """A document of the operation, stored like an expense's (kernel.uploads: checked by
    content, random name, SHA-256): the signed agreement (plan version 1), an amendment
    (the plan version it signed), publicity evidence, or a procurement file (the expenses it
    covers: ``ProcurementCover``). Withdrawn rather than deleted (``removed_at``, with a
    reason): the file stays until the retention purge (CPR 82)."""

    __tablename__ = "operation_documents"
    __table_args__ = (
        CheckConstraint("kind IN ('agreement', 'amendment', 'publicity', 'procurement')", name="kind_known"),
        CheckConstraint("kind NOT IN ('agreement', 'amendment') OR plan_version_id IS NOT NULL",
                        name="plan_version_of_agreement"),
        Index("ix_operation_documents_operation_kind", "operation_id", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    plan_version_id: Mapped[int | None] = mapped_column(ForeignKey("plan_versions.id"))
    description: Mapped[str | None] = mapped_column(String(255))
    original_name: Mapped[str] = mapped_column(String(255), nullable=False)
    stored_name: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    removal_reason: Mapped[str | None] = mapped_column(String(500))

    operation = relationship("Operation")
    plan_version = relationship("PlanVersion")
    covers = relationship("ProcurementCover", back_populates="document", order_by="ProcurementCover.expense_id",
                          cascade="all, delete-orphan")

    def retention_operation_id(self) -> int:
        """Kept until the operation's retention ends (operations.retention, CPR 82)."""
        return self.operation_id


class ProcurementCover(db.Model):
    """A procurement file covers an expense (the purchase it put out to tender)."""

    __tablename__ = "procurement_covers"

    document_id: Mapped[int] = mapped_column(ForeignKey("operation_documents.id"), primary_key=True)
    expense_id: Mapped[int] = mapped_column(ForeignKey("expenses.id"), primary_key=True, index=True)

    document = relationship("OperationDocument", back_populates="covers")
    expense = relationship("Expense")

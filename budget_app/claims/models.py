"""Bilans (interim and final balance reports, the payment claims of the national
programme), their lines and state history, the FSE+ advance, and the conflict-of-interest
declarations (DACI) of the people who check them. The code calls a bilan a ``Claim``.

A bilan covers a period of an operation (primer §8-9: ``claims.bilans``). While ``draft`` it is recomputed from the cost
lines; submitting marks its lines declared in it (``marks``: ``line_marks``, kind
``declared``) and freezes a snapshot of the figures and of each line (``ClaimLine``), on which the
service-done check records its decisions.
"""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..kernel.audit.models import utcnow
from ..kernel.audit.services import Audited
from ..kernel.db_types import Money, Rate
from ..kernel.extensions import db
from ..kernel.i18n import N_
from ..marks.models import LINE_TYPE_CHECK

# Primer §8: interim bilans, then the final one, which ends on the operation's end date.
BILAN_KINDS = {
    "interim": N_("Bilan intermédiaire"),
    "final": N_("Bilan final"),
}

CLAIM_STATES = {
    "draft": N_("Brouillon"),
    "submitted": N_("Déposé"),
    "controlled": N_("Contrôlé"),
    "paid": N_("Payé"),
}


class Claim(Audited, db.Model):
    __tablename__ = "claims"
    __table_args__ = (
        CheckConstraint("state IN ('draft', 'submitted', 'controlled', 'paid')", name="state_known"),
        CheckConstraint("kind IN ('interim', 'final')", name="kind_known"),
        CheckConstraint("period_start <= period_end", name="period_ordered"),
        UniqueConstraint("operation_id", "number", name="claim_number_unique_per_operation"),
        CheckConstraint("advance_recovered IS NULL OR advance_recovered >= 0", name="advance_recovered_not_negative"),
        # A final bilan may record a repayment (FSE+ due below what was paid, primer §5.5).
        CheckConstraint("amount_paid IS NULL OR amount_paid >= 0 OR kind = 'final'",
                        name="amount_paid_negative_only_final"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), nullable=False, index=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False)  # 1, 2, ... per operation
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="interim")  # BILAN_KINDS
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
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Frozen figures at submission (categories, flat rates, caps), then after the CSF:
    # {"declared": {...}, "retained": {...}} as written by claims.computation.figures_to_json.
    figures: Mapped[dict | None] = mapped_column(JSON)
    # Part of the advance recovered on this claim's payment (primer §5, rule in README).
    advance_recovered: Mapped[Decimal | None] = mapped_column(Money())
    payment_reference: Mapped[str | None] = mapped_column(String(255))
    # What earlier payments fell short of (+) or exceeded (−) their payment expected, settled
    # on this bilan's payment (primer §5.5, ``settlement``); frozen when the payment is recorded.
    carried_forward: Mapped[Decimal | None] = mapped_column(Money())
    # Service-done check by sampling (primer §8, ``claims.sampling``): the seed of the drawn
    # sample and the share of lines drawn, as the operation set it when the sample was drawn.
    sample_seed: Mapped[int | None] = mapped_column(Integer)
    sample_percent: Mapped[Decimal | None] = mapped_column(Rate())

    operation = relationship("Operation")
    lines = relationship("ClaimLine", back_populates="claim", order_by="ClaimLine.position", lazy="dynamic")
    state_changes = relationship("ClaimStateChange", back_populates="claim", order_by="ClaimStateChange.id")


# CSF decisions on a line (primer §1, §8).
CSF_DECISIONS = {
    "kept": N_("Retenue"),
    "reduced": N_("Réduite"),
    "excluded": N_("Écartée"),
}

# No official reason list exists (primer §8): this one is workable.
CSF_REASONS = {
    "not_justified": N_("Dépense non justifiée"),
    "outside_realisation": N_("Hors période de réalisation"),
    "outside_payment": N_("Hors période d'acquittement"),
    "not_paid": N_("Dépense non acquittée"),
    "not_linked": N_("Dépense non rattachable à l'opération"),
    "staff_time": N_("Temps de travail non justifié"),
    "allocation_key": N_("Clé de répartition non justifiée"),
    "procurement": N_("Règles de la commande publique non respectées"),
    "publicity": N_("Obligations de publicité non respectées"),
    "ineligible": N_("Dépense inéligible par nature"),
    "double_funding": N_("Double financement"),
    "other": N_("Autre motif"),
}

LINE_KINDS = ("expense", "staff", "unit")
KIND_CHECK = "kind IN ('expense', 'staff', 'unit')"
# One source per line: an expense, a staff month, or a unit cost / lump sum record (migration 0034).
ONE_SOURCE = ("(kind = 'expense' AND expense_id IS NOT NULL AND staff_cost_line_id IS NULL AND unit_record_id IS NULL)"
              " OR (kind = 'staff' AND staff_cost_line_id IS NOT NULL AND expense_id IS NULL AND unit_record_id IS NULL)"
              " OR (kind = 'unit' AND unit_record_id IS NOT NULL AND expense_id IS NULL AND staff_cost_line_id IS NULL)")


class ClaimLine(Audited, db.Model):
    """Snapshot of one cost line of a submitted claim (its amounts at submission), and the
    controller's decision on it. Deleted when the claim is withdrawn to draft."""

    __tablename__ = "claim_lines"
    __table_args__ = (
        CheckConstraint(KIND_CHECK, name="kind_known"),
        CheckConstraint(ONE_SOURCE, name="one_source"),
        CheckConstraint("decision IS NULL OR decision IN ('kept', 'reduced', 'excluded')", name="decision_known"),
        # A reduced line keeps a smaller amount (a credit note, a smaller part of its negative
        # amount); an excluded one keeps nothing; a reason is required for both.
        CheckConstraint(
            "decision IS NULL OR (decision = 'kept' AND retained_amount = declared_amount)"
            " OR (decision = 'reduced' AND reason IS NOT NULL AND ((declared_amount > 0 AND retained_amount >= 0"
            " AND retained_amount < declared_amount) OR (declared_amount < 0 AND retained_amount <= 0"
            " AND retained_amount > declared_amount)))"
            " OR (decision = 'excluded' AND retained_amount = 0 AND reason IS NOT NULL)",
            name="decision_consistent",
        ),
        # Belt and braces with the declared marks: a cost line is snapshotted in one claim only.
        UniqueConstraint("expense_id", name="claim_lines_expense_once"),
        UniqueConstraint("staff_cost_line_id", name="claim_lines_staff_line_once"),
        Index("ix_claim_lines_claim_position", "claim_id", "position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    expense_id: Mapped[int | None] = mapped_column(ForeignKey("expenses.id"))
    staff_cost_line_id: Mapped[int | None] = mapped_column(ForeignKey("staff_cost_lines.id"))
    unit_record_id: Mapped[int | None] = mapped_column(ForeignKey("unit_records.id"))
    category: Mapped[str] = mapped_column(String(16), nullable=False)
    description: Mapped[str] = mapped_column(String(500), nullable=False)
    reference: Mapped[str | None] = mapped_column(String(255))
    incurred_on: Mapped[date] = mapped_column(Date, nullable=False)
    paid_on: Mapped[date | None] = mapped_column(Date)
    declared_amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    # CSF
    decision: Mapped[str | None] = mapped_column(String(16))
    retained_amount: Mapped[Decimal | None] = mapped_column(Money())
    reason: Mapped[str | None] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Each decision moves the version on; a decision based on an older one is refused
    # (control.decide_line: optimistic locking, as for expenses; issue 21).
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    claim = relationship("Claim", back_populates="lines")
    expense = relationship("Expense")
    staff_cost_line = relationship("StaffCostLine")
    unit_record = relationship("UnitRecord")


class ClaimStateChange(db.Model):
    """Every move of a claim, with who, when and why (the audit trail has it too)."""

    __tablename__ = "claim_state_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), nullable=False, index=True)
    from_state: Mapped[str] = mapped_column(String(16), nullable=False)
    to_state: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(255), nullable=False)

    claim = relationship("Claim", back_populates="state_changes")


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


class DaciDeclaration(Audited, db.Model):
    """A conflict-of-interest declaration (DACI) of a person who selects or checks
    operations: for one operation, or for every operation of a programme year."""

    __tablename__ = "daci_declarations"
    __table_args__ = (
        CheckConstraint(
            "(operation_id IS NOT NULL AND programme_year IS NULL) OR (operation_id IS NULL AND programme_year IS NOT NULL)",
            name="one_scope",
        ),
        CheckConstraint("valid_until IS NULL OR valid_until >= signed_on", name="valid_after_signature"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("operations.id"), index=True)
    programme_year: Mapped[int | None] = mapped_column(Integer)
    signed_on: Mapped[date] = mapped_column(Date, nullable=False)
    valid_until: Mapped[date | None] = mapped_column(Date)
    has_interest: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    interest_description: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)

    user = relationship("User", foreign_keys=[user_id])
    operation = relationship("Operation")


class LineHold(db.Model):
    """A cost line the managing authority holds out of every new bilan (a document to
    complete, a check under way: primer §8), with its reason, until it is released. A held
    line reads « En attente » like a line held for any other cause, so that the wording
    reveals nothing of an alert (loi 2022-401). Not ``Audited``: the trail records the
    hold as a hold (``marks.place_hold``/``release_hold``, the entry a suspicion leaves
    too); the reason stays here, on the authority's own screens."""

    __tablename__ = "line_holds"
    __table_args__ = (
        CheckConstraint(LINE_TYPE_CHECK, name="line_type_known"),
        CheckConstraint("released_at IS NULL OR release_reason IS NOT NULL", name="release_has_reason"),
        Index("ix_line_holds_operation_live", "operation_id", "released_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), nullable=False)
    line_type: Mapped[str] = mapped_column(String(16), nullable=False)
    line_id: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(String(300), nullable=False)
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    release_reason: Mapped[str | None] = mapped_column(String(300))
    # The hold itself, as every page reads it: a mark on the line (``marks``).
    mark_id: Mapped[int | None] = mapped_column(ForeignKey("line_marks.id"))

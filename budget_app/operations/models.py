"""Organisations, operations, versioned financing plans and intermediate-body envelopes.

Amounts are ``Money()`` (Numeric(14, 2)); percentages are ``Rate()`` and hold the
percent itself (60.0000 means 60 %). Plan figures that derive from others (flat-rate
amounts, totals) are never stored: they are computed by ``operations.services``.
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
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import OperationMember, User
from ..kernel.audit.models import utcnow
from ..kernel.audit.services import Audited
from ..kernel.db_types import Money, Rate, postgresql_only, rate_check
from ..kernel.extensions import db
from ..kernel.i18n import N_

ORGANISATION_KINDS = {
    "collectivite": N_("Collectivité"),
    "association": N_("Association"),
    "opco": N_("OPCO (opérateur de compétences)"),
    "state_operator": N_("Opérateur de l'État"),
    "other": N_("Autre"),
}
# Beneficiaries who get no start-up advance on the national programme (primer §8, fse.gouv.fr
# « la convention ») unless the agreement says otherwise (``Operation.advance_override``).
NO_ADVANCE_KINDS = ("collectivite", "opco", "state_operator")

# When the advance is recovered (primer §9): on the interim payments (default), or at the final balance.
ADVANCE_RECOVERY = {
    "interim": N_("Sur les paiements intermédiaires"),
    "final": N_("Au solde"),
}

OPERATION_STATUSES = {
    "programmed": N_("Programmée"),
    "running": N_("En cours"),
    "closed": N_("Clôturée"),
}

# Décret 2022-608 annex; PARTICIPANTS includes participants' pay and allowances.
COST_CATEGORIES = {
    "PERSONNEL": N_("Dépenses directes de personnel"),
    "FONCTIONNEMENT": N_("Dépenses directes de fonctionnement"),
    "PRESTATIONS": N_("Prestations de services"),
    "PARTICIPANTS": N_("Dépenses liées aux participants"),
    "NATURE": N_("Contributions en nature"),
}

# Participants' costs are split in two (CPR 56(2), primer §9): their pay and allowances are
# declared on top of the RESTANTS_40 flat rate, the rest is covered by it.
PARTICIPANT_SUBCATEGORIES = {
    "REMUNERATION": N_("Rémunérations et indemnités des participants"),
    "AUTRES": N_("Autres dépenses liées aux participants"),
}

# Flat-rate options (Décret art. 8-II): code -> (label, ceiling in percent).
FLAT_RATES = {
    "INDIRECTS_7": (N_("Coûts indirects, taux forfaitaire plafonné à 7 %, sur les dépenses directes éligibles (RPDC 54(a))"), Decimal("7")),
    "INDIRECTS_15": (N_("Coûts indirects, taux forfaitaire plafonné à 15 %, sur les frais de personnel directs (RPDC 54(b))"), Decimal("15")),
    "INDIRECTS_25": (N_("Coûts indirects, taux forfaitaire plafonné à 25 %, sur les dépenses directes éligibles (RPDC 54(c))"), Decimal("25")),
    "RESTANTS_40": (N_("Coûts restants, taux forfaitaire plafonné à 40 %, sur les frais de personnel directs (RPDC 56)"), Decimal("40")),
    "PERSONNEL_20": (N_("Frais de personnel, taux forfaitaire plafonné à 20 %, sur les autres coûts directs (RPDC 55(1))"), Decimal("20")),
}

RESOURCE_KINDS = {
    "fse": N_("FSE+"),
    "self": N_("Autofinancement"),
    "public": N_("Cofinancement public"),
    "private": N_("Cofinancement privé"),
    "nature": N_("Contributions en nature"),
}

HOURS_DIVISORS = (1720, 1607)

# The default procurement threshold, excl. VAT: the primer (§8) names « public procurement
# rules » among the CSF's reasons but fixes no amount; 40 000 € HT is the French public
# procurement code's threshold below which no competitive procedure is required (Code de la
# commande publique, art. R2122-8). Each operation may set its own (its agreement's).
PROCUREMENT_THRESHOLD = Decimal("40000.00")


def _in(column: str, values) -> str:
    return "{} IN ({})".format(column, ", ".join(f"'{value}'" for value in values))


class Organisation(Audited, db.Model):
    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(_in("kind", ORGANISATION_KINDS), name="kind_known"),
        CheckConstraint("siret IS NULL OR length(siret) = 14", name="siret_length"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    # Optional: a public body may not know its SIRET; checked (14 digits, Luhn) by the service.
    siret: Mapped[str | None] = mapped_column(String(14), unique=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    address: Mapped[str | None] = mapped_column(Text)
    is_demo: Mapped[bool] = mapped_column(nullable=False, default=False)

    def __repr__(self):
        return f"<Organisation {self.name}>"


class Envelope(Audited, db.Model):
    """An FSE envelope (subvention globale) managed by an intermediate body."""

    __tablename__ = "envelopes"
    __table_args__ = (
        CheckConstraint("fse_amount >= 0", name="fse_amount_not_negative"),
        CheckConstraint("start_date <= end_date", name="period_ordered"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date] = mapped_column(Date, nullable=False)
    fse_amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    is_demo: Mapped[bool] = mapped_column(nullable=False, default=False)

    organisation = relationship("Organisation")
    operations = relationship("Operation", back_populates="envelope", order_by="Operation.code")


class Operation(Audited, db.Model):
    __tablename__ = "operations"
    # The operation's checks came with columns added to an existing table (migration 0002):
    # PostgreSQL has them (0004); on SQLite the service alone enforces them (db_types).
    __table_args__ = (
        postgresql_only(CheckConstraint(_in("status", OPERATION_STATUSES), name="status_known")),
        postgresql_only(CheckConstraint("start_date < end_date", name="period_ordered")),
        postgresql_only(CheckConstraint("fse_rate > 0 AND fse_rate <= 100", name="fse_rate_range")),
        postgresql_only(CheckConstraint("advance_rate >= 0 AND advance_rate <= 100", name="advance_rate_range")),
        postgresql_only(CheckConstraint("fse_amount >= 0", name="fse_amount_not_negative")),
        postgresql_only(CheckConstraint("hours_divisor IN (1720, 1607)", name="hours_divisor_known")),
        postgresql_only(CheckConstraint(_in("advance_recovery", ADVANCE_RECOVERY), name="advance_recovery_known")),
        postgresql_only(CheckConstraint(
            "advance_override = false OR advance_override_reason IS NOT NULL", name="advance_override_has_reason"
        )),
        postgresql_only(CheckConstraint(
            "payment_deadline IS NULL OR payment_deadline >= end_date", name="payment_deadline_after_end"
        )),
        postgresql_only(CheckConstraint(
            "csf_sample_percent IS NULL OR (csf_sample_percent > 0 AND csf_sample_percent <= 100)",
            name="csf_sample_percent_range",
        )),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(String(500), nullable=False)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), nullable=False, index=True)
    service: Mapped[str | None] = mapped_column(String(255))
    # Eligibility period: costs incurred and paid between these dates (Décret art. 4).
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date] = mapped_column(Date, nullable=False)
    fse_rate: Mapped[Decimal] = mapped_column(Rate(), nullable=False)  # percent
    fse_amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)  # agreed FSE+ (cap)
    # The agreement fixes the FSE+ amount, which is not exactly rate × total: the rate used
    # is then FSE+ / total eligible cost (primer §1, §9; operations.fse_rates).
    fse_amount_fixed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    advance_rate: Mapped[Decimal] = mapped_column(Rate(), nullable=False, default=Decimal("0"))  # percent of FSE+
    # An advance for a beneficiary of a NO_ADVANCE_KINDS kind, because the agreement says so.
    advance_override: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    advance_override_reason: Mapped[str | None] = mapped_column(Text)
    advance_recovery: Mapped[str] = mapped_column(String(16), nullable=False, default="interim")
    # Costs incurred in the period are eligible when paid by this date (primer §9); None:
    # the end date + 6 months (``operations.plans.payment_deadline``).
    payment_deadline: Mapped[date | None] = mapped_column(Date)
    # Service-done check by sampling (primer §8): the share of a bilan's lines drawn (None:
    # the check is exhaustive) and whether the agreement extrapolates the sample's error rate.
    csf_sample_percent: Mapped[Decimal | None] = mapped_column(Rate())
    csf_extrapolation: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Annual hours divisor for hourly staff rates, CPR 55(2)(a): 1720, or 1607 (territorial civil servants).
    hours_divisor: Mapped[int] = mapped_column(Integer, nullable=False, default=1720)
    # Salaries are paid this many days after the month's end (0: its last day; 5: the 5th of
    # the next month): a staff month's payment date unless its timesheet gives one (primer §9).
    salary_pay_delay: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="programmed")
    # Retention: 5 years from 31 December of the year of the last payment (CPR 82).
    last_payment_date: Mapped[date | None] = mapped_column(Date)
    # When `retention purge` removed the supporting documents (retention ended), else None.
    documents_purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    envelope_id: Mapped[int | None] = mapped_column(ForeignKey("envelopes.id"), index=True)
    is_demo: Mapped[bool] = mapped_column(nullable=False, default=False)
    # Staff evidence (primer §1, §4) is required for staff months starting on or after this
    # day; None: for every month. Operations that existed when the rule came (migration
    # 0023) hold that day, so lines prepared before it never drop out of a bilan silently.
    staff_evidence_from: Mapped[date | None] = mapped_column(Date)
    # Expenses at or above this amount excl. VAT need a procurement file (mise en
    # concurrence) on the operation page; None: ``PROCUREMENT_THRESHOLD`` (the primer fixes
    # no threshold: a setting, ``operations procurement-threshold``).
    procurement_threshold: Mapped[Decimal | None] = mapped_column(Money())

    organisation = relationship("Organisation")
    envelope = relationship("Envelope", back_populates="operations")
    # Finance officers and controllers assigned to the operation (accounts.assignments).
    members = relationship(User, secondary=OperationMember.__table__, order_by=User.email, viewonly=True)
    plan_versions = relationship(
        "PlanVersion", back_populates="operation", order_by="PlanVersion.number", cascade="all, delete-orphan"
    )

    @property
    def current_plan(self):
        return self.plan_versions[-1] if self.plan_versions else None

    def __repr__(self):
        return f"<Operation {self.code}>"


class PlanVersion(Audited, db.Model):
    """One version of the financing plan: number 1 is the agreement (convention), each
    amendment (avenant) adds a version. Versions are never rewritten."""

    __tablename__ = "plan_versions"
    __table_args__ = (
        UniqueConstraint("operation_id", "number", name="number_unique_per_operation"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), nullable=False, index=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    amendment_number: Mapped[str | None] = mapped_column(String(32))  # n° d'avenant, None for the agreement
    signed_on: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    operation = relationship("Operation", back_populates="plan_versions")
    costs = relationship(
        "PlanCost", back_populates="version", order_by="(PlanCost.category, PlanCost.year)", cascade="all, delete-orphan"
    )
    flat_rates = relationship(
        "PlanFlatRate", back_populates="version", order_by="PlanFlatRate.code", cascade="all, delete-orphan"
    )
    resources = relationship(
        "PlanResource", back_populates="version", order_by="PlanResource.position", cascade="all, delete-orphan"
    )


class PlanCost(Audited, db.Model):
    """Planned real costs of one category for one calendar year."""

    __tablename__ = "plan_costs"
    __table_args__ = (
        UniqueConstraint("version_id", "category", "year", name="one_amount_per_category_year"),
        CheckConstraint(_in("category", COST_CATEGORIES), name="category_known"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id"), nullable=False, index=True)
    category: Mapped[str] = mapped_column(String(16), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)

    version = relationship("PlanVersion", back_populates="costs")


class PlanFlatRate(Audited, db.Model):
    """A flat-rate option chosen in the plan, with the rate used (at most its ceiling).
    Its base and amount are computed, never typed."""

    __tablename__ = "plan_flat_rates"
    __table_args__ = (
        UniqueConstraint("version_id", "code", name="one_rate_per_code"),
        CheckConstraint(_in("code", FLAT_RATES), name="code_known"),
        # Rate() is scaled by 10 000 on SQLite (db_types): same range, two spellings (migration 0004).
        *rate_check("rate > 0 AND rate <= {40}", "rate_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id"), nullable=False, index=True)
    code: Mapped[str] = mapped_column(String(16), nullable=False)
    rate: Mapped[Decimal] = mapped_column(Rate(), nullable=False)  # percent

    version = relationship("PlanVersion", back_populates="flat_rates")


class PlanResource(Audited, db.Model):
    """A line of the resources side: FSE+, self-financing, each other cofinancer."""

    __tablename__ = "plan_resources"
    __table_args__ = (
        CheckConstraint(_in("kind", RESOURCE_KINDS), name="kind_known"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)

    version = relationship("PlanVersion", back_populates="resources")


AMENDMENT_REQUEST_STATES = {
    "pending": N_("En attente d'approbation"),
    "approved": N_("Approuvé"),
    "rejected": N_("Refusé"),
}


class AmendmentRequest(Audited, db.Model):
    """An amendment entered by a finance officer: pending until an administrator approves it
    (the plan in force changes then) or rejects it with a reason. ``payload`` is the amendment
    as entered (JSON: plan lines, end date, FSE+ rate and amount, payment deadline)."""

    __tablename__ = "amendment_requests"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'approved', 'rejected')", name="state_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), nullable=False, index=True)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    plan_version_number: Mapped[int | None] = mapped_column(Integer)

    operation = relationship("Operation")
    requested_by = relationship(User, foreign_keys=[requested_by_id])
    decided_by = relationship(User, foreign_keys=[decided_by_id])


class RetentionProcedure(db.Model):
    """A procedure the managing authority records (CPR 82(2)) with its reason, until lifted: its
    own record (`retention hold`). Not ``Audited``: everyone else reads the extension the daily
    computation opens for it (``RetentionExtension``), as for any other cause (loi 2022-401)."""

    __tablename__ = "retention_procedures"
    __table_args__ = (
        Index("ix_retention_procedures_operation_live", "operation_id", "lifted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), nullable=False)
    reason: Mapped[str] = mapped_column(String(300), nullable=False)
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


OPEN_EXTENSION = "until IS NULL"


class RetentionExtension(db.Model):
    """The retention of an operation extended (CPR 82(2)) from ``since`` to ``until`` (open
    while None), as every page reads it. Opened and closed only by the daily computation
    (``retention.update_extensions``), whatever the cause (a procedure recorded by the
    authority, an alert): no reason, no cause, one neutral audit entry each way."""

    __tablename__ = "retention_extensions"
    __table_args__ = (
        CheckConstraint("until IS NULL OR until >= since", name="period_ordered"),
        # One open extension per operation (two computations at once: one wins).
        Index("retention_extensions_open_once", "operation_id", unique=True,
              sqlite_where=text(OPEN_EXTENSION), postgresql_where=text(OPEN_EXTENSION)),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), nullable=False)
    since: Mapped[date] = mapped_column(Date, nullable=False)
    until: Mapped[date | None] = mapped_column(Date)
class VatProrata(Audited, db.Model):
    """A year's VAT recovery pro-rata (CPR 64(1)(c)), applied by ``expenses.vat``."""

    __tablename__ = "vat_prorata_rates"
    __table_args__ = (
        UniqueConstraint("operation_id", "year", name="one_vat_prorata_per_year"),
        *rate_check("percent >= 0 AND percent <= {100}", "percent_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), nullable=False, index=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    percent: Mapped[Decimal] = mapped_column(Rate(), nullable=False)

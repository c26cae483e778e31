"""Staff charged to operations: people, their assignment method, annual employment
costs (hourly rate, CPR 55(2)(a)), monthly timesheets and the staff cost lines they give.

A staff cost line is the PERSONNEL cost of one person for one month on one operation,
with its computation kept as text ("137,5 h × 32,00 €/h = 4 400,00 €", CPR annex XIII).
"""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
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

from ..kernel.audit.services import Audited
from ..kernel.dates import month_end
from ..kernel.db_types import Hours, Money, Rate, rate_check
from ..kernel.extensions import db
from ..kernel.i18n import N_
from ..marks.services import declared_in

ASSIGNMENT_METHODS = {
    "hourly": N_("Taux horaire, méthode A (RPDC 55(2)(a))"),
    "hourly_monthly": N_("Taux horaire, méthode B (RPDC 55(2)(b))"),
    "fixed_share": N_("Temps fixe (RPDC 55(5))"),
}

TIMESHEET_STATES = {
    "draft": N_("Brouillon"),
    "submitted": N_("Soumise"),
    "approved": N_("Approuvée"),
    "locked": N_("Verrouillée (demandée)"),
}
# A month's cost line counts (in lists, totals and claims) once its timesheet is approved;
# a claim's submission locks it.
CLAIMABLE_TIMESHEET_STATES = ("approved", "locked")


class Person(Audited, db.Model):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_number: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)  # matricule
    last_name: Mapped[str] = mapped_column(String(100), nullable=False)
    first_name: Mapped[str] = mapped_column(String(100), nullable=False)
    function: Mapped[str | None] = mapped_column(String(255))
    employer: Mapped[str | None] = mapped_column(String(255))


class StaffAssignment(Audited, db.Model):
    """A person on an operation, with the method used for their cost."""

    __tablename__ = "staff_assignments"
    __table_args__ = (
        UniqueConstraint("operation_id", "person_id", name="one_assignment_per_person"),
        CheckConstraint("method IN ('hourly', 'hourly_monthly', 'fixed_share')", name="method_known"),
        *rate_check(
            "(method = 'fixed_share' AND fixed_percent > 0 AND fixed_percent <= {100})"
            " OR (method IN ('hourly', 'hourly_monthly') AND fixed_percent IS NULL)",
            "fixed_percent_for_fixed_share",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), nullable=False, index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), nullable=False, index=True)
    method: Mapped[str] = mapped_column(String(16), nullable=False)
    fixed_percent: Mapped[Decimal | None] = mapped_column(Rate())  # % of the mission letter (fixed share)

    operation = relationship("Operation")
    person = relationship("Person")
    annual_costs = relationship("AnnualCost", back_populates="assignment", order_by="AnnualCost.year")
    monthly_costs = relationship("MonthlyCost", back_populates="assignment", order_by="MonthlyCost.year")
    timesheets = relationship("Timesheet", back_populates="assignment", order_by="Timesheet.month")


class AnnualCost(Audited, db.Model):
    """Documented annual gross employment cost of a year for an hourly person; the rate is
    annual cost / (hours divisor × working share), CPR 55(2)(a), rounded half-up to the cent."""

    __tablename__ = "annual_costs"
    __table_args__ = (
        UniqueConstraint("assignment_id", "year", name="one_cost_per_year"),
        CheckConstraint("annual_cost > 0", name="annual_cost_positive"),
        *rate_check("working_share > 0 AND working_share <= {100}", "working_share_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("staff_assignments.id"), nullable=False, index=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    annual_cost: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    working_share: Mapped[Decimal] = mapped_column(Rate(), nullable=False, default=Decimal("100"))  # quotité, %
    hours_divisor: Mapped[int] = mapped_column(Integer, nullable=False)  # the operation's, at the time
    hourly_rate: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    computation: Mapped[str] = mapped_column(Text, nullable=False)  # "41 280,00 € / 1 720 h = 24,00 €/h"

    assignment = relationship("StaffAssignment", back_populates="annual_costs")


class MonthlyCost(Audited, db.Model):
    """Method B (CPR 55(2)(b), primer §4) for a year: the latest documented monthly gross
    employment cost and the monthly working time of the employment document; the rate is
    monthly cost / monthly hours, rounded half-up to the cent once, and the hours declared
    for a month on every operation never exceed the monthly hours (CPR 55(3))."""

    __tablename__ = "monthly_costs"
    __table_args__ = (
        UniqueConstraint("assignment_id", "year", name="one_monthly_cost_per_year"),
        CheckConstraint("monthly_cost > 0", name="monthly_cost_positive"),
        CheckConstraint("monthly_hours > 0", name="monthly_hours_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("staff_assignments.id"), nullable=False, index=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    monthly_cost: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    monthly_hours: Mapped[Decimal] = mapped_column(Hours(), nullable=False)
    hourly_rate: Mapped[Decimal] = mapped_column(Money(), nullable=False)
    computation: Mapped[str] = mapped_column(Text, nullable=False)  # "2 400,00 € / 151,67 h = 15,82 €/h"

    assignment = relationship("StaffAssignment", back_populates="monthly_costs")


class Timesheet(Audited, db.Model):
    """One person, one operation, one month (``month`` is the first day of the month)."""

    __tablename__ = "timesheets"
    __table_args__ = (
        UniqueConstraint("assignment_id", "month", name="one_timesheet_per_month"),
        CheckConstraint("state IN ('draft', 'submitted', 'approved', 'locked')", name="state_known"),
        # CPR 55(3): hours on the operation never exceed hours worked.
        CheckConstraint(
            "hours_on_operation IS NULL OR hours_worked IS NULL OR hours_on_operation <= hours_worked",
            name="hours_within_worked",
        ),
        CheckConstraint("hours_on_operation IS NULL OR hours_on_operation >= 0", name="hours_not_negative"),
        CheckConstraint("monthly_cost IS NULL OR monthly_cost >= 0", name="monthly_cost_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("staff_assignments.id"), nullable=False, index=True)
    month: Mapped[date] = mapped_column(Date, nullable=False)
    hours_on_operation: Mapped[Decimal | None] = mapped_column(Hours())  # hourly staff
    hours_worked: Mapped[Decimal | None] = mapped_column(Hours())
    monthly_cost: Mapped[Decimal | None] = mapped_column(Money())  # fixed-share staff
    # The day the month's salary was paid, as entered (None: the operation's pay day, primer §9).
    salary_paid_on: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}

    assignment = relationship("StaffAssignment", back_populates="timesheets")
    cost_line = relationship("StaffCostLine", back_populates="timesheet", uselist=False)


class StaffCostLine(Audited, db.Model):
    """The PERSONNEL cost of an approved person-month: hours × rate, or monthly cost × fixed %."""

    __tablename__ = "staff_cost_lines"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        Index("ix_staff_cost_lines_operation_month", "operation_id", "month"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), nullable=False)
    timesheet_id: Mapped[int] = mapped_column(ForeignKey("timesheets.id"), nullable=False, unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), nullable=False, index=True)
    month: Mapped[date] = mapped_column(Date, nullable=False)
    hours: Mapped[Decimal | None] = mapped_column(Hours())
    hourly_rate: Mapped[Decimal | None] = mapped_column(Money())
    monthly_cost: Mapped[Decimal | None] = mapped_column(Money())
    # Method B: the monthly working hours of the employment document that divide monthly_cost.
    monthly_hours: Mapped[Decimal | None] = mapped_column(Hours())
    fixed_percent: Mapped[Decimal | None] = mapped_column(Rate())
    # Fixed share of a month partly outside the operation: its calendar days inside (primer §9).
    days_in_period: Mapped[int | None] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)  # eligible amount
    computation: Mapped[str] = mapped_column(Text, nullable=False)  # "137,5 h × 32,00 €/h = 4 400,00 €"
    # The day the salary was paid (the timesheet's, else the month's end + the operation's
    # pay delay): checked against the payment deadline and the bilan's date (primer §9).
    paid_on: Mapped[date | None] = mapped_column(Date, default=lambda context: month_end(
        context.get_current_parameters()["month"]))
    # The bilan it is declared in, and any hold on it, are its marks (``marks``).

    operation = relationship("Operation")
    person = relationship("Person")
    timesheet = relationship("Timesheet", back_populates="cost_line")

    def retention_operation_id(self) -> int | None:
        """A line declared in a claim is kept until the operation's retention ends
        (operations.retention, CPR 82); an undeclared one is a draft computation."""
        return self.operation_id if declared_in("staff_cost_line", [self.id]) else None


# Staff evidence (primer §1, §4). Per person and year: what justifies the annual cost and
# the method; per person and month: the signed timesheet (hourly) or the payslip (fixed share).
YEAR_DOCUMENT_KINDS = {
    "contract": N_("Contrat de travail ou arrêté / décision d'affectation"),
    "payroll": N_("Bulletins de paie des 12 derniers mois ou état de paie annuel"),
    "mission_letter": N_("Lettre de mission (temps fixe, avec son pourcentage et ses dates)"),
}
MONTH_DOCUMENT_KINDS = {
    "timesheet_signed": N_("Fiche de temps signée (agent et responsable)"),
    "payslip": N_("Bulletin de paie du mois"),
}
STAFF_DOCUMENT_KINDS = {**YEAR_DOCUMENT_KINDS, **MONTH_DOCUMENT_KINDS}


class StaffDocument(Audited, db.Model):
    """A staff document, stored like an expense's (kernel.uploads: checked by content, random
    name, SHA-256). It covers the months ``first_month``..``last_month`` (first days of
    months) of one person on one operation: a month, a year, or a mission letter's dates."""

    __tablename__ = "staff_documents"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('contract', 'payroll', 'mission_letter', 'timesheet_signed', 'payslip')", name="kind_known"
        ),
        CheckConstraint("first_month <= last_month", name="months_in_order"),
        *rate_check("fixed_percent IS NULL OR (fixed_percent > 0 AND fixed_percent <= {100})",
                    "fixed_percent_range"),
        Index("ix_staff_documents_assignment_kind_months", "assignment_id", "kind", "first_month", "last_month"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("staff_assignments.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    first_month: Mapped[date] = mapped_column(Date, nullable=False)
    last_month: Mapped[date] = mapped_column(Date, nullable=False)
    # A mission letter's share and dates, as written on it.
    fixed_percent: Mapped[Decimal | None] = mapped_column(Rate())
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    original_name: Mapped[str] = mapped_column(String(255), nullable=False)
    stored_name: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    assignment = relationship("StaffAssignment")

    def retention_operation_id(self) -> int:
        """Kept until the operation's retention ends (operations.retention, CPR 82)."""
        return self.assignment.operation_id

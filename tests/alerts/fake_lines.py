"""Stand-ins for the cost-line tables of the expenses and staff domains, on their own
metadata (created and dropped by the ``fake_lines`` fixture), so these tests do not
depend on the other domains' schemas."""
from decimal import Decimal

from sqlalchemy import Integer, Numeric, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class FakeExpense(Base):
    __tablename__ = "test_fake_expenses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation_id: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))
    eligible_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2, asdecimal=True))


class FakeStaffCostLine(Base):
    __tablename__ = "test_fake_staff_cost_lines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation_id: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2, asdecimal=True))

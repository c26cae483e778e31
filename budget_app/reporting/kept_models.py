"""The figures the operations table keeps (issue 27): per operation, what a statement
would count today among the lines not yet declared, by category (``pending_figures``),
and when they are still right (``pending_figure_states``).

Every write that may change them (a cost line: an expense, a staff line, a unit record; a
mark, a timesheet, a staff document, a unit record's evidence, the operation's dates or
flat rates) adds one to the operation's ``generation`` in the
same transaction (``figure_watch``); the figures hold for the generation they were
computed at (``figures_generation``) and, the only thing that moves with the calendar
being "paid by today", for the days from ``valid_from`` (the latest payment counted) to
the day before ``valid_until`` (the next payment not yet counted). Outside that, the
operation's figures are computed again (``kept_figures``) and kept.
"""
from datetime import date
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..kernel.db_types import Money
from ..kernel.extensions import db


class PendingFigureState(db.Model):
    __tablename__ = "pending_figure_states"

    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    figures_generation: Mapped[int | None] = mapped_column(Integer)  # NULL: never computed
    valid_from: Mapped[date | None] = mapped_column(Date)  # NULL: from any day
    valid_until: Mapped[date | None] = mapped_column(Date)  # NULL: for ever (first day they no longer hold)


class PendingFigure(db.Model):
    __tablename__ = "pending_figures"

    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), primary_key=True)
    category: Mapped[str] = mapped_column(String(16), primary_key=True)
    amount: Mapped[Decimal] = mapped_column(Money(), nullable=False)

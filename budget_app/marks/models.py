"""The marks on cost lines (``line_marks``): one row per mark, never deleted.

- ``declared``: the line is declared in the bilan ``bilan_id`` (a plain integer: this
  layer sits below claims and points nowhere up); released when that bilan is withdrawn.
- ``held``: the line is held out of every new bilan; released when whoever asked lifts it.
  The row records neither who asked nor why: the asking domain keeps its own link to the
  mark (``line_holds.mark_id``, ``alert_cost_lines.mark_id``) with its reason, so a hold
  reads the same whatever placed it (loi 2022-401).
"""
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ..kernel.audit.models import utcnow
from ..kernel.extensions import db
from ..kernel.i18n import N_

# The cost lines that carry marks: written once, read by claims (holds) and alerts.
LINE_TYPES = {"expense": N_("Dépense"), "staff_cost_line": N_("Frais de personnel"),
              "unit_record": N_("Coût unitaire ou montant forfaitaire")}
MARK_KINDS = ("declared", "held")
# The CHECK of every table that names a cost line by type (marks, holds, suspicions).
LINE_TYPE_CHECK = "line_type IN ({})".format(", ".join(f"'{line_type}'" for line_type in LINE_TYPES))

LIVE_DECLARATION = "kind = 'declared' AND released_at IS NULL"


class LineMark(db.Model):
    __tablename__ = "line_marks"
    __table_args__ = (
        CheckConstraint(LINE_TYPE_CHECK, name="line_type_known"),
        CheckConstraint("(kind = 'declared' AND bilan_id IS NOT NULL) OR (kind = 'held' AND bilan_id IS NULL)",
                        name="kind_known_declared_names_bilan"),
        Index("ix_line_marks_line", "line_type", "line_id"),
        Index("ix_line_marks_bilan", "bilan_id"),
        # A line is declared in one bilan at a time (two submissions at once: one wins).
        Index("line_marks_declared_once", "line_type", "line_id", unique=True,
              sqlite_where=text(LIVE_DECLARATION), postgresql_where=text(LIVE_DECLARATION)),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_type: Mapped[str] = mapped_column(String(16), nullable=False)
    line_id: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    bilan_id: Mapped[int | None] = mapped_column(Integer)
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

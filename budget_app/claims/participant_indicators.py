"""The participants half of a bilan: its table of FSE+ common indicators (participants
§2, §3), frozen when the bilan is submitted, so that later entries, corrections or the
retention purge of identities and special-category answers never change what was
reported. The XLSX, the PDF and the evidence pack print the frozen table."""
import csv
import io
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from ..kernel.audit.models import utcnow
from ..kernel.audit.services import Audited
from ..kernel.extensions import db
from ..participants.indicators import BREAKDOWN, CODES, LABELS, indicator_table


class ClaimIndicatorTable(Audited, db.Model):
    __tablename__ = "claim_indicator_tables"

    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), primary_key=True)
    # code -> {"femmes": n, "hommes": n, "non_binaires": n, "total": n}
    counts: Mapped[dict] = mapped_column(JSON, nullable=False)
    frozen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


def freeze_indicator_table(claim) -> dict:
    """At submission: the indicators of the bilan's period, kept as they are now."""
    counts = indicator_table(claim.operation_id, claim.period_start, claim.period_end).as_json()
    frozen = db.session.get(ClaimIndicatorTable, claim.id)
    if frozen is None:
        db.session.add(ClaimIndicatorTable(claim_id=claim.id, counts=counts))
    else:
        frozen.counts = counts
        frozen.frozen_at = utcnow()
    db.session.flush()
    return counts


def indicator_rows(claim) -> list[list]:
    """[code, label, femmes, hommes, non_binaires, total] of the frozen table; the live
    table of the period for a bilan not yet submitted."""
    frozen = db.session.get(ClaimIndicatorTable, claim.id)
    counts = frozen.counts if frozen is not None else \
        indicator_table(claim.operation_id, claim.period_start, claim.period_end).as_json()
    return [[code, LABELS[code], *(int(counts.get(code, {}).get(key, 0)) for key in BREAKDOWN)] for code in CODES]


# The columns of the indicator table in the bilan's XLSX (title, kind, width) and PDF
# (title, width in mm, kind, index of the row's value).
XLSX_COLUMNS = [("Code", "text", 10), ("Indicateur", "text", 50), ("Femmes", "number", 10), ("Hommes", "number", 10),
                ("Non binaires", "number", 12), ("Total", "number", 10)]
PDF_COLUMNS = [("Code", 18, "text", 0), ("Indicateur", 110, "text", 1), ("Femmes", 20, "number", 2),
               ("Hommes", 20, "number", 3), ("Non binaires", 24, "number", 4), ("Total", 20, "number", 5)]
HEADING = "Participants : indicateurs communs FSE+ (règlement (UE) 2021/1057, annexe I)"


def report_indicator_rows(report) -> list[list]:
    """The rows a bilan's files print: its frozen table, or the period's for a statement."""
    if report.claim is not None:
        return indicator_rows(report.claim)
    counts = indicator_table(report.operation.id, report.start, report.end).as_json()
    return [[code, LABELS[code], *(counts[code][key] for key in BREAKDOWN)] for code in CODES]


def indicator_csv(report) -> bytes:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([title for title, _kind, _width in XLSX_COLUMNS])
    writer.writerows(report_indicator_rows(report))
    return buffer.getvalue().encode("utf-8")

"""No cost lost silently: before a bilan is submitted, above all the final one (after
which its left-out lines can never be declared), the lines it leaves out, counted and
totalled by reason. The page asks for a confirmation naming that total; the command
prints the same summary (no prompt). The included lines of a draft, a page at a time."""
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice

from ..kernel.money import ZERO
from ..kernel.formatting import format_money, today_in_paris
from ..kernel.i18n import translate
from .report import ClaimReport, line_rows
from .selection import compute_period, left_out_reasons


PAGE_SIZE = 50


@dataclass
class ReasonTotal:
    reason: str
    count: int = 0
    total: Decimal = ZERO


@dataclass
class LeftOutSummary:
    reasons: list = field(default_factory=list)  # ReasonTotal, largest total first

    @property
    def count(self) -> int:
        return sum(item.count for item in self.reasons)

    @property
    def total(self) -> Decimal:
        return sum((item.total for item in self.reasons), ZERO)

    def lines(self, real_reason: bool = False) -> list[str]:
        """One sentence per reason, as the command prints it and the page shows it."""
        labels = left_out_reasons(real_reason)
        return [f"{translate(labels[item.reason])} : {item.count} ligne(s), {format_money(item.total)}"
                for item in self.reasons]


def left_out_summary(claim, today=None, computation=None) -> LeftOutSummary:
    """What submitting ``claim`` today would leave out, by reason (the selection's rules),
    counted in the database; ``computation``: the bilan's, already computed today (the page's)."""
    if computation is None:
        computation = compute_period(claim.operation, claim.period_start, claim.period_end,
                                     as_of=today or today_in_paris(), claim=claim, left_out_limit=0)
    by_reason = [ReasonTotal(reason, count, total) for reason, (count, total) in computation.left_out_totals.items()]
    return LeftOutSummary(sorted(by_reason, key=lambda item: (-item.total, item.reason)))


def included_page(report: ClaimReport, page: int) -> tuple[list, bool]:
    """The included lines of a draft (``report.line_rows``' fields), page ``page`` (from 1),
    and whether another page follows."""
    included = (row for row in line_rows(report) if row[10] is None)
    rows = list(islice(included, (page - 1) * PAGE_SIZE, page * PAGE_SIZE + 1))
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE

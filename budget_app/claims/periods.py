"""The period a statement or a claim covers: a month ("2023-01") or any date range, inside
the operation's eligibility period (Décret art. 4)."""
from datetime import date

from ..kernel.dates import month_end
from ..kernel.errors import DomainError
from ..kernel.i18n import N_
from ..kernel.tabular import cell_month
from ..operations.models import Operation


def month_period(text: str) -> tuple[date, date]:
    """'2023-01' or '01/2023' -> (2023-01-01, 2023-01-31)."""
    try:
        start = cell_month(text)
    except DomainError as exc:
        raise DomainError(N_("« %(value)s » n'est pas un mois valide (AAAA-MM ou MM/AAAA)."), value=text) from exc
    return start, month_end(start)


def check_period(operation: Operation, start: date, end: date) -> None:
    if start > end:
        raise DomainError(N_("La date de début de la période doit précéder sa date de fin."))
    if end < operation.start_date or start > operation.end_date:
        raise DomainError(
            N_("La période est en dehors de la période d'éligibilité de l'opération (du %(start)s au %(end)s)."),
            start=operation.start_date,
            end=operation.end_date,
        )


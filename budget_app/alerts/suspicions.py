"""Cost lines under suspicion: the referent links an alert to an operation and puts some
of its expense and staff cost lines under suspicion; they stay out of every new claim
until the suspicion is lifted with a reason. Alerts mark lines as held; they know
nothing of claims (claims ask ``suspected_cost_lines``). The hold itself is a mark on the
line (``marks.place_hold``, the service the managing authority's holds use too): every other
page reads it as any hold; the link to the alert stays here (``AlertCostLine.mark_id``)."""
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, or_, select

from ..expenses.models import Expense
from ..kernel.integers import parse_id
from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.formatting import format_month
from ..kernel.i18n import N_, translate
from ..kernel.transactions import atomic
from ..marks import services as marks
from ..marks import models as mark_models
from ..staff.models import Person, StaffCostLine
from . import journal
from .filing import encrypted_text, utcnow
from .models import LINE_TYPES, Alert, AlertCostLine


@dataclass(frozen=True)
class CostLine:
    line_type: str
    id: int
    operation_id: int
    label: str
    amount: Decimal | None


# The real reason of a held line, read by the anti-fraud referent only (everyone else reads
# « En attente », the wording of any hold): in a bilan's left-out list, and as the badge of
# the expense list.
SUSPICION_LABEL = N_("Sous suspicion (signalement en cours)")
SUSPICION_BADGE = N_("sous suspicion (signalement en cours)")

LINE_MODELS = {"expense": Expense, "staff_cost_line": StaffCostLine}
LINE_TYPE_LABELS = mark_models.LINE_TYPES  # the marks' list, written once


def _as_cost_line(line_type: str, row) -> CostLine:
    if line_type == "staff_cost_line":
        # Staff lines: the person's registration number (pseudonymous id) and the month.
        label = f"{row.person.registration_number} — {format_month(row.month, 'fr')}"
        return CostLine(line_type, row.id, row.operation_id, label, row.amount)
    label = f"{row.supplier_name} {row.document_number} — {row.label}"
    return CostLine(line_type, row.id, row.operation_id, label, row.eligible_amount)


def operation_cost_lines(operation_id: int) -> list[CostLine]:
    """The operation's cost lines that can be put under suspicion (not deleted)."""
    expenses = select(Expense).where(Expense.operation_id == operation_id, Expense.deleted_at.is_(None))
    staff = select(StaffCostLine).where(StaffCostLine.operation_id == operation_id)
    return [_as_cost_line("expense", row) for row in db.session.scalars(expenses.order_by(Expense.id))] + [
        _as_cost_line("staff_cost_line", row) for row in db.session.scalars(staff.order_by(StaffCostLine.id))
    ]


# Lines listed on the referent's page at most: an operation may hold tens of thousands; the
# referent narrows the list with a search (or types line numbers).
LINES_SHOWN = 50


def find_cost_lines(operation_id: int, search: str = "", exclude=frozenset(),
                    limit: int = LINES_SHOWN) -> tuple[list[CostLine], int]:
    """The operation's cost lines not in ``exclude`` ((type, id) pairs) whose supplier,
    document number, label or registration number contains ``search`` (or whose number it
    is), at most ``limit`` of them, and how many match in all. Only the columns shown are read."""
    search = " ".join((search or "").split())[:100]
    pattern = f"%{search.lower()}%"
    number = parse_id(search)
    expense_ids = [line_id for kind, line_id in exclude if kind == "expense"]
    staff_ids = [line_id for kind, line_id in exclude if kind == "staff_cost_line"]
    expenses = select(Expense.id, Expense.supplier_name, Expense.document_number, Expense.label,
                      Expense.eligible_amount).where(Expense.operation_id == operation_id, Expense.deleted_at.is_(None),
                                                     Expense.id.not_in(expense_ids))
    staff = (select(StaffCostLine.id, Person.registration_number, StaffCostLine.month, StaffCostLine.amount)
             .join(Person, Person.id == StaffCostLine.person_id)
             .where(StaffCostLine.operation_id == operation_id, StaffCostLine.id.not_in(staff_ids)))
    if search:
        expenses = expenses.where(or_(func.lower(Expense.supplier_name).like(pattern),
                                      func.lower(Expense.document_number).like(pattern),
                                      func.lower(Expense.label).like(pattern), Expense.id == number))
        staff = staff.where(or_(func.lower(Person.registration_number).like(pattern), StaffCostLine.id == number))
    count = sum(db.session.scalar(select(func.count()).select_from(query.subquery())) for query in (expenses, staff))
    lines = [CostLine("expense", row.id, operation_id, f"{row.supplier_name} {row.document_number} — {row.label}",
                      row.eligible_amount)
             for row in db.session.execute(expenses.order_by(Expense.id).limit(limit))]
    lines += [CostLine("staff_cost_line", row.id, operation_id,
                       f"{row.registration_number} — {format_month(row.month, 'fr')}", row.amount)
              for row in db.session.execute(staff.order_by(StaffCostLine.id).limit(max(limit - len(lines), 0)))]
    return lines, count


def cost_line(line_type: str, line_id: int) -> CostLine | None:
    if line_type not in LINE_TYPES:
        return None
    row = db.session.get(LINE_MODELS[line_type], line_id)
    return None if row is None else _as_cost_line(line_type, row)


@atomic
def link_operation(alert: Alert, operation) -> None:
    if any(link.lifted_at is None for link in alert.cost_lines) and operation.id != alert.operation_id:
        raise DomainError(N_("Levez d'abord la suspicion sur les lignes de l'opération actuelle."))
    before = alert.operation_id
    alert.operation_id = operation.id
    db.session.flush()
    journal.record(alert, "operation_linked", before=before, operation_id=operation.id)


@atomic
def link_cost_lines(alert: Alert, user, pairs) -> list[AlertCostLine]:
    """Puts cost lines of the alert's operation under suspicion: they stay out of any new claim."""
    if alert.operation_id is None:
        raise DomainError(N_("Rattachez d'abord le signalement à une opération."))
    if alert.purged_at is not None or alert.is_closed:
        raise DomainError(N_("Ce signalement est clos."))
    live = {(link.line_type, link.line_id) for link in alert.cost_lines if link.lifted_at is None}
    created = []
    for line_type, line_id in pairs:
        line = cost_line(line_type, line_id)
        if line is None:
            raise DomainError(N_("La ligne %(type)s n° %(id)s n'existe pas."), type=line_type, id=line_id)
        if line_type == "expense" and db.session.get(Expense, line_id).deleted_at is not None:
            # A deleted expense is in no claim and no list: a suspicion on it would hold nothing.
            raise DomainError(N_("La dépense n° %(id)s a été supprimée : elle ne peut pas être mise sous suspicion."),
                              id=line_id)
        if line.operation_id != alert.operation_id:
            raise DomainError(N_("La ligne %(type)s n° %(id)s n'appartient pas à l'opération du signalement."), type=line_type, id=line_id)
        if (line_type, line_id) in live:
            continue
        mark = marks.place_hold(line_type, line_id)
        link = AlertCostLine(
            alert_id=alert.id, operation_id=alert.operation_id, line_type=line_type, line_id=line_id, linked_by=user.id,
            mark_id=mark.id,
        )
        db.session.add(link)
        alert.cost_lines.append(link)
        live.add((line_type, line_id))
        created.append(link)
    db.session.flush()
    for link in created:
        journal.record(alert, "suspicion_set", user=user, line_type=link.line_type, line_id=link.line_id)
    return created


@atomic
def lift_suspicion(link: AlertCostLine, user, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(N_("Indiquez le motif de la levée de suspicion."))
    if link.lifted_at is not None:
        raise DomainError(N_("La suspicion sur cette ligne est déjà levée."))
    link.lifted_at = utcnow()
    link.lifted_by = user.id
    link.lift_reason = encrypted_text(link.alert, reason)
    marks.release_hold(link.mark_id)
    db.session.flush()
    journal.record(link.alert, "suspicion_lifted", user=user, line_type=link.line_type, line_id=link.line_id)


def suspected_cost_lines(operation_id: int) -> set[tuple[str, int]]:
    """Cost lines under a live suspicion, as ("expense" | "staff_cost_line", id) pairs:
    they stay out of any new claim until the referent lifts the suspicion."""
    rows = db.session.execute(
        select(AlertCostLine.line_type, AlertCostLine.line_id).where(
            AlertCostLine.operation_id == operation_id, AlertCostLine.lifted_at.is_(None)
        )
    ).all()
    return {(line_type, line_id) for line_type, line_id in rows}


def suspicion_badges(line_type: str, line_ids) -> dict[int, str]:
    """For the anti-fraud referent (``marks.hooks.held_reasons_for_referent``, wired in
    ``create_app``; the caller checks the reader): the held lines among ``line_ids`` that a
    suspicion holds, with the words that say so."""
    ids = list(line_ids)
    if not ids:
        return {}
    suspected = db.session.scalars(select(AlertCostLine.line_id).where(
        AlertCostLine.line_type == line_type, AlertCostLine.line_id.in_(ids), AlertCostLine.lifted_at.is_(None)))
    return {line_id: translate(SUSPICION_BADGE) for line_id in suspected}

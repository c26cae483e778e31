"""Claims: the computation over the database, the lifecycle, the service-done check.

Services only flush; the view or the CLI commits. Every amount comes from
``claims.computation.claim_figures``.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import and_, case, delete, event, false, func, insert, literal_column, null, or_, select, true, update
from sqlalchemy.orm import Session, attributes

from ..alerts.services import controller_may_check, suspected_cost_lines
from ..audit import services as audit
from ..audit.services import current_actor
from ..expenses.models import Expense
from ..extensions import db
from ..money import N_, translate
from ..operations.flat_rates import ZERO
from ..operations.models import Operation
from ..staff.models import Person, StaffCostLine, Timesheet
from ..staff.services import lock_claimed_timesheets
from .computation import (
    ClaimFigures,
    advance_recovery,
    claim_figures,
    covered_categories,
    figures_from_json,
    figures_to_json,
    fse_due,
)
from .models import CLAIM_STATES, CSF_REASONS, Advance, Claim, ClaimLine, ClaimStateChange

# Why a cost line of the period is left out of a claim (shown with the line).
LEFT_OUT_REASONS = {
    "already_claimed": N_("Déjà dans une autre demande"),
    "covered_by_flat_rate": N_("Catégorie couverte par un taux forfaitaire"),
    "outside_eligibility": N_("Hors période d'éligibilité"),
    "incomplete": N_("Pièces justificatives incomplètes"),
    "not_paid": N_("Non acquittée à la date de la demande"),
    "timesheet_not_approved": N_("Fiche de temps non approuvée"),
    "suspicion": N_("Signalement en cours (suspicion)"),
    "credit_note": N_("Avoir supérieur aux dépenses de sa catégorie sur la période"),
}

# The claim lifecycle: (from, to) -> action. Nothing else moves a claim.
TRANSITIONS = {
    ("draft", "submitted"): "submit",
    ("submitted", "draft"): "withdraw",
    ("submitted", "controlled"): "control",
    ("controlled", "submitted"): "reopen",
    ("controlled", "paid"): "pay",
}
# Moves that need a written reason.
REASON_REQUIRED = {"withdraw", "reopen"}
LIVE_STATES = ("submitted", "controlled", "paid")
CHUNK = 5000  # ids per UPDATE ... IN (...): under SQLite's bound-parameter limit


class ClaimError(ValueError):
    """A refused claim operation; ``message`` is marked for translation."""

    def __init__(self, message: str, **values):
        super().__init__(message % values if values else message)
        self.message = message
        self.values = values

    def translated(self) -> str:
        return translate(self.message, **self.values)


class ClaimConflict(ClaimError):
    """Someone else attached a line or moved the claim first: nothing was changed."""


class ClaimLockedError(ClaimError):
    """An edit to a cost line that belongs to a submitted claim."""


# --------------------------------------------------------------------------- periods


def month_period(text: str) -> tuple[date, date]:
    """'2023-01' -> (2023-01-01, 2023-01-31)."""
    try:
        year, month = (int(part) for part in text.split("-"))
        start = date(year, month, 1)
    except (ValueError, TypeError) as exc:
        raise ClaimError(N_("« %(value)s » n'est pas un mois valide (AAAA-MM)."), value=text) from exc
    return start, _month_end(start)


def _month_end(start: date) -> date:
    following = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def check_period(operation: Operation, start: date, end: date) -> None:
    if start > end:
        raise ClaimError(N_("La date de début de la période doit précéder sa date de fin."))
    if end < operation.start_date or start > operation.end_date:
        raise ClaimError(
            N_("La période est en dehors de la période d'éligibilité de l'opération (du %(start)s au %(end)s)."),
            start=operation.start_date.strftime("%d/%m/%Y"),
            end=operation.end_date.strftime("%d/%m/%Y"),
        )


# --------------------------------------------------------------------------- computation


@dataclass
class LeftOutLine:
    kind: str  # "expense" | "staff"
    id: int
    category: str
    description: str
    reference: str
    day: date
    amount: Decimal
    reason: str


@dataclass
class Computation:
    """A claim's figures with what they were computed from."""

    figures: ClaimFigures
    as_of: date
    left_out: list = field(default_factory=list)
    # Ids excluded in Python (suspicions, credit notes) on top of the SQL conditions.
    excluded_expense_ids: set = field(default_factory=set)
    excluded_staff_ids: set = field(default_factory=set)
    expense_count: int = 0
    staff_count: int = 0


def plan_context(operation: Operation) -> dict:
    """Rates and agreed amounts of the plan in force (the latest amendment), from the
    operations domain's plan figures."""
    from ..operations.services import current_figures

    plan = operation.current_plan
    if plan is None:
        return {"rates": {}, "plan_categories": (), "plan_total": None, "planned_by_category": None}
    figures = current_figures(operation)
    planned = dict(figures.category_totals)
    return {
        "rates": {rate.code: rate.rate for rate in plan.flat_rates},
        "plan_categories": tuple(planned),
        "plan_total": figures.total_cost if planned else None,
        "planned_by_category": planned,
    }


def _other_live_claims(operation: Operation, claim_id: int | None):
    query = select(Claim).where(Claim.operation_id == operation.id, Claim.state.in_(LIVE_STATES))
    if claim_id is not None:
        query = query.where(Claim.id != claim_id)
    return db.session.scalars(query).all()


def cumulated_before(operation: Operation, claim_id: int | None) -> dict:
    """FSE+ asked, eligible totals and categories of the operation's other live claims."""
    asked = total = ZERO
    by_category: dict = {}
    for other in _other_live_claims(operation, claim_id):
        asked += other.fse_asked or ZERO
        total += other.total_eligible or ZERO
        if other.figures:
            for category, amount in other.figures["declared"]["categories"].items():
                by_category[category] = by_category.get(category, ZERO) + Decimal(amount)
    return {"already_asked": asked, "previous_total": total, "previous_by_category": by_category}


def figures_for(operation: Operation, real_costs: dict, claim_id: int | None, context=None) -> ClaimFigures:
    context = context or plan_context(operation)
    before = cumulated_before(operation, claim_id)
    return claim_figures(
        real_costs,
        context["rates"],
        operation.fse_rate,
        operation.fse_amount,
        already_asked=before["already_asked"],
        plan_total=context["plan_total"],
        previous_total=before["previous_total"],
        plan_categories=context["plan_categories"],
        planned_by_category=context["planned_by_category"],
        previous_by_category=before["previous_by_category"],
    )


def _expense_reason(operation: Operation, as_of: date, covered: set):
    whens = [(Expense.claim_id.is_not(None), literal_column("'already_claimed'"))]
    if covered:
        whens.append((Expense.category.in_(sorted(covered)), literal_column("'covered_by_flat_rate'")))
    whens += [
        # Décret art. 4: incurred AND paid inside the eligibility period.
        (
            or_(
                Expense.incurred_on < operation.start_date,
                Expense.incurred_on > operation.end_date,
                Expense.paid_on < operation.start_date,
                Expense.paid_on > operation.end_date,
            ),
            literal_column("'outside_eligibility'"),
        ),
        (Expense.is_complete.is_(False), literal_column("'incomplete'")),
        # Paid before the claim is submitted (primer §5.1): by today for a draft.
        (or_(Expense.paid_on.is_(None), Expense.paid_on > as_of), literal_column("'not_paid'")),
    ]
    return case(*whens, else_=null())


def _expense_included(operation: Operation, as_of: date, covered: set, incurred_checked: bool = False):
    """The negation of ``_expense_reason`` as one AND, cheap to evaluate on every row.
    ``incurred_checked``: the query already keeps incurred_on inside the eligibility period."""
    conditions = [
        Expense.claim_id.is_(None),
        Expense.is_complete.is_(True),
        # Paid inside the eligibility period and by the claim date (NULL: not paid).
        Expense.paid_on >= operation.start_date,
        Expense.paid_on <= min(operation.end_date, as_of),
    ]
    if not incurred_checked:
        conditions += [Expense.incurred_on >= operation.start_date, Expense.incurred_on <= operation.end_date]
    if covered:
        conditions.append(Expense.category.not_in(sorted(covered)))
    return and_(*conditions)


def _expense_filter(operation: Operation, start: date, end: date):
    return (
        Expense.operation_id == operation.id,
        Expense.deleted_at.is_(None),
        Expense.incurred_on >= start,
        Expense.incurred_on <= end,
    )


def _staff_reason(operation: Operation, covered: set):
    whens = [(StaffCostLine.claim_id.is_not(None), literal_column("'already_claimed'"))]
    if "PERSONNEL" in covered:
        whens.append((true(), literal_column("'covered_by_flat_rate'")))
    whens += [
        (
            or_(StaffCostLine.month < operation.start_date.replace(day=1), StaffCostLine.month > operation.end_date),
            literal_column("'outside_eligibility'"),
        ),
        (Timesheet.state.not_in(("approved", "locked")), literal_column("'timesheet_not_approved'")),
    ]
    return case(*whens, else_=null())


def _staff_included(operation: Operation, covered: set):
    if "PERSONNEL" in covered:
        return false()
    return and_(
        StaffCostLine.claim_id.is_(None),
        StaffCostLine.month >= operation.start_date.replace(day=1),
        StaffCostLine.month <= operation.end_date,
        Timesheet.state.in_(("approved", "locked")),
    )


def _staff_filter(operation: Operation, start: date, end: date):
    # A month is in the period when its first day is (staff cost lines are monthly).
    return (
        StaffCostLine.operation_id == operation.id,
        StaffCostLine.month >= start,
        StaffCostLine.month <= end,
    )


def compute_period(
    operation: Operation, start: date, end: date, as_of: date | None = None, claim_id: int | None = None,
    list_left_out: bool = True,
) -> Computation:
    """The draft figures of a period: sums in the database (one grouped scan per kind),
    then the few lines excluded in Python (suspicions, credit notes)."""
    as_of = as_of or date.today()
    context = plan_context(operation)
    covered = covered_categories(context["rates"])
    # One grouped scan per kind: the included lines' sums, and how many were left out
    # (their reasons are read only when there are some).
    # The scan is limited to the part of the period inside the eligibility period; lines of
    # the period outside it are only listed (left out).
    beyond_eligibility = start < operation.start_date or end > operation.end_date
    included = _expense_included(operation, as_of, covered, incurred_checked=True)
    sums: dict = {}
    left_out_count = 1 if beyond_eligibility else 0
    rows = db.session.execute(
        select(
            Expense.category,
            func.sum(case((included, Expense.eligible_amount))),
            func.count(case((included, 1))),
            func.count(),
        )
        .where(*_expense_filter(operation, max(start, operation.start_date), min(end, operation.end_date)))
        .group_by(Expense.category)
    ).all()
    expense_count = 0
    for category, amount, count, lines in rows:
        if count:
            sums[category] = amount or ZERO
            expense_count += count
        left_out_count += lines - count
    staff_included = _staff_included(operation, covered)
    staff_row = db.session.execute(
        select(func.sum(case((staff_included, StaffCostLine.amount))), func.count(case((staff_included, 1))),
               func.count())
        .join(Timesheet, Timesheet.id == StaffCostLine.timesheet_id)
        .where(*_staff_filter(operation, start, end))
    ).one()
    staff_count = staff_row[1]
    if staff_count:
        sums["PERSONNEL"] = sums.get("PERSONNEL", ZERO) + (staff_row[0] or ZERO)
    left_out_count += staff_row[2] - staff_count
    reason = _expense_reason(operation, as_of, covered).label("reason_code")
    staff_reason = _staff_reason(operation, covered).label("reason_code")

    computation = Computation(figures=None, as_of=as_of)
    left_out: list[LeftOutLine] = []
    # Suspected lines (alerts) stay out until the referent lifts the suspicion.
    suspected = suspected_cost_lines(operation.id)
    suspected_expenses = {line_id for kind, line_id in suspected if kind == "expense"}
    suspected_staff = {line_id for kind, line_id in suspected if kind == "staff_cost_line"}
    for chunk in _chunks(sorted(suspected_expenses)):
        for line in db.session.execute(
            select(Expense, reason).where(*_expense_filter(operation, start, end), Expense.id.in_(chunk))
        ).all():
            expense, code = line
            if code is None:
                sums[expense.category] -= expense.eligible_amount
                expense_count -= 1
                computation.excluded_expense_ids.add(expense.id)
                left_out.append(_left_out_expense(expense, "suspicion"))
    for chunk in _chunks(sorted(suspected_staff)):
        for line, code in db.session.execute(
            select(StaffCostLine, staff_reason)
            .join(Timesheet, Timesheet.id == StaffCostLine.timesheet_id)
            .where(*_staff_filter(operation, start, end), StaffCostLine.id.in_(chunk))
        ).all():
            if code is None:
                sums["PERSONNEL"] -= line.amount
                staff_count -= 1
                computation.excluded_staff_ids.add(line.id)
                left_out.append(_left_out_staff(line, "suspicion"))
    # A credit note never makes a category negative in a claim: the latest credit notes
    # of such a category are left out until it is not negative; they go into a claim
    # whose period also holds enough costs of that category.
    for category, amount in list(sums.items()):
        if amount >= 0:
            continue
        notes = db.session.scalars(
            select(Expense)
            .where(
                *_expense_filter(operation, max(start, operation.start_date), min(end, operation.end_date)),
                included,
                Expense.category == category,
                Expense.eligible_amount < 0,
            )
            .order_by(Expense.incurred_on.desc(), Expense.id.desc())
        ).all()
        for note in notes:
            if sums[category] >= 0:
                break
            if note.id in computation.excluded_expense_ids:
                continue
            sums[category] -= note.eligible_amount
            expense_count -= 1
            computation.excluded_expense_ids.add(note.id)
            left_out.append(_left_out_expense(note, "credit_note"))

    if list_left_out and left_out_count:
        left_out += list(_left_out_lines(operation, start, end, as_of, covered))
    computation.figures = figures_for(operation, sums, claim_id, context)
    computation.left_out = sorted(left_out, key=lambda line: (line.kind, line.day, line.id))
    computation.expense_count = expense_count
    computation.staff_count = staff_count
    return computation


def _left_out_expense(expense: Expense, reason: str) -> LeftOutLine:
    return LeftOutLine(
        "expense", expense.id, expense.category, expense.label, f"{expense.supplier_name} n° {expense.document_number}",
        expense.incurred_on, expense.eligible_amount, reason,
    )


def _left_out_staff(line: StaffCostLine, reason: str) -> LeftOutLine:
    person = line.person
    return LeftOutLine(
        "staff", line.id, "PERSONNEL", line.computation, f"{person.last_name} {person.first_name}", line.month,
        line.amount, reason,
    )


def _left_out_lines(operation, start, end, as_of, covered):
    reason = _expense_reason(operation, as_of, covered)
    for expense, code in db.session.execute(
        select(Expense, reason).where(*_expense_filter(operation, start, end), reason.is_not(None))
    ).all():
        yield _left_out_expense(expense, code)
    staff_reason = _staff_reason(operation, covered)
    for line, code in db.session.execute(
        select(StaffCostLine, staff_reason)
        .join(Timesheet, Timesheet.id == StaffCostLine.timesheet_id)
        .where(*_staff_filter(operation, start, end), staff_reason.is_not(None))
    ).all():
        yield _left_out_staff(line, code)


def included_expenses_query(operation, start, end, computation: Computation):
    """The expenses a draft counts, as a select() (streamed by the exports and the submission)."""
    covered = covered_categories(plan_context(operation)["rates"])
    query = select(Expense).where(
        *_expense_filter(operation, start, end), _expense_included(operation, computation.as_of, covered)
    )
    if computation.excluded_expense_ids:
        query = query.where(Expense.id.not_in(sorted(computation.excluded_expense_ids)))
    return query.order_by(Expense.category, Expense.incurred_on, Expense.id)


def included_staff_query(operation, start, end, computation: Computation):
    covered = covered_categories(plan_context(operation)["rates"])
    query = (
        select(StaffCostLine)
        .join(Timesheet, Timesheet.id == StaffCostLine.timesheet_id)
        .join(Person, Person.id == StaffCostLine.person_id)
        .where(*_staff_filter(operation, start, end), _staff_included(operation, covered))
    )
    if computation.excluded_staff_ids:
        query = query.where(StaffCostLine.id.not_in(sorted(computation.excluded_staff_ids)))
    return query.order_by(StaffCostLine.month, Person.last_name, Person.first_name, StaffCostLine.id)


def _chunks(values, size=CHUNK):
    for index in range(0, len(values), size):
        yield values[index:index + size]


# --------------------------------------------------------------------------- claims


def claim_for_number(operation: Operation, number: int) -> Claim | None:
    return db.session.scalar(select(Claim).where(Claim.operation_id == operation.id, Claim.number == number))


def claims_of(operation: Operation) -> list[Claim]:
    return db.session.scalars(select(Claim).where(Claim.operation_id == operation.id).order_by(Claim.number)).all()


def declared_figures(claim: Claim) -> ClaimFigures:
    """Frozen at submission; recomputed while draft."""
    if claim.state != "draft" and claim.figures:
        return figures_from_json(claim.figures["declared"])
    return compute_period(claim.operation, claim.period_start, claim.period_end, claim_id=claim.id,
                          list_left_out=False).figures


def retained_figures(claim: Claim) -> ClaimFigures | None:
    """After (or during) the service-done check: the figures on the retained amounts, flat
    rates recomputed on the retained bases (primer §5: retained amounts replace declared)."""
    if claim.state == "draft":
        return None
    if claim.state in ("controlled", "paid") and claim.figures and "retained" in claim.figures:
        return figures_from_json(claim.figures["retained"])
    return _retained_now(claim)


def _retained_now(claim: Claim) -> ClaimFigures:
    sums: dict = {}
    rows = db.session.execute(
        select(
            ClaimLine.category,
            func.sum(case((ClaimLine.decision.is_(None), ClaimLine.declared_amount), else_=ClaimLine.retained_amount)),
        )
        .where(ClaimLine.claim_id == claim.id)
        .group_by(ClaimLine.category)
    ).all()
    for category, amount in rows:
        sums[category] = amount or ZERO
    declared = figures_from_json(claim.figures["declared"])
    # Same rates and caps as at submission: the controller checks what was asked.
    return claim_figures(
        sums,
        dict(declared.flat_rate_percents),
        declared.fse_rate,
        declared.agreed_fse,
        already_asked=declared.fse_already_asked,
        plan_categories=tuple(declared.categories),
    )


def create_draft(operation: Operation, start: date, end: date, user=None) -> Claim:
    check_period(operation, start, end)
    number = (db.session.scalar(select(func.max(Claim.number)).where(Claim.operation_id == operation.id)) or 0) + 1
    claim = Claim(
        operation=operation, number=number, period_start=start, period_end=end, state="draft",
        created_by_id=getattr(user, "id", None),
    )
    db.session.add(claim)
    db.session.flush()
    return claim


def delete_draft(claim: Claim) -> None:
    if claim.state != "draft" or claim.state_changes:
        raise ClaimError(N_("Seul un brouillon jamais déposé peut être supprimé."))
    db.session.delete(claim)
    db.session.flush()


def _move(claim: Claim, action: str, to_state: str, user=None, reason: str | None = None) -> None:
    """Apply one move of the transition table, guarded in the database: the UPDATE only
    matches the state read, so two users moving the same claim cannot both succeed."""
    if TRANSITIONS.get((claim.state, to_state)) != action:
        raise ClaimError(
            N_("Une demande à l'état « %(state)s » ne peut pas passer à l'état « %(target)s »."),
            state=translate(CLAIM_STATES[claim.state]),
            target=translate(CLAIM_STATES[to_state]),
        )
    reason = (reason or "").strip() or None
    if action in REASON_REQUIRED and not reason:
        raise ClaimError(N_("Indiquez le motif."))
    from_state = claim.state
    moved = db.session.execute(
        update(Claim).where(Claim.id == claim.id, Claim.state == from_state).values(state=to_state)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise ClaimConflict(N_("La demande a été modifiée entre-temps par quelqu'un d'autre ; rechargez la page."))
    # The ORM sees the move too, so the automatic audit entry records it.
    attributes.set_committed_value(claim, "state", from_state)
    claim.state = to_state
    user_id, actor = current_actor()
    db.session.add(ClaimStateChange(claim_id=claim.id, from_state=from_state, to_state=to_state, reason=reason,
                                    user_id=user_id, actor=actor))
    if reason:
        audit.note_for_changes(reason)
    audit.record(f"claim_{action}", "claims", claim.id, before={"state": from_state}, after={"state": to_state},
                 note=reason)


def submit_claim(claim: Claim, user=None, today: date | None = None) -> Computation:
    """Freeze a draft: attach its lines (race-safe), snapshot them and the totals."""
    today = today or date.today()
    operation = claim.operation
    computation = compute_period(operation, claim.period_start, claim.period_end, as_of=today, claim_id=claim.id,
                                 list_left_out=False)
    if computation.expense_count + computation.staff_count == 0:
        raise ClaimError(N_("Aucune dépense à demander sur cette période."))
    _move(claim, "submit", "submitted", user)
    position = 0
    snapshot = []
    expense_ids = []
    for expense in db.session.scalars(
        included_expenses_query(operation, claim.period_start, claim.period_end, computation)
        .execution_options(yield_per=2000)
    ):
        position += 1
        expense_ids.append(expense.id)
        snapshot.append({
            "claim_id": claim.id, "position": position, "kind": "expense", "expense_id": expense.id,
            "staff_cost_line_id": None, "category": expense.category, "description": expense.label[:500],
            "reference": f"{expense.supplier_name} n° {expense.document_number}"[:255],
            "incurred_on": expense.incurred_on, "paid_on": expense.paid_on,
            "declared_amount": expense.eligible_amount,
        })
    staff_ids = []
    for line in db.session.scalars(included_staff_query(operation, claim.period_start, claim.period_end, computation)):
        position += 1
        staff_ids.append(line.id)
        person = line.person
        snapshot.append({
            "claim_id": claim.id, "position": position, "kind": "staff", "expense_id": None,
            "staff_cost_line_id": line.id, "category": "PERSONNEL", "description": line.computation[:500],
            "reference": f"{person.registration_number} {person.last_name} {person.first_name}"[:255],
            "incurred_on": line.month, "paid_on": None, "declared_amount": line.amount,
        })
    # Attach: only lines no one else has taken. On PostgreSQL a concurrent submission
    # waits on the row locks, then sees claim_id set and matches fewer rows.
    _attach(Expense, expense_ids, claim.id, versioned=True)
    _attach(StaffCostLine, staff_ids, claim.id)
    # The staff domain's interface: the claimed months' timesheets become "locked".
    lock_claimed_timesheets(claim)
    if snapshot:
        db.session.execute(insert(ClaimLine), snapshot)
    figures = computation.figures
    claim.figures = {"declared": figures_to_json(figures), "as_of": today.isoformat()}
    claim.total_eligible = figures.total
    claim.fse_asked = figures.fse_asked
    claim.submitted_at = datetime.now(timezone.utc)
    claim.submitted_by_id = getattr(user, "id", None)
    db.session.flush()
    audit.record("claim_frozen", "claims", claim.id, after={
        "lines": len(snapshot), "total_eligible": figures.total, "fse_asked": figures.fse_asked,
    })
    return computation


def _attach(model, ids, claim_id, versioned=False):
    values = {"claim_id": claim_id}
    if versioned:
        values["version"] = model.version + 1
    for chunk in _chunks(ids):
        taken = db.session.execute(
            update(model).where(model.id.in_(chunk), model.claim_id.is_(None)).values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken != len(chunk):
            raise ClaimConflict(
                N_("Des dépenses de la période viennent d'être rattachées à une autre demande : "
                   "rien n'a été déposé, recalculez la demande.")
            )


def withdraw_claim(claim: Claim, reason: str, user=None) -> None:
    """Back to draft (by the finance officer, with a reason): lines detached, snapshot dropped."""
    _move(claim, "withdraw", "draft", user, reason)
    staff_lines = select(StaffCostLine.timesheet_id).where(StaffCostLine.claim_id == claim.id)
    db.session.execute(
        update(Timesheet).where(Timesheet.id.in_(staff_lines), Timesheet.state == "locked")
        .values(state="approved", version=Timesheet.version + 1).execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Expense).where(Expense.claim_id == claim.id).values(claim_id=None, version=Expense.version + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(StaffCostLine).where(StaffCostLine.claim_id == claim.id).values(claim_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(delete(ClaimLine).where(ClaimLine.claim_id == claim.id))
    claim.figures = None
    claim.total_eligible = claim.fse_asked = None
    claim.submitted_at = None
    claim.submitted_by_id = None
    db.session.flush()
    db.session.expire_all()


# --------------------------------------------------------------------------- service-done check


def _check_controller(claim: Claim, user) -> None:
    if claim.state != "submitted":
        raise ClaimError(N_("Le contrôle de service fait porte sur une demande déposée."))
    refusal = controller_may_check(user, claim.operation)
    if refusal is not None:
        raise ClaimError(refusal)


def decide_line(claim: Claim, line: ClaimLine, decision: str, user=None, amount: Decimal | None = None,
                reason: str | None = None, comment: str | None = None) -> None:
    """Keep, reduce (new amount) or exclude one line, with a reason from the list (primer §8)."""
    _check_controller(claim, user)
    if line.claim_id != claim.id:
        raise ClaimError(N_("Cette ligne n'appartient pas à la demande."))
    comment = (comment or "").strip() or None
    if decision not in ("kept", "reduced", "excluded"):
        raise ClaimError(N_("Décision inconnue."))
    if decision != "kept":
        if reason not in CSF_REASONS:
            raise ClaimError(N_("Choisissez un motif dans la liste pour réduire ou écarter une ligne."))
        if reason == "other" and not comment:
            raise ClaimError(N_("Précisez le motif « Autre motif » dans le commentaire."))
    if line.declared_amount < 0 and decision != "kept":
        raise ClaimError(N_("Un avoir (montant négatif) ne peut qu'être retenu."))
    if decision == "kept":
        retained, reason = line.declared_amount, (reason if reason in CSF_REASONS else None)
    elif decision == "excluded":
        retained = ZERO
    else:
        if amount is None:
            raise ClaimError(N_("Indiquez le montant retenu."))
        if not (ZERO <= amount < line.declared_amount):
            raise ClaimError(N_("Le montant retenu doit être positif et inférieur au montant déclaré."))
        retained = amount
    line.decision = decision
    line.retained_amount = retained
    line.reason = reason
    line.comment = comment
    line.decided_at = datetime.now(timezone.utc)
    line.decided_by_id = getattr(user, "id", None)
    db.session.flush()


def advance_outstanding(operation: Operation, excluding_claim_id: int | None = None) -> Decimal:
    """Advances paid minus what controlled or paid claims already recovered."""
    paid = db.session.scalar(select(func.sum(Advance.amount)).where(Advance.operation_id == operation.id)) or ZERO
    query = select(func.sum(Claim.advance_recovered)).where(
        Claim.operation_id == operation.id, Claim.state.in_(("controlled", "paid"))
    )
    if excluding_claim_id is not None:
        query = query.where(Claim.id != excluding_claim_id)
    recovered = db.session.scalar(query) or ZERO
    return paid - recovered


def finish_control(claim: Claim, user=None) -> ClaimFigures:
    """Close the check: undecided lines are kept; flat rates recomputed on the retained
    bases; FSE+ due; the advance recovered on this payment (README, primer §5.5)."""
    _check_controller(claim, user)
    now = datetime.now(timezone.utc)
    for line in claim.lines.filter(ClaimLine.decision.is_(None)):
        line.decision, line.retained_amount, line.decided_at = "kept", line.declared_amount, now
        line.decided_by_id = getattr(user, "id", None)
    db.session.flush()
    retained = _retained_now(claim)
    due = fse_due(retained, claim.fse_asked)
    recovered, _payment = advance_recovery(due, advance_outstanding(claim.operation, claim.id))
    _move(claim, "control", "controlled", user)
    claim.figures = {**claim.figures, "retained": figures_to_json(retained)}
    claim.total_retained = retained.total
    claim.fse_due = due
    claim.advance_recovered = recovered
    claim.controlled_at = now
    claim.controlled_by_id = getattr(user, "id", None)
    db.session.flush()
    return retained


def reopen_claim(claim: Claim, reason: str, user=None) -> None:
    """An admin reopens a controlled claim (with a reason): back to submitted, decisions kept."""
    _move(claim, "reopen", "submitted", user, reason)
    claim.figures = {key: value for key, value in claim.figures.items() if key != "retained"}
    claim.total_retained = claim.fse_due = claim.advance_recovered = None
    claim.controlled_at = None
    claim.controlled_by_id = None
    db.session.flush()


def record_payment(claim: Claim, paid_on: date, amount: Decimal, reference: str | None = None, user=None) -> None:
    if amount < 0:
        raise ClaimError(N_("Le montant reçu ne peut pas être négatif."))
    if paid_on > date.today():
        raise ClaimError(N_("La date de paiement ne peut pas être dans le futur."))
    if claim.controlled_at and paid_on < claim.controlled_at.date():
        raise ClaimError(N_("La date de paiement précède le contrôle de service fait."))
    _move(claim, "pay", "paid", user)
    claim.paid_on = paid_on
    claim.amount_paid = amount
    claim.payment_reference = (reference or "").strip() or None
    operation = claim.operation
    # Retention runs from the year of the last payment (CPR 82).
    if operation.last_payment_date is None or paid_on > operation.last_payment_date:
        operation.last_payment_date = paid_on
    db.session.flush()


def expected_payment(claim: Claim) -> Decimal | None:
    if claim.fse_due is None:
        return None
    return claim.fse_due - (claim.advance_recovered or ZERO)


def record_advance(operation: Operation, paid_on: date, amount: Decimal, note: str | None = None) -> Advance:
    if amount <= 0:
        raise ClaimError(N_("Le montant de l'avance doit être positif."))
    advance = Advance(operation=operation, paid_on=paid_on, amount=amount, note=(note or "").strip() or None)
    db.session.add(advance)
    db.session.flush()
    return advance


def operation_position(operation: Operation) -> dict:
    """FSE+ already asked, remaining, advance not yet recovered, paid: for the pages."""
    live = _other_live_claims(operation, None)
    asked = sum((claim.fse_asked or ZERO for claim in live), ZERO)
    paid = sum((claim.amount_paid or ZERO for claim in live if claim.state == "paid"), ZERO)
    advances = db.session.scalar(select(func.sum(Advance.amount)).where(Advance.operation_id == operation.id)) or ZERO
    return {
        "agreed": operation.fse_amount,
        "asked": asked,
        "remaining": operation.fse_amount - asked,
        "paid": paid,
        "advances": advances,
        "advance_outstanding": advance_outstanding(operation),
    }


# --------------------------------------------------------------------------- frozen lines


@event.listens_for(Session, "before_flush")
def _refuse_edits_of_claimed_lines(session, flush_context, instances):
    """A line attached to a claim is frozen: the claim's snapshot and the CSF rest on it.
    (The claims service moves ``claim_id`` with UPDATE statements, not through here.)"""
    for obj in list(session.dirty) + list(session.deleted):
        if not isinstance(obj, (Expense, StaffCostLine, Timesheet)):
            continue
        if isinstance(obj, Timesheet):
            history = attributes.get_history(obj, "state")
            was = (history.unchanged or history.deleted or [None])[0]
            frozen = was == "locked"
        else:
            history = attributes.get_history(obj, "claim_id")
            frozen = (history.unchanged or history.deleted or [None])[0] is not None
        if frozen and (obj in session.deleted or session.is_modified(obj, include_collections=False)):
            raise ClaimLockedError(
                N_("Cette ligne fait partie d'une demande de paiement déposée : elle ne peut plus être modifiée.")
            )

"""Governance of amendments (issue 14): one entered by a finance officer is a request,
pending until an administrator approves it (the plan in force changes only then, through
``record_amendment``) or rejects it with a reason. A decision moves the request along its
declared table (``AMENDMENTS``, guarded: two administrators deciding at once cannot both
succeed). Both steps are in the audit trail (``AmendmentRequest`` is audited, and each
decision adds its own entry)."""
import json
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import select

from ..kernel.audit.services import record
from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.i18n import N_
from ..kernel.transactions import atomic
from ..kernel.transitions import StateMachine, Transition
from .models import AMENDMENT_REQUEST_STATES, AmendmentRequest, Operation
from .rules import CostLine, FlatRateLine, PlanInput, ResourceLine
from .services import check_amendment, record_amendment


DECIDED = N_("Cet avenant a déjà été traité.")
AMENDMENTS = StateMachine(
    AMENDMENT_REQUEST_STATES,
    [
        Transition("approve", ("pending",), "approved", N_("Approuver")),
        Transition("reject", ("pending",), "rejected", N_("Refuser"), reason_required=True),
    ],
    refusal=DECIDED,
    conflict=DECIDED,
)


def _day(value):
    return value.isoformat() if value is not None else None


def _payload(plan: PlanInput, end_date, fse_rate, fse_amount, fse_amount_fixed, payment_deadline) -> str:
    return json.dumps({
        "costs": [[line.category, line.year, str(line.amount)] for line in plan.costs],
        "flat_rates": [[line.code, str(line.rate)] for line in plan.flat_rates],
        "resources": [[line.kind, line.name, str(line.amount)] for line in plan.resources],
        "amendment_number": plan.amendment_number, "signed_on": _day(plan.signed_on), "reason": plan.reason,
        "end_date": _day(end_date), "fse_rate": None if fse_rate is None else str(fse_rate),
        "fse_amount": None if fse_amount is None else str(fse_amount),
        "fse_amount_fixed": fse_amount_fixed, "payment_deadline": _day(payment_deadline),
    }, ensure_ascii=False)


def requested_amendment(request: AmendmentRequest) -> tuple[PlanInput, dict]:
    """The plan and the operation settings of a request, as entered."""
    data = {"costs": [], "flat_rates": [], "resources": [], "amendment_number": None, "signed_on": None,
            "reason": None, "end_date": None, "fse_rate": None, "fse_amount": None, "fse_amount_fixed": None,
            "payment_deadline": None} | json.loads(request.payload)

    def day(value):
        return date.fromisoformat(value) if value else None

    plan = PlanInput(
        costs=[CostLine(category, int(year), Decimal(amount)) for category, year, amount in data["costs"]],
        flat_rates=[FlatRateLine(code, Decimal(rate)) for code, rate in data["flat_rates"]],
        resources=[ResourceLine(kind, name, Decimal(amount)) for kind, name, amount in data["resources"]],
        amendment_number=data["amendment_number"], signed_on=day(data["signed_on"]), reason=data["reason"],
    )
    settings = {
        "end_date": day(data["end_date"]),
        "fse_rate": Decimal(data["fse_rate"]) if data["fse_rate"] is not None else None,
        "fse_amount": Decimal(data["fse_amount"]) if data["fse_amount"] is not None else None,
        "fse_amount_fixed": data["fse_amount_fixed"],
        "payment_deadline": day(data["payment_deadline"]),
    }
    return plan, settings


@atomic
def request_amendment(operation: Operation, plan: PlanInput, user, end_date=None, fse_rate=None, fse_amount=None,
                      fse_amount_fixed=None, payment_deadline=None) -> AmendmentRequest:
    """Check the amendment with every rule, then keep it pending; the plan does not change."""
    if pending_request(operation) is not None:
        raise DomainError(N_("Un avenant attend déjà l'approbation d'un administrateur pour %(code)s : "
                             "il doit être approuvé ou refusé avant d'en saisir un autre."), code=operation.code)
    check_amendment(operation, plan, end_date=end_date, fse_rate=fse_rate, fse_amount=fse_amount,
                    fse_amount_fixed=fse_amount_fixed, payment_deadline=payment_deadline)
    request = AmendmentRequest(
        operation_id=operation.id, state="pending", requested_by_id=getattr(user, "id", None),
        payload=_payload(plan, end_date, fse_rate, fse_amount, fse_amount_fixed, payment_deadline),
    )
    db.session.add(request)
    db.session.flush()
    record("amendment_requested", "operations", operation.id,
           after={"request": request.id, "amendment_number": plan.amendment_number}, note=plan.reason)
    return request


def pending_request(operation: Operation) -> AmendmentRequest | None:
    return db.session.scalar(select(AmendmentRequest).where(
        AmendmentRequest.operation_id == operation.id, AmendmentRequest.state == "pending"))


def pending_amendment_operations(operation_ids) -> set[int]:
    """The ids, among ``operation_ids``, of operations with an amendment waiting for a decision."""
    if not operation_ids:
        return set()
    return set(db.session.scalars(select(AmendmentRequest.operation_id).where(
        AmendmentRequest.operation_id.in_(list(operation_ids)), AmendmentRequest.state == "pending")))


def requests_of(operation: Operation) -> list[AmendmentRequest]:
    return db.session.scalars(select(AmendmentRequest).where(AmendmentRequest.operation_id == operation.id)
                              .order_by(AmendmentRequest.requested_at.desc(), AmendmentRequest.id.desc())).all()


def _decide(request: AmendmentRequest, user, action: str, reason: str | None) -> None:
    move = next((move for move in AMENDMENTS.allowed(request.state) if move.action == action), None)
    if move is None:
        raise DomainError(DECIDED)
    if user is not None and request.requested_by_id == user.id:
        raise DomainError(N_("Un avenant est approuvé ou refusé par un autre que celui qui l'a saisi."))
    AMENDMENTS.move(request, move, reason)
    request.decided_by_id = getattr(user, "id", None)
    request.decided_at = datetime.now(timezone.utc)
    request.decision_reason = reason


@atomic
def approve_request(request: AmendmentRequest, user):
    """The plan in force changes now: a new version, with every rule checked again."""
    _decide(request, user, "approve", None)
    plan, settings = requested_amendment(request)
    version = record_amendment(request.operation, plan, user_id=request.requested_by_id, **settings)
    request.plan_version_number = version.number
    record("amendment_approved", "operations", request.operation_id,
           after={"request": request.id, "plan_version": version.number})
    db.session.flush()
    return version


@atomic
def reject_request(request: AmendmentRequest, user, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(N_("Indiquez le motif du refus."), field="reason")
    _decide(request, user, "reject", reason)
    record("amendment_rejected", "operations", request.operation_id, after={"request": request.id}, note=reason)
    db.session.flush()

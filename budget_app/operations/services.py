"""Operations, organisations, envelopes and plan versions in the database: create an
operation with its agreement, record an amendment. Every input goes through ``rules``;
a refusal is a ``DomainError`` listing every problem. Services flush; the request or the
command commits."""
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from ..accounts.models import OperationMember
from ..accounts.policy import limited_to_assignments
from ..kernel.audit.services import note_for_changes, record
from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.formatting import format_day, format_money
from ..kernel.i18n import N_, translate
from ..kernel.locks import lock_rows
from ..kernel.money import cents
from ..kernel.transactions import atomic
from .closure import ensure_open
from .models import (
    PROCUREMENT_THRESHOLD,
    Envelope,
    Operation,
    Organisation,
    PlanCost,
    PlanFlatRate,
    PlanResource,
    PlanVersion,
)
from .unit_lines import copy_unit_lines, plan_unit_amounts
from .rules import (
    CostLine,
    EnvelopeInput,
    FlatRateLine,
    OperationInput,
    OrganisationInput,
    PlanInput,
    ResourceLine,
    check_advance,
    check_envelope_input,
    check_operation,
    check_organisation,
    check_plan,
    problem,
)


def visible_operations_query(user):
    """The operations a user may see, as a select() to filter, sort or paginate."""
    query = select(Operation).order_by(Operation.code)
    if limited_to_assignments(user):
        query = query.join(OperationMember, OperationMember.operation_id == Operation.id).where(
            OperationMember.user_id == user.id
        )
    return query


def _by_code(model, code: str):
    """The row of that code, typed without regard to case (« hl-rsa-2023 » is HL-RSA-2023),
    the exact spelling first; None when unknown or when two codes differ only by case."""
    code = (code or "").strip()
    if not code:
        return None
    found = db.session.scalar(select(model).where(model.code == code))
    if found is None:
        matches = db.session.scalars(select(model).where(func.lower(model.code) == code.lower()).limit(2)).all()
        found = matches[0] if len(matches) == 1 else None
    return found


def find_operation(code: str) -> Operation | None:
    return _by_code(Operation, code)


def load_plan_versions(operation: Operation) -> None:
    """The operation's plan versions with their flat rates and costs, in one query, unless
    already loaded (reading the current plan's rates and costs lazily takes three)."""
    if "plan_versions" in operation.__dict__:
        return
    versions = db.session.scalars(
        select(PlanVersion).where(PlanVersion.operation_id == operation.id).order_by(PlanVersion.number)
        .options(joinedload(PlanVersion.flat_rates), joinedload(PlanVersion.costs))
    ).unique().all()
    set_committed_value(operation, "plan_versions", versions)


def every_operation_code() -> list[str]:
    return list(db.session.scalars(select(Operation.code).order_by(Operation.code)))


def codes_of_operations(ids) -> dict:
    """operation id -> code."""
    ids = list(ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(Operation.id, Operation.code).where(Operation.id.in_(ids))).all())


def find_envelope(code: str) -> Envelope | None:
    return _by_code(Envelope, code)


def find_or_create_organisation(org: OrganisationInput, demo=False) -> Organisation:
    if org.siret:
        found = db.session.scalar(select(Organisation).where(Organisation.siret == org.siret))
    else:
        found = db.session.scalar(
            select(Organisation).where(Organisation.name == org.name, Organisation.siret.is_(None)).order_by(Organisation.id)
        )
    if found is not None:
        return found
    organisation = Organisation(name=org.name.strip(), kind=org.kind, siret=org.siret, address=org.address, is_demo=demo)
    db.session.add(organisation)
    return organisation


def ensure_envelope(env: EnvelopeInput, demo=False) -> tuple[Envelope, bool]:
    """The envelope of that code, created if new; (envelope, created)."""
    errors = check_envelope_input(env)
    if errors:
        raise DomainError(problems=errors)
    envelope = find_envelope(env.code)
    if envelope is not None:
        return envelope, False
    envelope = Envelope(
        code=env.code,
        name=env.name.strip(),
        organisation=find_or_create_organisation(env.organisation, demo),
        start_date=env.start_date,
        end_date=env.end_date,
        fse_amount=env.fse_amount,
        is_demo=demo,
    )
    db.session.add(envelope)
    db.session.flush()
    return envelope, True


def envelope_programmed(envelope: Envelope, excluding: Operation | None = None) -> Decimal:
    query = select(func.coalesce(func.sum(Operation.fse_amount), 0)).where(Operation.envelope_id == envelope.id)
    if excluding is not None and excluding.id is not None:
        query = query.where(Operation.id != excluding.id)
    return Decimal(db.session.scalar(query) or 0)


def check_envelope_room(envelope: Envelope | None, fse_amount: Decimal, operation: Operation | None = None):
    if envelope is None:
        return []
    # The envelope's row is locked before its total is read, until the request commits:
    # two operations attached at once cannot both take the last room (issue 21).
    lock_rows(Envelope, [envelope.id])
    others = envelope_programmed(envelope, excluding=operation)
    if others + fse_amount > envelope.fse_amount:
        return [
            problem("operation.envelope", N_("l'enveloppe %(envelope)s (%(total)s) serait dépassée : déjà programmé %(programmed)s, cette opération %(amount)s, dépassement %(gap)s"),
                envelope=envelope.code, total=format_money(envelope.fse_amount), programmed=format_money(others),
                amount=format_money(fse_amount), gap=format_money(others + fse_amount - envelope.fse_amount))
        ]
    return []


def _add_version(operation, plan: PlanInput, number: int, user_id=None) -> PlanVersion:
    with db.session.no_autoflush:
        amended = operation.current_plan if number > 1 else None
    version = PlanVersion(
        operation=operation,
        number=number,
        amendment_number=plan.amendment_number if number > 1 else None,
        signed_on=plan.signed_on,
        reason=plan.reason if number > 1 else None,
        created_by_id=user_id,
    )
    version.costs = [PlanCost(category=c.category, year=c.year, amount=c.amount) for c in plan.costs]
    version.flat_rates = [PlanFlatRate(code=f.code, rate=f.rate) for f in plan.flat_rates]
    version.resources = [
        PlanResource(position=i, kind=r.kind, name=r.name.strip(), amount=r.amount) for i, r in enumerate(plan.resources)
    ]
    db.session.add(version)
    if amended is not None:
        copy_unit_lines(amended, version)
    return version


@atomic
def create_operation(op: OperationInput, org: OrganisationInput | Organisation, plan: PlanInput,
                     envelope: Envelope | None = None, demo=False, user_id=None) -> Operation:
    """A new operation with its agreement (plan version 1). Raises DomainError listing every problem."""
    errors = check_operation(op)
    if isinstance(org, OrganisationInput):
        errors += check_organisation(org)
    if find_operation(op.code) is not None:
        errors.append(problem("operation.code", N_("une opération %(code)s existe déjà"), code=op.code))
    if not any(found.field == "operation.end_date" for found in errors):
        errors += check_plan(op, plan)
    errors += check_envelope_room(envelope, op.fse_amount)
    errors += check_advance(org.kind, op)
    if errors:
        raise DomainError(problems=errors)
    organisation = org if isinstance(org, Organisation) else find_or_create_organisation(org, demo)
    operation = Operation(
        code=op.code,
        title=op.title.strip(),
        organisation=organisation,
        service=(op.service or "").strip() or None,
        start_date=op.start_date,
        end_date=op.end_date,
        fse_rate=op.fse_rate,
        fse_amount=op.fse_amount,
        advance_rate=op.advance_rate,
        hours_divisor=op.hours_divisor,
        status=op.status,
        last_payment_date=op.last_payment_date,
        fse_amount_fixed=op.fse_amount_fixed,
        advance_override=op.advance_override,
        advance_override_reason=(op.advance_override_reason or "").strip() or None,
        advance_recovery=op.advance_recovery,
        payment_deadline=op.payment_deadline,
        salary_pay_delay=op.salary_pay_delay,
        csf_sample_percent=op.csf_sample_percent,
        csf_extrapolation=op.csf_extrapolation,
        envelope=envelope,
        is_demo=demo,
    )
    db.session.add(operation)
    _add_version(operation, plan, 1, user_id)
    db.session.flush()
    return operation


KEEP = object()  # an amendment that leaves a setting as it is

AMENDABLE_FIELDS = ("end_date", "fse_rate", "fse_amount", "fse_amount_fixed", "payment_deadline")


def operation_input_of(operation: Operation, **changes) -> OperationInput:
    values = {
        "code": operation.code,
        "title": operation.title,
        "service": operation.service,
        "start_date": operation.start_date,
        "end_date": operation.end_date,
        "fse_rate": operation.fse_rate,
        "fse_amount": operation.fse_amount,
        "advance_rate": operation.advance_rate,
        "hours_divisor": operation.hours_divisor,
        "status": operation.status,
        "last_payment_date": operation.last_payment_date,
        "fse_amount_fixed": operation.fse_amount_fixed,
        "advance_override": operation.advance_override,
        "advance_override_reason": operation.advance_override_reason,
        "advance_recovery": operation.advance_recovery,
        "payment_deadline": operation.payment_deadline,
        "salary_pay_delay": operation.salary_pay_delay,
        "csf_sample_percent": operation.csf_sample_percent,
        "csf_extrapolation": operation.csf_extrapolation,
    }
    values.update(changes)
    return OperationInput(**values)


def check_amendment(operation: Operation, plan: PlanInput, end_date=None, fse_rate=None, fse_amount=None,
                    fse_amount_fixed=None, payment_deadline=KEEP) -> OperationInput:
    """Every rule of an amendment, nothing written: the operation as amended, or DomainError."""
    ensure_open(operation)
    op = operation_input_of(
        operation,
        end_date=end_date if end_date is not None else operation.end_date,
        fse_rate=fse_rate if fse_rate is not None else operation.fse_rate,
        fse_amount=fse_amount if fse_amount is not None else operation.fse_amount,
        fse_amount_fixed=fse_amount_fixed if fse_amount_fixed is not None else operation.fse_amount_fixed,
        payment_deadline=operation.payment_deadline if payment_deadline is KEEP else payment_deadline,
    )
    errors = []
    if not (plan.amendment_number or "").strip():
        errors.append(problem("plan.amendment_number", N_("numéro d'avenant obligatoire")))
    elif len(plan.amendment_number) > 32:
        errors.append(problem("plan.amendment_number", N_("32 caractères au plus")))
    if plan.signed_on is None:
        errors.append(problem("plan.signed_on", N_("date de l'avenant obligatoire")))
    if not (plan.reason or "").strip():
        errors.append(problem("plan.reason", N_("motif de l'avenant obligatoire")))
    errors += check_operation(op)
    if not any(found.field == "operation.end_date" for found in errors):
        # The amendment carries the plan's unit costs and lump sums (``unit_lines``).
        units = plan_unit_amounts(operation.current_plan.unit_lines) if operation.current_plan else ()
        errors += check_plan(op, plan, units)
    errors += check_envelope_room(operation.envelope, op.fse_amount, operation)
    if errors:
        raise DomainError(problems=errors)
    return op


@atomic
def record_amendment(operation: Operation, plan: PlanInput, end_date=None, fse_rate=None, fse_amount=None,
                     user_id=None, fse_amount_fixed=None, payment_deadline=KEEP) -> PlanVersion:
    """An amendment (avenant): a new plan version; earlier versions stay as they were.
    It may also change the end date, the FSE+ rate, the agreed FSE+ amount (and whether the
    agreement fixes it) and the payment deadline."""
    op = check_amendment(operation, plan, end_date=end_date, fse_rate=fse_rate, fse_amount=fse_amount,
                         fse_amount_fixed=fse_amount_fixed, payment_deadline=payment_deadline)
    number = (operation.current_plan.number if operation.current_plan else 0) + 1
    note_for_changes(
        translate(N_("Avenant n° %(number)s du %(date)s (version %(version)s) : %(reason)s"),
           number=plan.amendment_number, date=format_day(plan.signed_on), version=number, reason=plan.reason)
    )
    before = {key: getattr(operation, key) for key in AMENDABLE_FIELDS}
    for key in AMENDABLE_FIELDS:
        setattr(operation, key, getattr(op, key))
    version = _add_version(operation, plan, number, user_id)
    db.session.flush()
    record(
        "amendment",
        "operations",
        operation.id,
        before=before,
        after={key: getattr(operation, key) for key in AMENDABLE_FIELDS} | {"plan_version": number},
        note=plan.reason,
    )
    return version


def plan_input_of(version: PlanVersion) -> PlanInput:
    return PlanInput(
        costs=[CostLine(c.category, c.year, c.amount) for c in version.costs],
        flat_rates=[FlatRateLine(f.code, f.rate) for f in version.flat_rates],
        resources=[ResourceLine(r.kind, r.name, r.amount) for r in version.resources],
    )


def same_plan(version: PlanVersion, plan: PlanInput) -> bool:
    """Same costs, flat rates and resources (order of cost lines and rates does not matter)."""
    def costs(lines):
        return sorted((c.category, c.year, cents(c.amount)) for c in lines)

    def rates(lines):
        return sorted((f.code, Decimal(f.rate).normalize()) for f in lines)

    def resources(lines):
        return [(r.kind, r.name.strip(), cents(r.amount)) for r in lines]

    stored = plan_input_of(version)
    return (
        costs(stored.costs) == costs(plan.costs)
        and rates(stored.flat_rates) == rates(plan.flat_rates)
        and resources(stored.resources) == resources(plan.resources)
    )


def procurement_threshold(operation: Operation) -> Decimal:
    """Expenses at or above this amount excl. VAT need a procurement file (the operation's
    setting, else ``PROCUREMENT_THRESHOLD``: the primer fixes none)."""
    if operation.procurement_threshold is not None:
        return operation.procurement_threshold
    return PROCUREMENT_THRESHOLD


def set_procurement_threshold(operation: Operation, amount: Decimal | None) -> None:
    """Set (or, with None, reset to the default) the procurement threshold; audited with
    the operation."""
    if amount is not None and amount <= 0:
        raise DomainError(N_("Le seuil de mise en concurrence doit être positif."), field="threshold")
    operation.procurement_threshold = amount
    db.session.flush()

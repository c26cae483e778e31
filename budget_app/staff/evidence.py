"""Staff evidence (primer §1, §4): what proves a staff cost line, attached per person.

Per person and year: the employment contract or decision, the payslips of the year or a
payroll summary (method A rests on the 12 latest payslips, primer §4), and for a fixed share
the mission letter stating its share and dates (CPR 55(5)). Per person and month: the
timesheet signed by the person and the manager (hourly, primer §1) or the month's payslip
(fixed share: the month's cost × the share).

A staff line is **complete** when its month's document (signed timesheet for hourly work,
payslip for a fixed share) and its year's contract (hourly) or mission letter (fixed share)
are attached. The rule is written once, as SQL conditions (``month_document_attached``,
``year_document_attached``) that the claims domain reads in its selection, and as the
expected → present → missing list of the staff pages (``expectations``). Operations that
existed before the rule require it from ``Operation.staff_evidence_from`` only.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import and_, case, exists, or_, select
from sqlalchemy.sql.elements import ColumnElement

from ..kernel.dates import month_start
from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.i18n import N_
from ..kernel.transactions import atomic
from ..kernel.uploads import receive
from ..operations.closure import ensure_open
from .models import (
    MONTH_DOCUMENT_KINDS,
    STAFF_DOCUMENT_KINDS,
    YEAR_DOCUMENT_KINDS,
    Person,
    StaffAssignment,
    StaffCostLine,
    StaffDocument,
    Timesheet,
)

# What each method needs, in the order the page lists it (primer §1, §4; CPR 55(2), 55(5)).
# Method B (CPR 55(2)(b)) rests on the contract's monthly hours and the month's payslip
# cost: the same documents as method A.
EXPECTED_PER_YEAR = {"hourly": ("contract", "payroll"), "hourly_monthly": ("contract", "payroll"),
                     "fixed_share": ("mission_letter", "contract")}
EXPECTED_PER_MONTH = {"hourly": ("timesheet_signed",), "hourly_monthly": ("timesheet_signed",),
                      "fixed_share": ("payslip",)}
# Of those, what a bilan requires before it counts a line.
REQUIRED_PER_YEAR = {"hourly": "contract", "hourly_monthly": "contract", "fixed_share": "mission_letter"}
REQUIRED_PER_MONTH = {"hourly": "timesheet_signed", "hourly_monthly": "timesheet_signed", "fixed_share": "payslip"}
# Kinds a method may not carry: no timesheet for a fixed share, no mission letter for hourly work.
NOT_FOR_METHOD = {"hourly": {"mission_letter"}, "hourly_monthly": {"mission_letter"},
                  "fixed_share": {"timesheet_signed"}}


def _december(year: int) -> date:
    return date(year, 12, 1)


def evidence_required(operation, month: date) -> bool:
    """Whether the staff month needs its evidence (``Operation.staff_evidence_from``)."""
    since = operation.staff_evidence_from
    return since is None or month >= since


def _attached(kind: ColumnElement) -> ColumnElement:
    """A document of ``kind`` of the line's person on the line's operation covers its month
    (correlated with ``StaffCostLine`` and ``Timesheet``, which the caller joins)."""
    return exists(
        select(StaffDocument.id).where(
            StaffDocument.assignment_id == Timesheet.assignment_id,
            StaffDocument.kind == kind,
            StaffDocument.first_month <= StaffCostLine.month,
            StaffDocument.last_month >= StaffCostLine.month,
        )
    )


def _not_required(operation) -> ColumnElement | None:
    since = operation.staff_evidence_from
    return None if since is None else StaffCostLine.month < since


def month_document_attached(operation) -> ColumnElement:
    """The line's month has its signed timesheet (hourly: a line with no fixed share) or its
    payslip (fixed share), or needs none yet."""
    kind = case((StaffCostLine.fixed_percent.is_(None), REQUIRED_PER_MONTH["hourly"]),
                else_=REQUIRED_PER_MONTH["fixed_share"])
    waived = _not_required(operation)
    return _attached(kind) if waived is None else or_(waived, _attached(kind))


def year_document_attached(operation) -> ColumnElement:
    """The line's year has its contract (hourly) or mission letter (fixed share)."""
    kind = case((StaffCostLine.fixed_percent.is_(None), REQUIRED_PER_YEAR["hourly"]),
                else_=REQUIRED_PER_YEAR["fixed_share"])
    waived = _not_required(operation)
    return _attached(kind) if waived is None else or_(waived, _attached(kind))


def evidence_complete(operation) -> ColumnElement:
    return and_(month_document_attached(operation), year_document_attached(operation))


# --- attaching ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """What a document covers, as the person typed it: a year, a month, or (mission letter)
    its own dates; and a mission letter's share."""

    year: int | None = None
    month: date | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    share: Decimal | None = None


def _months(assignment: StaffAssignment, kind: str, coverage: Coverage) -> tuple[date, date]:
    operation = assignment.operation
    first_month, last_month = month_start(operation.start_date), month_start(operation.end_date)
    if kind in MONTH_DOCUMENT_KINDS:
        if coverage.month is None or coverage.year is not None:
            raise DomainError(N_("« %(kind)s » se joint à un mois (--month AAAA-MM), pas à une année."),
                              kind=STAFF_DOCUMENT_KINDS[kind], field="month")
        month = month_start(coverage.month)
        if not first_month <= month <= last_month:
            raise DomainError(N_("Le mois %(month)s est hors de la période de l'opération."),
                              month=month.strftime("%m/%Y"), field="month")
        return month, month
    if coverage.month is not None:
        raise DomainError(N_("« %(kind)s » se joint à une année (--year AAAA), pas à un mois."),
                          kind=STAFF_DOCUMENT_KINDS[kind], field="year")
    if kind == "mission_letter" and coverage.valid_from is not None:
        end = coverage.valid_to or operation.end_date
        if end < coverage.valid_from:
            raise DomainError(N_("La lettre de mission se termine avant de commencer."), field="valid_to")
        return max(month_start(coverage.valid_from), first_month), min(month_start(end), last_month)
    year = coverage.year
    if year is None or not operation.start_date.year <= year <= operation.end_date.year:
        raise DomainError(N_("Indiquez une année de l'opération (%(first)s à %(last)s)."),
                          first=operation.start_date.year, last=operation.end_date.year, field="year")
    return max(date(year, 1, 1), first_month), min(_december(year), last_month)


def _check_kind(assignment: StaffAssignment, kind: str, coverage: Coverage) -> None:
    if kind not in STAFF_DOCUMENT_KINDS:
        raise DomainError(N_("Type de pièce inconnu : %(kind)s (%(known)s)."), kind=kind,
                          known=", ".join(STAFF_DOCUMENT_KINDS), field="kind")
    if kind in NOT_FOR_METHOD[assignment.method]:
        raise DomainError(N_("« %(kind)s » ne concerne pas une personne dont la méthode est « %(method)s »."),
                          kind=STAFF_DOCUMENT_KINDS[kind],
                          method="temps fixe" if assignment.method == "fixed_share" else "horaire", field="kind")
    if coverage.share is not None:
        if kind != "mission_letter":
            raise DomainError(N_("Seule une lettre de mission porte un pourcentage."), field="share")
        if assignment.fixed_percent is not None and coverage.share != assignment.fixed_percent:
            raise DomainError(
                N_("La lettre de mission indique %(share)s %% ; la personne est déclarée à %(declared)s %% "
                   "sur l'opération. Corrigez l'un ou l'autre."),
                share=coverage.share, declared=assignment.fixed_percent, field="share")


@atomic
def attach_document(assignment: StaffAssignment, kind: str, filename: str, data: bytes, coverage: Coverage,
                    user=None) -> tuple[StaffDocument, list]:
    """Check, store and attach a staff document. Returns (document, the other staff or
    expense documents holding the same file: found, shown as a warning)."""
    ensure_open(assignment.operation)
    _check_kind(assignment, kind, coverage)
    first, last = _months(assignment, kind, coverage)
    received = receive(filename, data)
    same = db.session.scalars(select(StaffDocument).where(StaffDocument.sha256 == received.sha256)).all()
    document = StaffDocument(
        assignment_id=assignment.id, kind=kind, first_month=first, last_month=last,
        fixed_percent=coverage.share if kind == "mission_letter" else None,
        valid_from=coverage.valid_from if kind == "mission_letter" else None,
        valid_to=coverage.valid_to if kind == "mission_letter" else None,
        original_name=received.original_name, stored_name=received.stored_name,
        content_type=received.content_type, size=received.size, sha256=received.sha256,
        uploaded_at=datetime.now(timezone.utc), uploaded_by_id=getattr(user, "id", None),
    )
    db.session.add(document)
    db.session.flush()
    return document, list(same)


# --- expected → present → missing ------------------------------------------------------


@dataclass
class Expected:
    kind: str
    period: date  # first month of the year (year kinds) or the month
    per_year: bool
    required: bool  # a bilan needs it (else it is expected, not blocking)
    documents: list = field(default_factory=list)

    @property
    def present(self) -> bool:
        return bool(self.documents)


@dataclass
class PersonEvidence:
    assignment: StaffAssignment
    items: list = field(default_factory=list)

    @property
    def missing(self) -> list:
        return [item for item in self.items if not item.present]

    @property
    def missing_required(self) -> list:
        return [item for item in self.missing if item.required]


def documents_of(assignment_ids) -> list[StaffDocument]:
    if not assignment_ids:
        return []
    return db.session.scalars(
        select(StaffDocument).where(StaffDocument.assignment_id.in_(list(assignment_ids)))
        .order_by(StaffDocument.first_month, StaffDocument.kind, StaffDocument.id)
    ).all()


def expectations(operation, assignments) -> list[PersonEvidence]:
    """For each person: every document expected for the months that have a timesheet (and
    their years), with the documents present; a month before ``staff_evidence_from``
    expects nothing."""
    ids = [assignment.id for assignment in assignments]
    months: dict[int, set] = {assignment_id: set() for assignment_id in ids}
    if ids:
        for assignment_id, month in db.session.execute(
            select(Timesheet.assignment_id, Timesheet.month).where(Timesheet.assignment_id.in_(ids))
        ):
            if evidence_required(operation, month):
                months[assignment_id].add(month)
    documents = documents_of(ids)
    result = []
    for assignment in assignments:
        person = PersonEvidence(assignment)
        own = [document for document in documents if document.assignment_id == assignment.id]
        method = assignment.method
        for year in sorted({month.year for month in months[assignment.id]}):
            start = date(year, 1, 1)
            for kind in EXPECTED_PER_YEAR[method]:
                year_months = [month for month in months[assignment.id] if month.year == year]
                covering = [document for document in own if document.kind == kind
                            and any(document.first_month <= month <= document.last_month for month in year_months)]
                person.items.append(Expected(kind, start, True, kind == REQUIRED_PER_YEAR[method], covering))
        for month in sorted(months[assignment.id]):
            for kind in EXPECTED_PER_MONTH[method]:
                covering = [document for document in own if document.kind == kind
                            and document.first_month <= month <= document.last_month]
                person.items.append(Expected(kind, month, False, kind == REQUIRED_PER_MONTH[method], covering))
        result.append(person)
    return result


def line_documents(line_ids) -> dict[int, list[StaffDocument]]:
    """For each staff cost line, the documents of its person that cover its month (year and
    month documents): what the controller opens beside the line."""
    if not line_ids:
        return {}
    rows = db.session.execute(
        select(StaffCostLine.id, StaffDocument)
        .join(Timesheet, Timesheet.id == StaffCostLine.timesheet_id)
        .join(StaffDocument, and_(StaffDocument.assignment_id == Timesheet.assignment_id,
                                  StaffDocument.first_month <= StaffCostLine.month,
                                  StaffDocument.last_month >= StaffCostLine.month))
        .where(StaffCostLine.id.in_(list(line_ids)))
        .order_by(StaffCostLine.id, StaffDocument.kind, StaffDocument.id)
    ).all()
    by_line: dict[int, list] = {}
    for line_id, document in rows:
        by_line.setdefault(line_id, []).append(document)
    return by_line


def assignment_of(operation, registration_number: str) -> StaffAssignment:
    assignment = db.session.scalar(
        select(StaffAssignment).join(Person, Person.id == StaffAssignment.person_id)
        .where(StaffAssignment.operation_id == operation.id, Person.registration_number == registration_number)
    )
    if assignment is None:
        raise DomainError(N_("Aucune personne de matricule %(number)s sur l'opération %(code)s."),
                          number=registration_number, code=operation.code, field="person")
    return assignment



def documents_for_purge(operation_id: int) -> list:
    """(reference, document) of every staff document of the operation, for the retention
    purge (``expenses.hooks.other_documents``, wired in ``create_app``)."""
    rows = db.session.execute(
        select(Person.registration_number, StaffDocument)
        .join(StaffAssignment, StaffAssignment.id == StaffDocument.assignment_id)
        .join(Person, Person.id == StaffAssignment.person_id)
        .where(StaffAssignment.operation_id == operation_id).order_by(StaffDocument.id)
    ).all()
    return [(f"{number} {document.first_month:%m/%Y}", document) for number, document in rows]

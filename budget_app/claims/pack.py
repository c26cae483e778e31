"""The evidence pack of a claim (dossier de preuves), for an auditor: one ZIP holding the
claim as XLSX and PDF, its lines as CSV, every supporting document of its lines (named
``<line number>-<original name>``), the operation's documents (agreement, amendments,
publicity evidence, the procurement files of its expenses), the timesheets and staff computations (CPR annex XIII:
how each hourly rate and amount was computed), the control decisions once checked, and a
manifest giving each file's SHA-256, size and the line it supports.

Written as a stream: every entry is copied in chunks of ``CHUNK`` bytes and hashed on the
way, so memory stays bounded whatever the number and size of the documents; documents are
stored (not recompressed: PDF and images are compressed already). The web download reads
the ZIP as it is written (``stream_pack``). A document missing on disk, or whose content no
longer has the SHA-256 recorded at upload, is listed in the manifest as such, never skipped
silently; the caller says so (the CLI exits 1 after writing the pack).
"""
import csv
import hashlib
import io
import re
import threading
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone

from flask import current_app
from sqlalchemy import extract, func, select

from ..accounts.models import User
from ..expenses.models import (
    DOCUMENT_KINDS,
    OPERATION_DOCUMENT_KINDS,
    Expense,
    OperationDocument,
    ProcurementCover,
    SupportingDocument,
)
from ..expenses.operation_documents import active_documents
from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.formatting import decimal_text, format_day, format_moment, format_month, local_time
from ..kernel.i18n import N_
from ..kernel.spreadsheet import csv_text
from ..kernel import storage
from ..staff.computations import line_text, monthly_rate_text, rate_text
from ..staff.models import (
    STAFF_DOCUMENT_KINDS,
    TIMESHEET_STATES,
    YEAR_DOCUMENT_KINDS,
    AnnualCost,
    Person,
    StaffAssignment,
    StaffCostLine,
    StaffDocument,
    Timesheet,
)
from . import exports, pdf
from .models import Claim, ClaimLine
from .participant_indicators import indicator_csv
from .report import build_report, controlled, csf_rows

CHUNK = 1024 * 1024
_RESERVED = re.compile(r'[:*?"<>|]')
PRESENT, MISSING, ALTERED = "présent", "absent du stockage", "SHA-256 différent de celui enregistré"
MANIFEST_HEADER = ["Fichier", "Ligne", "Contenu", "SHA-256", "Taille (octets)", "État", "SHA-256 enregistré"]
TIMESHEET_HEADER = [
    "Ligne", "Matricule", "Personne", "Mois", "Méthode", "État de la fiche", "Approuvée le", "Approuvée par",
    "Heures sur l'opération", "Heures travaillées", "Coût mensuel brut", "Temps fixe (%)", "Calcul du taux horaire",
    "Taux horaire", "Calcul du montant", "Montant",
]
CONTROL_HEADER = ["N°", "Type", "Poste", "Référence", "Description", "Date", "Montant déclaré", "Décision",
                  "Montant retenu", "Montant écarté", "Motif", "Commentaire"]


@dataclass
class PackResult:
    files: int = 0
    missing: list = field(default_factory=list)  # archive names of documents absent from the storage
    altered: list = field(default_factory=list)  # archive names whose SHA-256 is not the recorded one

    @property
    def complete(self) -> bool:
        return not self.missing and not self.altered


def check_packable(claim: Claim) -> None:
    if claim.state == "draft":
        raise DomainError(N_("Le dossier de preuves rassemble les pièces d'un bilan déposé ; "
                             "le bilan n° %(number)s est un brouillon."), number=claim.number)


def pack_filename(claim: Claim) -> str:
    code = re.sub(r"[^A-Za-z0-9_-]", "_", claim.operation.code)
    return f"{code}-bilan-{claim.number}-dossier-de-preuves.zip"


def _safe_name(name: str) -> str:
    """An archive member name from a user's file name: no directory, no control character."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    if not name.isprintable() or _RESERVED.search(name):  # (most names: as they are)
        name = "".join(char for char in name if char.isprintable() and char not in ':*?"<>|')
    return name.strip(" .") or "document"


def _csv_text(header, rows) -> bytes:
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_text(value) if isinstance(value, str) else value for value in row])
    return buffer.getvalue().encode("utf-8")


def _amount(value) -> str:
    return decimal_text(value, places=2)


class _Writer:
    """Entries written one by one, hashed as they go; ``steps`` yields after every chunk."""

    def __init__(self, archive: zipfile.ZipFile, root: str):
        self.archive, self.root = archive, root
        self.manifest = []

    def close(self):
        pass

    def copy(self, name, source, line, what, compress=False, recorded=None, when=None):
        digest, size = hashlib.sha256(), 0
        # Entries carry their real dates (the upload, or now for what the pack writes), in
        # Europe/Paris: ZIP dates have no time zone.
        info = zipfile.ZipInfo(f"{self.root}/{name}", date_time=zip_time(when))
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        # SHA-256, CRC and the write each release the GIL on a whole chunk: one call each per
        # chunk, in this thread (a hashing thread cost more in hand-overs than it saved). Each
        # chunk is a bytes object of its own: the streamed download keeps it without a copy.
        with self.archive.open(info, "w", force_zip64=True) as target:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                target.write(chunk)
                yield
        sha = digest.hexdigest()
        state = PRESENT if recorded in (None, sha) else ALTERED
        self.manifest.append([name, line, what, sha, size, state, recorded or ""])

    def bytes(self, name, data, what, compress=True):
        yield from self.copy(name, io.BytesIO(data), "", what, compress=compress)


def _document_rows(claim: Claim):
    query = (
        select(ClaimLine.position, SupportingDocument)
        .join(Expense, Expense.id == ClaimLine.expense_id)
        .join(SupportingDocument, SupportingDocument.expense_id == Expense.id)
        .where(ClaimLine.claim_id == claim.id)
        .order_by(ClaimLine.position, SupportingDocument.id)
        .execution_options(yield_per=500)
    )
    return db.session.execute(query)


def _timesheet_rows(claim: Claim):
    approver = User.__table__.alias("approver")
    # Columns, not ORM objects (four per line: a 24 × 24 bilan made 2 304); the line's own
    # columns keep their names, so ``line_text`` reads the row as it reads a line.
    query = (
        select(ClaimLine.position, *StaffCostLine.__table__.c, Person.registration_number, Person.last_name,
               Person.first_name, StaffAssignment.method, Timesheet.state.label("sheet_state"),
               Timesheet.approved_at.label("sheet_approved_at"), Timesheet.hours_on_operation.label("sheet_hours"),
               Timesheet.hours_worked.label("sheet_hours_worked"), Timesheet.monthly_cost.label("sheet_cost"),
               AnnualCost.id.label("annual_id"), AnnualCost.annual_cost, AnnualCost.hours_divisor,
               AnnualCost.working_share, AnnualCost.hourly_rate.label("annual_rate"),
               func.coalesce(approver.c.full_name, approver.c.email).label("approver_name"))  # who approved, by name
        .join(StaffCostLine, StaffCostLine.id == ClaimLine.staff_cost_line_id)
        .join(Person, Person.id == StaffCostLine.person_id)
        .join(Timesheet, Timesheet.id == StaffCostLine.timesheet_id)
        .join(StaffAssignment, StaffAssignment.id == Timesheet.assignment_id)
        .outerjoin(AnnualCost, (AnnualCost.assignment_id == StaffAssignment.id)
                   & (AnnualCost.year == extract("year", StaffCostLine.month)))
        .outerjoin(approver, approver.c.id == Timesheet.approved_by_id)
        .where(ClaimLine.claim_id == claim.id).order_by(ClaimLine.position)
    )
    for line in db.session.execute(query):
        method = line.method
        yield [
            line.position, line.registration_number, f"{line.last_name} {line.first_name}",
            format_month(line.month, "fr"), "Temps fixe (RPDC 55(5))" if method == "fixed_share" else
            "Taux horaire, méthode B (RPDC 55(2)(b))" if method == "hourly_monthly" else
            "Taux horaire (RPDC 55(2))", TIMESHEET_STATES.get(line.sheet_state, line.sheet_state),
            format_moment(line.sheet_approved_at, "fr"), line.approver_name or "",
            decimal_text(line.sheet_hours), decimal_text(line.sheet_hours_worked), _amount(line.sheet_cost),
            decimal_text(line.fixed_percent),
            rate_text(line.annual_cost, line.hours_divisor, line.working_share, line.annual_rate, "fr")
            if line.annual_id is not None else monthly_rate_text(line.monthly_cost, line.monthly_hours,
                                                                 line.hourly_rate, "fr")
            if line.monthly_hours is not None else "", _amount(line.hourly_rate), line_text(line, "fr"),
            _amount(line.amount),
        ]


def _control_rows(report):
    for row in csf_rows(report):
        (position, kind, category, reference, description, day, declared, decision, retained, rejected, reason,
         comment) = row
        yield [position, kind, category, reference, description, format_day(day, "fr"), _amount(declared),
               decision, _amount(retained), _amount(rejected), reason or "", comment or ""]


class _Renditions(threading.Thread):
    """The claim as XLSX, PDF and CSV, written to temporary files by a thread with its own
    application context (and database session) while the documents are copied: reading,
    hashing, CRC and writing release the GIL, so both run at once on two cores."""

    FILES = (("bilan.xlsx", "Le bilan (tableur)", False), ("bilan.pdf", "Le bilan (PDF)", False),
             ("lignes.csv", "Les lignes du bilan", True),
             ("personnel/fiches-de-temps-et-calculs.csv", "Fiches de temps et calcul des frais de personnel", True))

    def __init__(self, app, claim_id: int):
        super().__init__(daemon=True)
        self.app, self.claim_id = app, claim_id
        self.files, self.error = {}, None

    def run(self):
        try:
            with self.app.app_context():
                claim = db.session.get(Claim, self.claim_id)
                report = build_report(claim.operation, claim.period_start, claim.period_end, claim)
                writers = {"bilan.xlsx": lambda spool: exports.write_xlsx(report, spool),
                           "bilan.pdf": lambda spool: pdf.write_pdf(report, spool),
                           "lignes.csv": lambda spool: spool.write(exports.csv_bytes(report)),
                           "personnel/fiches-de-temps-et-calculs.csv": lambda spool: spool.write(
                               _csv_text(TIMESHEET_HEADER, _timesheet_rows(claim)))}
                for name, _what, _compress in self.FILES:
                    spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed by ``close``)
                    self.files[name] = spool
                    writers[name](spool)
                    spool.seek(0)
        except Exception as error:  # noqa: BLE001 (raised again by the pack's thread)
            self.error = error

    def close(self):
        for spool in self.files.values():
            spool.close()


def pack_steps(claim: Claim, archive: zipfile.ZipFile, result: PackResult):
    """Write the pack into ``archive``, yielding after every chunk (the caller may forward
    what was written so far)."""
    check_packable(claim)
    report = build_report(claim.operation, claim.period_start, claim.period_end, claim)
    writer = _Writer(archive, pack_filename(claim)[: -len(".zip")])
    renditions = _Renditions(current_app._get_current_object(), claim.id)
    renditions.start()
    try:
        yield from _documents_steps(claim, writer, result)
        yield from _staff_documents_steps(claim, writer, result)
        yield from _operation_documents_steps(claim, writer, result)
        renditions.join()
        if renditions.error is not None:
            raise renditions.error
        for name, what, compress in renditions.FILES:
            yield from writer.copy(name, renditions.files[name], "", what, compress=compress)
    finally:
        renditions.join()
        renditions.close()
    yield from writer.bytes("participants/indicateurs-communs.csv", indicator_csv(report),
                            "Indicateurs communs FSE+ des participants (figés au dépôt)")
    if controlled(report):
        yield from writer.bytes("controle.csv", _csv_text(CONTROL_HEADER, _control_rows(report)),
                                "Décisions du contrôle de service fait")
    result.files = len(writer.manifest)
    writer.close()  # (a pack that fails half-way lets its idle hashing thread end with the writer)
    manifest = _csv_text(MANIFEST_HEADER, writer.manifest)
    info = zipfile.ZipInfo(f"{writer.root}/manifeste.csv", date_time=zip_time(None))
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, manifest)
    yield


def _documents_steps(claim: Claim, writer: _Writer, result: PackResult):
    used = set()
    for position, document in _document_rows(claim):
        name = f"pieces/{position}-{_safe_name(document.original_name)}"
        if name in used:
            name = f"pieces/{position}-{document.id}-{_safe_name(document.original_name)}"
        used.add(name)
        what = f"Pièce justificative : {DOCUMENT_KINDS.get(document.kind, document.kind)}"
        yield from _stored_document(writer, result, name, position, what, document)


def _stored_document(writer: _Writer, result: PackResult, name: str, line, what: str, document):
    """Copy one stored document, hashed on the way; missing from the storage or no longer
    with its recorded SHA-256: listed as such in the manifest and in ``result``."""
    try:
        source = storage.open(document.stored_name)  # streamed from the store; hashed by writer.copy
    except OSError:
        result.missing.append(name)
        writer.manifest.append([name, line, what, "", document.size, MISSING, document.sha256])
        return
    with source:
        yield from writer.copy(name, source, line, what, recorded=document.sha256, when=document.uploaded_at)
    if writer.manifest[-1][5] == ALTERED:
        result.altered.append(name)


def _staff_document_rows(claim: Claim):
    """Each staff document covering a line of the claim, once, with the lines it supports."""
    # The documents' columns, not ORM objects: a 24 × 24 bilan reads 1 152 (line, document)
    # pairs, and the pack only reads them.
    query = (
        select(ClaimLine.position, *StaffDocument.__table__.c, Person.registration_number)
        .join(StaffCostLine, StaffCostLine.id == ClaimLine.staff_cost_line_id)
        .join(Person, Person.id == StaffCostLine.person_id)
        .join(Timesheet, Timesheet.id == StaffCostLine.timesheet_id)
        .join(StaffDocument, (StaffDocument.assignment_id == Timesheet.assignment_id)
              & (StaffDocument.first_month <= StaffCostLine.month) & (StaffDocument.last_month >= StaffCostLine.month))
        .where(ClaimLine.claim_id == claim.id)
        .order_by(StaffDocument.id, ClaimLine.position)
    )
    documents, positions = {}, {}
    for row in db.session.execute(query):
        documents.setdefault(row.id, row)
        positions.setdefault(row.id, []).append(row.position)
    for document_id, row in documents.items():
        yield positions[document_id], row, row.registration_number


def _staff_documents_steps(claim: Claim, writer: _Writer, result: PackResult):
    """Primer §1, §4: the evidence of the staff lines (contracts, payslips, mission letters,
    signed timesheets) under ``personnel/pieces/<matricule>/``, each with its SHA-256."""
    used = set()
    for positions, document, number in _staff_document_rows(claim):
        period = (str(document.first_month.year) if document.kind in YEAR_DOCUMENT_KINDS
                  else document.first_month.strftime("%Y-%m"))
        name = (f"personnel/pieces/{_safe_name(number)}/{period}-{document.kind}-"
                f"{_safe_name(document.original_name)}")
        if name in used:
            name = name.replace(f"{period}-{document.kind}-", f"{period}-{document.kind}-{document.id}-", 1)
        used.add(name)
        lines = ", ".join(str(position) for position in positions)
        what = f"Pièce du personnel : {STAFF_DOCUMENT_KINDS.get(document.kind, document.kind)}"
        yield from _stored_document(writer, result, name, lines, what, document)


OPERATION_FOLDERS = {"agreement": "convention", "amendment": "avenants", "publicity": "publicite",
                     "procurement": "mise-en-concurrence"}


def _operation_document_rows(claim: Claim):
    """(lines, document): the agreement, amendments and publicity evidence of the operation
    (no line), then each procurement file covering an expense of the claim, once, with its
    lines. Withdrawn documents are left out."""
    for document in active_documents(claim.operation_id, ("agreement", "amendment", "publicity")):
        yield "", document
    query = (
        select(ClaimLine.position, OperationDocument)
        .join(ProcurementCover, ProcurementCover.expense_id == ClaimLine.expense_id)
        .join(OperationDocument, OperationDocument.id == ProcurementCover.document_id)
        .where(ClaimLine.claim_id == claim.id, OperationDocument.removed_at.is_(None))
        .order_by(OperationDocument.id, ClaimLine.position)
    )
    documents, positions = {}, {}
    for position, document in db.session.execute(query):
        documents.setdefault(document.id, document)
        positions.setdefault(document.id, []).append(str(position))
    for document_id, document in documents.items():
        yield ", ".join(positions[document_id]), document


def _operation_documents_steps(claim: Claim, writer: _Writer, result: PackResult):
    """Primer §8 (the CSF checks the agreement, publicity obligations and public procurement
    rules): the operation's documents under ``operation/<kind>/``, each with its SHA-256."""
    used = set()
    for lines, document in _operation_document_rows(claim):
        prefix = f"{document.plan_version.amendment_number}-" if document.kind == "amendment" else ""
        name = f"operation/{OPERATION_FOLDERS[document.kind]}/{_safe_name(prefix + document.original_name)}"
        if name in used:
            name = name.rsplit("/", 1)[0] + f"/{document.id}-{_safe_name(prefix + document.original_name)}"
        used.add(name)
        what = f"Document de l'opération : {OPERATION_DOCUMENT_KINDS[document.kind]}"
        yield from _stored_document(writer, result, name, lines, what, document)


def zip_time(when) -> tuple:
    """A ZIP entry's date: ``when`` (UTC, or now) in Europe/Paris, never 01/01/1980."""
    moment = local_time(when or datetime.now(timezone.utc))
    return (max(moment.year, 1980), moment.month, moment.day, moment.hour, moment.minute, moment.second)


def write_pack(claim: Claim, target) -> PackResult:
    """Write the pack to a path or a binary file object."""
    result = PackResult()
    with zipfile.ZipFile(target, "w", allowZip64=True) as archive:
        for _step in pack_steps(claim, archive, result):
            pass
    return result

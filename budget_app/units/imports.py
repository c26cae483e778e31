"""Import of unit records (XLSX or CSV), the same for the units page and ``flask units
import``: units delivered (unit costs) and deliverables achieved or not (lump sums).

All or nothing: every row is checked by the same service as the form
(``services.prepare_record``); if any row is wrong nothing is written and every problem is
listed as « ligne N, colonne X : message ». A row identical to a live record of the
operation (same plan line, dates, units or deliverable, comment) is skipped and reported,
so importing the same file twice doubles nothing. Numbers and days typed as text are read
as the reader's pages print them (``language``): « 1 234,5 » and « 15/03/2024 » in French,
« 1,234.5 » and « 2024-03-15 » in English (ISO days in both); a spreadsheet's own numbers
and dates are read as they are. Imported records have no evidence yet (« preuve
manquante »): a bilan counts them once it is attached, a statement counts them already.

Worked example: plan line 12 « heure d'atelier collectif » at 37,50 € the hour; the row
« 12 ; 31/01/2023 ; ; 12,5 ; ; Ateliers de janvier » records 12,5 × 37,50 = 468,75 €.
"""
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from ..kernel.audit.services import record as audit
from ..kernel.cells import normalise_header
from ..kernel.errors import DomainError, Problem
from ..kernel.extensions import db
from ..kernel.i18n import N_
from ..kernel.integers import parse_id
from ..kernel.tabular import RowReader, cell_date, cell_decimal, cell_text, cell_yes_no, read_table
from ..kernel.transactions import atomic
from ..operations.closure import closed_problem
from ..operations.unit_lines import PlanUnitLine
from .models import UnitRecord
from .services import Prepared, add_records, already_counted, prepare_record

COLUMNS = {
    "plan_line": "Ligne du plan",
    "delivered_on": "Date de réalisation",
    "period_start": "Début de la période",
    "quantity": "Unités réalisées",
    "achieved": "Livrable réalisé",
    "description": "Commentaire",
}
# « Début de la période » (participants ayant achevé le parcours), « Unités réalisées »
# (unit costs), « Livrable réalisé » (lump sums) and « Commentaire » may be absent.
REQUIRED = frozenset({"plan_line", "delivered_on"})
LANGUAGES = ("fr", "en")


@dataclass
class ImportRow:
    line: int
    record: Prepared
    already_recorded: int | None = None  # the live record's number it repeats


@dataclass
class ImportCheck:
    rows: list[ImportRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)  # lines left out on purpose (title, totals)
    sha256: str = ""

    @property
    def to_import(self) -> list[ImportRow]:
        return [row for row in self.rows if row.already_recorded is None]

    @property
    def skipped(self) -> list[ImportRow]:
        return [row for row in self.rows if row.already_recorded is not None]

    @property
    def amount(self) -> Decimal:
        return sum((row.record.amount for row in self.to_import), Decimal("0.00"))


class _Lines:
    """The operation's plan lines a row may name: by number (« 12 », « #12 », « n° 12 »), as
    the units page and ``flask units list`` show it, or by the label of a line of the plan in
    force (the year of the row's date telling apart lines of the same label)."""

    def __init__(self, operation):
        self.by_id = {line.id: line for line in db.session.scalars(
            select(PlanUnitLine).where(PlanUnitLine.version_id.in_(
                [version.id for version in operation.plan_versions])))}
        plan = operation.current_plan
        self.by_label: dict = {}
        for line in (plan.unit_lines if plan is not None else []):
            self.by_label.setdefault(normalise_header(line.label), []).append(line)

    def find(self, text: str, day) -> PlanUnitLine:
        reference = text.strip()
        for prefix in ("n°", "no", "#"):
            if reference.lower().startswith(prefix) and parse_id(reference[len(prefix):].strip()) is not None:
                reference = reference[len(prefix):].strip()
        number = parse_id(reference)
        if number is not None:
            if number not in self.by_id:
                raise DomainError(N_("aucune ligne n° %(number)s au plan de l'opération (coût unitaire ou montant "
                                     "forfaitaire)"), number=number)
            return self.by_id[number]
        found = self.by_label.get(normalise_header(reference), [])
        if len(found) > 1 and day is not None:
            found = [line for line in found if line.year == day.year] or found
        if not found:
            raise DomainError(N_("aucune ligne du plan en vigueur ne porte le libellé « %(value)s » (indiquez son "
                                 "n°, colonne N° de la page)"), value=text)
        if len(found) > 1:
            raise DomainError(N_("plusieurs lignes du plan portent ce libellé : indiquez leur n° (%(numbers)s)"),
                              numbers=", ".join(str(line.id) for line in found))
        return found[0]


def _key(line: PlanUnitLine, delivered_on, period_start, quantity, achieved, description: str) -> tuple:
    """What tells a row repeating a record: its line, days, units (a count of participants
    is never typed: left out) or deliverable, and its comment (the line's label by default)."""
    return (line.id, delivered_on, period_start, None if line.counted_from_participants else quantity, achieved,
            ((description or "").strip() or line.label)[:500])


def _recorded(operation, lines: "_Lines") -> dict:
    """The live records' keys (``_key``) -> the first of them."""
    found: dict = {}
    for record in db.session.scalars(select(UnitRecord).where(UnitRecord.operation_id == operation.id,
                                                              UnitRecord.deleted_at.is_(None))
                                     .order_by(UnitRecord.id)):
        line = lines.by_id.get(record.plan_line_id)
        if line is not None:
            found.setdefault(_key(line, record.delivered_on, record.period_start, record.quantity, record.achieved,
                                  record.description), record)
    return found


def _as_prepared(record: UnitRecord, line: PlanUnitLine) -> Prepared:
    codes = record.participant_codes.split() if record.participant_codes else None
    return Prepared(line, record.delivered_on, record.period_start, record.quantity, record.achieved,
                    record.amount, record.description, codes)


def check_file(operation, content: bytes, language: str = "fr") -> ImportCheck:
    """Read and check every row; nothing is written."""
    result = ImportCheck(sha256=hashlib.sha256(content).hexdigest())
    closed = closed_problem(operation)
    if closed is not None:
        result.problems.append(Problem(closed))
        return result
    table = read_table(content, COLUMNS, REQUIRED)
    result.problems.extend(table.problems)
    result.notes.extend(table.notes)
    if table.problems:
        return result
    if not table.rows:
        result.problems.append(Problem(DomainError(N_("Le fichier ne contient aucun relevé."))))
        return result
    lines = _Lines(operation)
    recorded = _recorded(operation, lines)
    counted: set | None = None  # participants' codes counted (read once, when a row needs them)
    known: dict = {}
    for row in table.rows:
        row.locale = language if language in LANGUAGES else "fr"
        read = RowReader(row, COLUMNS, result.problems, known)
        delivered_on = read("delivered_on", cell_date)
        period_start = read("period_start", cell_date, required=False)
        quantity = read("quantity", cell_decimal, required=False, noun="number")
        achieved = read("achieved", cell_yes_no, required=False)
        description = read("description", cell_text, required=False, max_length=500) or ""
        reference = read("plan_line", cell_text, max_length=300)
        line = None
        if reference:
            try:
                line = lines.find(reference, delivered_on)
            except DomainError as error:
                read.fail("plan_line", error)
        if line is not None:
            _kind_problems(read, line, quantity, achieved)
        if not read.ok:
            continue
        repeated = recorded.get(_key(line, delivered_on, period_start, quantity, achieved, description))
        if repeated is not None:
            result.rows.append(ImportRow(row.line, _as_prepared(repeated, line), repeated.id))
            continue
        if line.counted_from_participants and counted is None:
            counted = already_counted(line)
        try:
            item = prepare_record(operation, line, delivered_on, quantity, achieved, description, period_start,
                                  counted=counted if line.counted_from_participants else None)
        except DomainError as refused:
            for problem in refused.problems or [refused]:
                result.problems.append(Problem(getattr(problem, "error", problem), line=row.line,
                                               column=COLUMNS.get(getattr(problem, "field", None))))
            continue
        if item.codes:
            counted.update(item.codes)
        result.rows.append(ImportRow(row.line, item))
    return result


def _kind_problems(read, line: PlanUnitLine, quantity, achieved) -> None:
    """A cell filled that the line's kind does not take: said, never ignored."""
    if line.kind == "lump_sum" and quantity is not None:
        read.fail("quantity", DomainError(N_("un montant forfaitaire n'a pas d'unités : indiquez oui ou non dans "
                                             "« Livrable réalisé »")))
    if line.kind == "unit" and achieved is not None:
        read.fail("achieved", DomainError(N_("un coût unitaire n'a pas de livrable : indiquez les unités réalisées")))
    if line.counted_from_participants and quantity is not None:
        read.fail("quantity", DomainError(N_("laissez vide : ce nombre est compté à partir des participants "
                                             "(indiquez le début de la période)")))


@atomic
def import_file(operation, content: bytes, filename: str, language: str = "fr", user=None) -> ImportCheck:
    """Check then record every new row, or raise DomainError listing every problem; one
    audit entry for the file (its SHA-256, what it recorded) beside each record's. Flushes only."""
    result = check_file(operation, content, language)
    if result.problems:
        raise DomainError(problems=result.problems)
    records = add_records(operation, [row.record for row in result.to_import], user)
    audit("import", "unit_records", operation.id, after={
        "operation": operation.code, "file": filename, "sha256": result.sha256, "imported": len(records),
        "already_recorded": len(result.skipped), "amount": result.amount})
    return result

"""What a claim or a period shows, the same for every output (XLSX, CSV, printable page):
the figures (declared, and retained after the check), the Récapitulatif rows, the lines of
each kind with their reason when left out, the control decisions. Rows are read in
batches from the database; nothing here writes a file."""
from dataclasses import dataclass, field
from datetime import date

from flask import has_request_context
from sqlalchemy import func, select

from ..accounts.policy import may
from ..expenses.models import Expense
from ..kernel.extensions import db
from ..kernel.formatting import local_time, today_in_paris
from ..kernel.money import HUNDRED
from ..operations.models import FLAT_RATES, Operation
from ..operations.unit_lines import CLAIM_CATEGORIES as COST_CATEGORIES
from ..operations.plans import final_balance_deadline, payment_deadline
from ..staff.models import Person, StaffCostLine
from .account import account_rows
from .computation import ClaimFigures
from .control import retained_figures
from .evidence import MissingEvidence, missing_evidence
from .models import BILAN_KINDS, CLAIM_STATES, CSF_DECISIONS, CSF_REASONS, Claim, ClaimLine
from .payments import amount_on_hold, carried_payment, expected_payment
from .periods import check_period
from .sampling import claim_extrapolation
from .report_text import document_label, resource_label, resource_rows, title_lines  # noqa: F401  (read from here)
from .unit_report import KIND_WORDS, unit_line_rows
from .selection import (
    Computation,
    chunks,
    compute_period,
    declared_figures,
    included_expenses_query,
    included_staff_query,
    left_out_reasons,
)

BATCH = 2000
# The left-out lines a page lists (templates/claims/_figures.html, ``left_out_table``); one
# more is read to say that the export holds the others.
LEFT_OUT_SHOWN = 500
# The Récapitulatif's fixed labels: tests read them back exactly.
TOTAL_LABEL = "Total des dépenses éligibles"
APPLIED_LABEL = "  taux appliqué × base (plafond)"
RATE_LABEL = "Taux FSE+"
ASKED_LABEL = "FSE+ demandé"
ALREADY_LABEL = "FSE+ déjà demandé"
REMAINING_LABEL = "FSE+ restant"
MISSING_LABEL = "dont pièces manquantes"


@dataclass
class ClaimReport:
    """What every export (and the printable page) shows of one claim or one period."""

    operation: Operation
    start: date
    end: date
    claim: Claim | None
    figures: ClaimFigures
    retained: ClaimFigures | None = None
    computation: Computation | None = None
    position: dict = field(default_factory=dict)
    # A statement's lines counted although still missing their documents (claims.evidence).
    missing: MissingEvidence = field(default_factory=MissingEvidence)

    @property
    def state(self) -> str:
        return self.claim.state if self.claim else "draft"

    @property
    def frozen(self) -> bool:
        return self.claim is not None and self.claim.state != "draft"

    @property
    def left_out(self):
        return self.computation.left_out if self.computation else []


def viewer_left_out_reasons() -> dict:
    """Left-out reasons as the current user may read them: a held line is "En attente" for
    everyone but the anti-fraud referent (the one who may put lines under suspicion)."""
    return left_out_reasons(real_reason=has_request_context() and may("alerts.link_lines"))


def build_report(operation: Operation, start: date, end: date, claim: Claim | None = None,
                 left_out_limit: int | None = None) -> ClaimReport:
    """``left_out_limit``: a page lists the first left-out lines only (``LEFT_OUT_SHOWN``);
    the exports, every one."""
    if claim is not None and claim.state != "draft":
        return ClaimReport(operation, start, end, claim, declared_figures(claim),
                           retained_figures(claim) if claim.state in ("controlled", "paid") else None)
    computation = compute_period(operation, start, end, claim=claim, left_out_limit=left_out_limit)
    return ClaimReport(operation, start, end, claim, computation.figures, computation=computation,
                       missing=missing_evidence(operation, start, end, computation))


def statement_report(operation: Operation, start: date, end: date) -> ClaimReport:
    """What ``claims export`` and the statement's buttons write, in one place (primer §9):
    the bilan of exactly that period when there is one (the file says so), else the
    statement computed, not saved."""
    check_period(operation, start, end)
    return build_report(operation, start, end, find_claim(operation, start, end))


def find_claim(operation: Operation, start: date, end: date) -> Claim | None:
    """The claim of exactly that period (the latest if several)."""
    return db.session.scalar(
        select(Claim).where(Claim.operation_id == operation.id, Claim.period_start == start, Claim.period_end == end)
        .order_by(Claim.number.desc())
    )


# --------------------------------------------------------------------------- line sources

EXPENSE_FIELDS = (
    Expense.category, Expense.label, Expense.supplier_name, Expense.supplier_siret, Expense.document_number,
    Expense.incurred_on, Expense.paid_on, Expense.amount_excl_vat, Expense.vat, Expense.allocation_percent,
    Expense.eligible_amount,
)


def expense_rows(report: ClaimReport):
    """(category, label, ..., eligible, presented, reason, VAT pro-rata applied or None)"""
    if report.frozen:
        query = (
            select(*EXPENSE_FIELDS, ClaimLine.declared_amount, Expense.vat_prorata)
            .join(ClaimLine, ClaimLine.expense_id == Expense.id)
            .where(ClaimLine.claim_id == report.claim.id)
            .order_by(ClaimLine.position)
        )
    else:
        query = included_expenses_query(report.operation, report.start, report.end, report.computation)
        query = query.with_only_columns(*EXPENSE_FIELDS, Expense.eligible_amount, Expense.vat_prorata)
    for row in db.session.execute(query.execution_options(yield_per=BATCH)):
        yield _expense_row(row[:11], row[11], None, row[12])
    if not report.frozen:
        excluded = [line for line in report.left_out if line.kind == "expense"]
        by_id = {line.id: line.reason for line in excluded}
        labels = viewer_left_out_reasons()
        for chunk in chunks(sorted(by_id)):
            for row in db.session.execute(select(Expense.id, *EXPENSE_FIELDS, Expense.vat_prorata).where(Expense.id.in_(chunk))):
                yield _expense_row(row[1:12], None, labels[by_id[row[0]]], row[12])


def _expense_row(values, presented, reason, vat_prorata=None):
    (category, label, supplier, siret, number, incurred, paid, excl, vat, key, eligible) = values
    return (COST_CATEGORIES.get(category, category), label, supplier, siret, number, incurred, paid, excl, vat,
            excl + vat, key / HUNDRED, eligible, presented, reason,
            None if vat_prorata is None else vat_prorata / HUNDRED)


def staff_rows(report: ClaimReport):
    fields = (
        Person.registration_number, Person.last_name, Person.first_name, Person.function, StaffCostLine.month,
        StaffCostLine.hours, StaffCostLine.hourly_rate, StaffCostLine.monthly_cost, StaffCostLine.fixed_percent,
        StaffCostLine.amount, StaffCostLine.computation, StaffCostLine.monthly_hours,
    )
    if report.frozen:
        query = (
            select(*fields).join(Person, Person.id == StaffCostLine.person_id)
            .join(ClaimLine, ClaimLine.staff_cost_line_id == StaffCostLine.id)
            .where(ClaimLine.claim_id == report.claim.id).order_by(ClaimLine.position)
        )
    else:
        query = included_staff_query(report.operation, report.start, report.end, report.computation)
        query = query.with_only_columns(*fields)
    for row in db.session.execute(query.execution_options(yield_per=BATCH)):
        yield _staff_row(row, None)
    if not report.frozen:
        by_id = {line.id: line.reason for line in report.left_out if line.kind == "staff"}
        labels = viewer_left_out_reasons()
        for chunk in chunks(sorted(by_id)):
            for row in db.session.execute(
                select(StaffCostLine.id, *fields).join(Person, Person.id == StaffCostLine.person_id)
                .where(StaffCostLine.id.in_(chunk))
            ):
                yield _staff_row(row[1:], labels[by_id[row[0]]])


def _staff_row(values, reason):
    (number, last, first, function, month, hours, rate, monthly, fixed, amount, computation, monthly_hours) = values
    method = ("Temps fixe (RPDC 55(5))" if fixed is not None else
              "Taux horaire, méthode B (RPDC 55(2)(b))" if monthly_hours is not None else "Taux horaire (RPDC 55(2))")
    return (number, f"{last} {first}", function, month, method, hours, rate, monthly,
            None if fixed is None else fixed / HUNDRED, amount, None if reason else amount, computation, reason)


def csf_rows(report: ClaimReport):
    query = (
        select(ClaimLine).where(ClaimLine.claim_id == report.claim.id).order_by(ClaimLine.position)
        .execution_options(yield_per=BATCH)
    )
    for line in db.session.scalars(query):
        retained = line.retained_amount if line.decision else line.declared_amount
        yield (
            line.position, KIND_WORDS[line.kind],
            COST_CATEGORIES.get(line.category, line.category), line.reference, line.description, line.incurred_on,
            line.declared_amount, CSF_DECISIONS.get(line.decision or "kept"), retained,
            line.declared_amount - retained, CSF_REASONS.get(line.reason) if line.reason else None, line.comment,
        )
    # Check by sampling with extrapolation (primer §8): one row per category, its correction
    # retained as a negative amount, so the columns still add up to the retained total.
    sample = claim_extrapolation(report.claim)
    for category, (_base, amount) in (sample.corrections.items() if sample is not None else ()):
        yield (
            None, "Extrapolation", COST_CATEGORIES.get(category, category), f"graine {sample.seed}",
            f"Taux d'erreur {sample.rate_text('fr')} ; correction {sample.correction_text(category, 'fr')}",
            None, None, "Correction extrapolée", -amount, amount, None, None,
        )


# --------------------------------------------------------------------------- XLSX


def summary_rows(report: ClaimReport):
    """(label, value, kind) of the Récapitulatif, top to bottom."""
    operation, figures = report.operation, report.figures
    claim = report.claim
    state = CLAIM_STATES[report.state] + ("" if claim else " (calcul, non enregistré)")
    rows = [
        ("Opération", operation.code, "text"),
        ("Intitulé", operation.title, "text"),
        ("Bénéficiaire", operation.organisation.name if operation.organisation else None, "text"),
        ("Début de la période", report.start, "date"),
        ("Fin de la période", report.end, "date"),
        ("État", state, "text"),
    ]
    if claim is not None:
        rows.append(("Bilan n°", claim.number, "number"))
    if claim is not None and claim.submitted_at:
        rows.append(("Date de dépôt", local_time(claim.submitted_at).date(), "date"))
    rows.append(("Date d'émission", today_in_paris(), "date"))
    rows += dates_rows(report)
    rows += [
        (None, None, "text"),
        ("Poste", "Montant", "header"),
    ]
    for category, amount in figures.categories.items():
        rows.append((COST_CATEGORIES[category], amount, "money"))
    for code, amount in figures.flat_rates.items():
        rows.append((FLAT_RATES[code][0], amount, "money"))
        rows.append((APPLIED_LABEL, figures.applied_text(code), "text"))
    rows += [
        (TOTAL_LABEL, figures.total, "money"),
        *missing_rows(report),
        (RATE_LABEL, figures.fse_rate / HUNDRED, "percent"),
        (ASKED_LABEL, figures.fse_asked, "money"),
        (ALREADY_LABEL, figures.fse_already_asked, "money"),
        (REMAINING_LABEL, figures.fse_remaining, "money"),
        ("Montant FSE+ conventionné", figures.agreed_fse, "money"),
    ]
    if figures.fse_cap_excess:
        rows.append(("FSE+ calculé au-delà du montant conventionné (non demandé)", figures.fse_cap_excess, "money"))
    if figures.over_plan:
        rows.append(("Dépenses au-delà du total du plan de financement (non financées)", figures.over_plan, "money"))
    if report.retained is not None:
        retained = report.retained
        rows += [(None, None, "text"), ("Après contrôle de service fait", None, "header")]
        for category, amount in retained.categories.items():
            rows.append((COST_CATEGORIES[category] + " (retenu)", amount, "money"))
        for code, amount in retained.flat_rates.items():
            rows.append((FLAT_RATES[code][0] + " (retenu)", amount, "money"))
            rows.append((APPLIED_LABEL, retained.applied_text(code), "text"))
        rows += [
            ("Total des dépenses retenues", claim.total_retained, "money"),
            ("FSE+ dû", claim.fse_due, "money"),
            ("Écart avec le FSE+ demandé", claim.fse_asked - claim.fse_due, "money"),
            ("Avance récupérée sur ce paiement", claim.advance_recovered, "money"),
        ]
        on_hold = amount_on_hold(claim)
        if on_hold:
            rows.append(("Montant en attente", on_hold, "money"))
        carried = carried_payment(claim)
        if carried:
            rows.append(("Report des paiements précédents (manque + / trop-perçu −)", carried, "money"))
        rows.append(("Paiement attendu", expected_payment(claim), "money"))
        if claim.state == "paid":
            rows += [("Montant reçu", claim.amount_paid, "money"), ("Date de paiement", claim.paid_on, "date")]
        rows += account_rows(report.operation)
    return rows


def missing_rows(report: ClaimReport):
    """Beside a statement's total: the lines counted that still miss their documents."""
    if not report.missing.count:
        return []
    return [(f"{MISSING_LABEL} ({report.missing.count} ligne{'s' if report.missing.count > 1 else ''})",
             report.missing.total, "money")]


def dates_rows(report: ClaimReport):
    """Which bilan, and the dates that applied (primer §8-9): the payment deadline and the
    date by which costs had to be paid; for the final bilan, its own deadline."""
    claim, operation = report.claim, report.operation
    rows = []
    if claim is not None:
        rows.append(("Bilan", BILAN_KINDS[claim.kind], "text"))
        if claim.kind == "final":
            rows.append(("Date limite de dépôt du bilan final", final_balance_deadline(operation.end_date), "date"))
    rows.append(("Date limite d'acquittement appliquée", payment_deadline(operation), "date"))
    as_of = report.computation.as_of if report.computation else None
    if as_of is None and claim is not None and claim.figures and claim.figures.get("as_of"):
        as_of = date.fromisoformat(claim.figures["as_of"])
    if as_of is not None:
        rows.append(("Dépenses acquittées au plus tard le", min(as_of, payment_deadline(operation)), "date"))
    return rows


# --------------------------------------------------------------------------- one row per line

LINE_FIELDS = (
    "position", "kind", "category", "description", "party", "reference", "day", "paid_on", "eligible", "presented",
    "left_out", "decision", "retained", "rejected", "csf_reason", "comment",
)


def controlled(report: ClaimReport) -> bool:
    return report.claim is not None and report.claim.state in ("controlled", "paid")


def line_rows(report: ClaimReport):
    """One tuple (``LINE_FIELDS``) per cost line, with the control decision on the same row
    once the check is complete: the CSV's rows, so summing "Montant présenté" counts each
    line once. Left-out lines of a draft follow, with no amount presented."""
    if not report.frozen:
        for row in expense_rows(report):
            (category, label, supplier, _siret, number, incurred, paid, _excl, _vat, _incl, _key, eligible,
             presented, reason, _prorata) = row
            yield (None, "Dépense", category, label, supplier, number, incurred, paid, eligible, presented, reason,
                   None, None, None, None, None)
        for row in staff_rows(report):
            (number, person, _function, month, _method, _hours, _rate, _monthly, _fixed, eligible, presented,
             computation, reason) = row
            yield (None, "Personnel", COST_CATEGORIES["PERSONNEL"], computation, person, number, month, None,
                   eligible, presented, reason, None, None, None, None, None)
        yield from unit_line_rows(report)
        return
    checked = controlled(report)
    query = (
        select(ClaimLine.position, ClaimLine.kind, ClaimLine.category, ClaimLine.description, ClaimLine.incurred_on,
               ClaimLine.paid_on, ClaimLine.declared_amount, ClaimLine.decision, ClaimLine.retained_amount,
               ClaimLine.reason, ClaimLine.comment, Expense.label, Expense.supplier_name,
               func.coalesce(Expense.document_number, ClaimLine.reference),
               Expense.eligible_amount, Person.registration_number, Person.last_name, Person.first_name,
               StaffCostLine.amount)
        .outerjoin(Expense, Expense.id == ClaimLine.expense_id)
        .outerjoin(StaffCostLine, StaffCostLine.id == ClaimLine.staff_cost_line_id)
        .outerjoin(Person, Person.id == StaffCostLine.person_id)
        .where(ClaimLine.claim_id == report.claim.id).order_by(ClaimLine.position)
        .execution_options(yield_per=BATCH)
    )
    for (position, kind, category, description, incurred, paid, declared, decision, retained_amount, reason,
         comment, label, supplier, number, expense_eligible, registration, last, first, staff_amount) in (
            db.session.execute(query)):
        expense = kind == "expense"
        # Decisions are shown once the check is complete; lines left undecided are kept.
        retained = (retained_amount if decision else declared) if checked else None
        yield (
            position, KIND_WORDS[kind], COST_CATEGORIES.get(category, category),
            label if expense else description, supplier if expense else (f"{last} {first}" if last else None),
            number if kind != "staff" else registration, incurred, paid,
            expense_eligible if expense else (staff_amount if kind == "staff" else declared),
            declared, None,
            CSF_DECISIONS.get(decision or "kept") if checked else None,
            retained, declared - retained if checked else None,
            CSF_REASONS.get(reason) if checked and reason else None, comment if checked else None,
        )

"""Statements and bilans: any period computed on screen (the état récapitulatif); a
bilan's life (draft, submitted, controlled, paid), its service-done check, exports and
printable view. Views load (the operation comes from ``accounts.access``), call a service
and redirect; the request commits once."""
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ...accounts.policy import may
from ...expenses.models import DOCUMENT_KINDS, OPERATION_DOCUMENT_KINDS
from ...expenses.operation_documents import expectations, procurement_documents
from ...kernel.audit import services as audit
from ...kernel.errors import Conflict, DomainError, seen_version
from ...kernel.extensions import db
from ...kernel.formatting import format_number, format_money, today_in_paris
from ...kernel.transactions import attempt
from ...operations.models import FLAT_RATES
from ...operations.unit_lines import CLAIM_CATEGORIES
from ...operations.plans import payment_deadline
from ...operations.services import visible_operations_query
from ...staff.evidence import line_documents
from ...staff.models import STAFF_DOCUMENT_KINDS, TIMESHEET_STATES
from ...staff.queries import pending_timesheets
from .. import bilans, control, lifecycle, payments
from ..account import statement_of_account
from ..advances import record_advance
from ..evidence import MissingEvidence, missing_evidence
from ..left_out import included_page, left_out_summary
from ..daci import DACI_RECORDERS, checks_blocked
from ..forms import (
    ActionForm,
    AdvanceForm,
    CreateForm,
    DecisionForm,
    PaymentForm,
    PeriodForm,
    ReasonForm,
    amount_field_value,
)
from ..models import BILAN_KINDS, CLAIM_STATES, CSF_DECISIONS, CSF_REASONS, Advance, Claim, ClaimLine
from ..periods import check_period, month_period
from ..report import LEFT_OUT_SHOWN, ClaimReport, build_report, viewer_left_out_reasons
from ..sampling import claim_extrapolation
from ..selection import compute_period
from . import bp

PREFIX = "/operations/<operation_code>/demandes"


def _claim(number: int) -> Claim:
    claim = lifecycle.claim_for_number(g.operation, number)
    if claim is None:
        abort(404)
    return claim


def _refused(error: DomainError):
    flash(str(error), "error")


def _labels():
    """Every label translated here (some hold a literal « % », which Jinja's ``_`` would format)."""

    def translated(labels):
        return {code: _(label) for code, label in labels.items()}

    return {
        "categories": translated(CLAIM_CATEGORIES),
        "flat_rates": {code: _(label) for code, (label, _ceiling) in FLAT_RATES.items()},
        "states": translated(CLAIM_STATES), "decisions": translated(CSF_DECISIONS), "kinds": translated(BILAN_KINDS),
        "reasons": translated(CSF_REASONS), "left_out_reasons": translated(viewer_left_out_reasons()),
    }


@bp.route("/demandes")
def overview():
    operations = db.session.scalars(visible_operations_query(current_user)).all()
    rows = [(operation, lifecycle.claims_of(operation), payments.operation_position(operation))
            for operation in operations]
    return render_template("claims/overview.html", rows=rows, labels=_labels())


@bp.route(PREFIX + "/")
def index():
    operation = g.operation
    form = PeriodForm(request.args)
    computation = start = end = None
    missing = MissingEvidence()
    if request.args and form.validate():
        try:
            if form.month.data:
                start, end = month_period(form.month.data.strip())
            elif form.start.data and form.end.data:
                start, end = form.start.data, form.end.data
            if start:
                check_period(operation, start, end)
                computation = compute_period(operation, start, end, left_out_limit=LEFT_OUT_SHOWN + 1)
                missing = missing_evidence(operation, start, end, computation)
        except DomainError as error:
            flash(str(error), "error")
            start = end = None
    create_form = CreateForm(start=start, end=end, final=bool(end and end == operation.end_date)) if start else None
    pending = pending_timesheets(operation, start, end) if computation is not None else []
    return render_template(
        "claims/index.html", operation=operation, claims=lifecycle.claims_of(operation), form=form,
        computation=computation, start=start, end=end, create_form=create_form, labels=_labels(),
        position=payments.operation_position(operation), rule=bilans.bilan_rule(operation).text,
        account=statement_of_account(operation),
        warnings=bilans.warnings(operation, today_in_paris()), final_deadline=bilans.final_deadline(operation),
        payment_deadline=payment_deadline(operation), next_start=bilans.next_start(operation),
        advances=db.session.scalars(select(Advance).where(Advance.operation_id == operation.id)
                                    .order_by(Advance.paid_on)).all(),
        advance_form=AdvanceForm(), pending=pending, daci_recorders=DACI_RECORDERS,
        blocked=checks_blocked(current_user, [operation]) if may("claims.decide") else [],
        timesheet_states={code: _(label) for code, label in TIMESHEET_STATES.items()},
        empty=computation is not None and computation.expense_count + computation.staff_count + computation.unit_count == 0,
        missing=missing, statement_files=statement_links(start, end) if computation is not None else [],
    )


@bp.route(PREFIX + "/nouvelle", methods=["POST"])
def create():
    form = CreateForm()
    if not form.validate_on_submit():
        flash(_("Indiquez une période valide (dates du et au)."), "error")
        return redirect(url_for("claims.index"))
    with attempt() as outcome:
        bilans.check_new_bilan(g.operation, form.start.data, form.end.data, bool(form.final.data))
        lifecycle.refuse_empty_draft(g.operation, form.start.data, form.end.data, final=bool(form.final.data))
        claim = lifecycle.create_draft(g.operation, form.start.data, form.end.data, current_user,
                                       final=bool(form.final.data))
    if outcome.refused:
        _refused(outcome.error)
        return redirect(url_for("claims.index"))
    flash(_("Brouillon créé : %(bilan)s.", bilan=bilans.bilan_label(claim)), "success")
    return redirect(url_for("claims.show", number=claim.number))


@bp.route(PREFIX + "/avances", methods=["POST"])
def advance():
    form = AdvanceForm()
    amount, error = amount_field_value(form.amount.data)
    if not form.validate_on_submit() or error:
        flash(error or _("Indiquez la date et le montant de l'avance."), "error")
        return redirect(url_for("claims.index"))
    with attempt() as outcome:
        record_advance(g.operation, form.paid_on.data, amount, form.note.data)
    if outcome.refused:
        _refused(outcome.error)
    else:
        flash(_("Avance enregistrée."), "success")
    return redirect(url_for("claims.index"))


def statement_links(start, end) -> list[tuple[str, str]]:
    """(label, url) of the statement's files, for its page."""
    args = {"du": start.isoformat(), "au": end.isoformat()}
    return [(_("Tableur (XLSX)"), url_for("claims.statement_export", fmt="xlsx", **args)),
            (_("CSV"), url_for("claims.statement_export", fmt="csv", **args)),
            (_("PDF"), url_for("claims.statement_export", fmt="pdf", **args))]


def _evidence(lines) -> dict:
    """Line id -> (label, url) of what proves it: the expense's documents; the staff
    documents, the timesheet and the computation of a staff line."""
    found = {}
    staff_documents = line_documents([line.staff_cost_line_id for line in lines if line.staff_cost_line_id])
    procurement = procurement_documents([line.expense_id for line in lines])
    for line in lines:
        links = []
        if line.expense_id is not None and line.expense is not None:
            for document in line.expense.documents:
                links.append((_(DOCUMENT_KINDS.get(document.kind, document.kind)),
                              url_for("expenses.download", document_id=document.id)))
            for document in procurement.get(line.expense_id, []):
                links.append((_("Mise en concurrence"),
                              url_for("expenses.operation_document_download", operation_document_id=document.id)))
            links.append((_("Dépense"), url_for("expenses.detail", expense_id=line.expense_id)))
        elif line.staff_cost_line_id is not None and line.staff_cost_line is not None:
            # Primer §1, §4: the signed timesheet or payslip, the contract or mission letter.
            for document in staff_documents.get(line.staff_cost_line_id, []):
                links.append((_(STAFF_DOCUMENT_KINDS.get(document.kind, document.kind)),
                              url_for("staff.evidence_download", staff_document_id=document.id)))
            sheet = line.staff_cost_line.timesheet
            if sheet is not None:
                links.append((_("Fiche de temps"), url_for("staff.timesheets", mois=sheet.month.strftime("%Y-%m"))
                              + f"#fiche-{sheet.id}"))
            links.append((_("Calcul"), url_for("staff.cost_lines", mois=line.staff_cost_line.month.strftime("%Y-%m"))))
        found[line.id] = links
    return found


def _page_number() -> int:
    """?page=N of the draft's included lines; anything else is page 1."""
    text = request.args.get("page", "1")
    return int(text) if text.isascii() and text.isdigit() and 1 <= int(text) <= 1_000_000 else 1


def _report(claim: Claim, left_out_limit: int | None = None) -> ClaimReport:
    """``left_out_limit``: the pages list the first left-out lines only; the exports, every one."""
    return build_report(g.operation, claim.period_start, claim.period_end, claim, left_out_limit=left_out_limit)


@bp.route(PREFIX + "/<int:number>")
def show(number):
    return _show_page(_claim(number))


def _show_page(claim: Claim, failed: DecisionForm | None = None, failed_position: int | None = None):
    """The bilan page; after a refused decision, the line's form keeps what was typed and
    shows the error next to it (400), the other lines as recorded."""
    report = _report(claim, left_out_limit=LEFT_OUT_SHOWN + 1)
    lines = claim.lines.order_by(ClaimLine.position).all() if report.frozen else []
    decision_forms = {}
    blocked = checks_blocked(current_user, [g.operation]) if may("claims.decide") else []
    # No form to fill when the decision would be refused: the reason comes first (no dead end).
    can_check = may("claims.decide") and not blocked
    if claim.state == "submitted" and can_check:
        for line in lines:
            if failed is not None and line.position == failed_position:
                decision_forms[line.id] = failed
                continue
            decision_forms[line.id] = DecisionForm(
                prefix=f"l{line.position}", decision=line.decision or "kept",
                amount=format_number(line.retained_amount, places=2, plain=True) if line.decision == "reduced" else "",
                reason=line.reason or "", comment=line.comment or "", version=str(line.version),
            )
    summary = left_out_summary(claim, computation=report.computation) if claim.state == "draft" else None
    page = _page_number() if claim.state == "draft" else 1
    included, more = included_page(report, page) if claim.state == "draft" else ([], False)
    return render_template(
        "claims/show.html", operation=g.operation, claim=claim, report=report, lines=lines, labels=_labels(),
        summary=summary, included=included, page=page, more=more,
        decision_forms=decision_forms, action_form=ActionForm(), reason_form=ReasonForm(), payment_form=PaymentForm(),
        expected_payment=payments.expected_payment(claim), carried=payments.carried_payment(claim),
        on_hold=payments.amount_on_hold(claim), can_check=can_check, bilan_label=bilans.bilan_label(claim),
        late=bilans.late_submission(claim), final_deadline=bilans.final_deadline(g.operation),
        blocked=blocked, daci_recorders=DACI_RECORDERS, failed_position=failed_position,
        evidence=_evidence(lines), dossier=expectations(g.operation), kinds=OPERATION_DOCUMENT_KINDS,
        sample=claim_extrapolation(claim) if report.frozen else None,
    ), (400 if failed is not None else 200)


@bp.route(PREFIX + "/<int:number>/imprimer")
def printable(number):
    claim = _claim(number)
    report = _report(claim, left_out_limit=LEFT_OUT_SHOWN + 1)
    lines = claim.lines.order_by(ClaimLine.position).all() if report.frozen else []
    return render_template("claims/print.html", operation=g.operation, claim=claim, report=report, lines=lines,
                           labels=_labels(), expected_payment=payments.expected_payment(claim),
                           on_hold=payments.amount_on_hold(claim), bilan_label=bilans.bilan_label(claim),
                           carried=payments.carried_payment(claim),
                           account=statement_of_account(claim.operation) if claim.fse_due is not None else None)


@bp.route(PREFIX + "/<int:number>/supprimer", methods=["POST"])
def delete(number):
    claim = _claim(number)
    if not ActionForm().validate_on_submit():
        abort(400)
    with attempt() as outcome:
        lifecycle.delete_draft(claim)
    if outcome.refused:
        _refused(outcome.error)
        return redirect(url_for("claims.show", number=number))
    flash(_("Brouillon supprimé."), "success")
    return redirect(url_for("claims.index"))


def _move(number, move, success, with_reason=False):
    """A lifecycle move from the bilan page: check the form (a reason when the move needs
    one), call the service, commit, say what happened; the page is shown again either way."""
    claim = _claim(number)
    form = ReasonForm() if with_reason else ActionForm()
    if not form.validate_on_submit():
        if not with_reason:
            abort(400)
        flash(_("Indiquez le motif."), "error")
        return redirect(url_for("claims.show", number=number))
    with attempt() as outcome:
        move(claim, form)
    if outcome.refused:
        _refused(outcome.error)
    else:
        flash(success, "success")
        late = bilans.late_submission(claim)
        if late is not None and claim.state == "submitted":
            flash(str(late), "warning")
    return redirect(url_for("claims.show", number=number))


@bp.route(PREFIX + "/<int:number>/deposer", methods=["POST"])
def submit(number):
    claim = _claim(number)
    if claim.state == "draft":
        # No cost lost silently: the lines left out must be confirmed by their total, the
        # total the page showed; if it changed meanwhile the page shows the new one.
        summary = left_out_summary(claim)
        if summary.count and request.form.get("left_out_total") != str(summary.total):
            flash(_("Confirmez le dépôt : %(count)s ligne(s) pour %(total)s resteront hors de ce bilan (détail "
                    "ci-dessous).", count=summary.count, total=format_money(summary.total)), "error")
            return redirect(url_for("claims.show", number=number) + "#deposer")
    return _move(
        number,
        lambda claim, form: lifecycle.submit_claim(claim, current_user),
        _("Bilan déposé : ses lignes et ses montants sont figés."),
    )


@bp.route(PREFIX + "/<int:number>/retirer", methods=["POST"])
def withdraw(number):
    return _move(
        number,
        lambda claim, form: lifecycle.withdraw_claim(claim, form.reason.data, current_user),
        _("Bilan retiré : il est de nouveau un brouillon."),
        with_reason=True,
    )


@bp.route(PREFIX + "/<int:number>/lignes/<int:position>", methods=["POST"])
def decide(number, position):
    claim = _claim(number)
    line = claim.lines.filter(ClaimLine.position == position).first()
    if line is None:
        abort(404)
    form = DecisionForm(prefix=f"l{position}")
    amount = None
    if form.decision.data == "reduced":
        amount, error = amount_field_value(form.amount.data)
        if error:
            form.amount.errors = [error]
            return _show_page(claim, form, position)
    if not form.validate_on_submit():
        form.decision.errors = list(form.decision.errors or []) or [_("décision invalide")]
        return _show_page(claim, form, position)
    with attempt() as outcome:
        control.decide_line(claim, line, form.decision.data, current_user, amount=amount,
                             reason=form.reason.data or None, comment=form.comment.data,
                             version=seen_version(form.version.data))
    if outcome.refused:
        error = outcome.error
        target = {"amount": form.amount, "reason": form.reason, "comment": form.comment}.get(error.field or "",
                                                                                            form.decision)
        target.errors = list(target.errors or []) + [str(error)]
        claim = _claim(number)
        if isinstance(error, Conflict):
            # What was typed stays; the page shows the line as now decided, and sending
            # the form again decides on top of that version.
            form.version.data = str(claim.lines.filter(ClaimLine.position == position).first().version)
            return _show_page(claim, form, position)[0], 409
        return _show_page(claim, form, position)
    flash(_("Ligne %(position)s : décision enregistrée.", position=position), "success")
    return redirect(url_for("claims.show", number=number, _anchor=f"ligne-{position}"))


@bp.route(PREFIX + "/<int:number>/controle", methods=["POST"])
def finish_control(number):
    return _move(
        number,
        lambda claim, form: control.finish_control(claim, current_user),
        _("Contrôle de service fait terminé."),
    )


@bp.route(PREFIX + "/<int:number>/rouvrir", methods=["POST"])
def reopen(number):
    return _move(
        number,
        lambda claim, form: lifecycle.reopen_claim(claim, form.reason.data, current_user),
        _("Contrôle rouvert."),
        with_reason=True,
    )


@bp.route(PREFIX + "/<int:number>/paiement", methods=["POST"])
def pay(number):
    claim = _claim(number)
    form = PaymentForm()
    amount, error = amount_field_value(form.amount.data, allow_negative=True)  # a repayment (final bilan)
    if not form.validate_on_submit() or error:
        flash(error or _("Indiquez la date et le montant reçus."), "error")
        return redirect(url_for("claims.show", number=number))
    with attempt() as outcome:
        payments.record_payment(claim, form.paid_on.data, amount, form.reference.data, current_user,
                                overpayment=form.overpayment.data)
    if outcome.refused:
        _refused(outcome.error)
    else:
        flash(_("Paiement enregistré : le bilan est payé."), "success")
    return redirect(url_for("claims.show", number=number))

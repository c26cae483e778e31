"""Operations and their financing plans: the plan in force, its versions, creation by an
admin, amendments (avenants).

Thin views: ``g.operation`` is loaded and authorised by ``accounts.access``; the form is
read by ``plan_form``, the rules are ``rules`` (the same as for files and the CLI); the
request commits once (``kernel.transactions``)."""
from decimal import Decimal

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.fresh import ask_confirmation, fresh_enough
from ..accounts.policy import may
from sqlalchemy.exc import IntegrityError

from ..kernel.integers import parse_id, parse_int
from ..kernel.extensions import db
from ..kernel.formatting import format_number
from ..kernel.i18n import translate_label
from ..kernel.siret import normalise_siret
from ..kernel.transactions import attempt
from .closure import closed_problem, refuse_when_closed
from .hooks import documents_panel
from .flat_rates import AppliedRate, applied_rate_text
from .amendment_review import amendment_difference
from .amendments import approve_request, reject_request, request_amendment, requested_amendment, requests_of
from .forms import AmendmentDecisionForm, AmendmentForm, OperationForm
from .models import (
    ADVANCE_RECOVERY,
    AMENDMENT_REQUEST_STATES,
    AmendmentRequest,
    COST_CATEGORIES,
    FLAT_RATES,
    OPERATION_STATUSES,
    ORGANISATION_KINDS,
    PARTICIPANT_SUBCATEGORIES,
    RESOURCE_KINDS,
    Envelope,
    Organisation,
)
from .plan_form import PlanFormReader, envelope_choices, fill_plan, organisation_choices
from .plans import compare_versions, current_figures, payment_deadline, plan_figures
from .retention import retention_of
from .rules import OperationInput, OrganisationInput
from .services import create_operation, record_amendment

bp = Blueprint("operations", __name__)
refuse_when_closed(bp, ("amend",))


def _pay_delay(text) -> int:
    """Blank: 0 (the month's last day); anything but a whole number: -1, refused by the rules."""
    text = (text or "").strip()
    if not text:
        return 0
    number = parse_int(text, maximum=10_000)
    return -1 if number is None else number


@bp.app_context_processor
def labels():
    # flask_babel's gettext, not Jinja's: these labels contain "%" and take no variables.
    return {
        "flat_rate_codes": list(FLAT_RATES),
        "category_label": lambda code: translate_label(COST_CATEGORIES, code),
        "subcategory_label": lambda code: translate_label(PARTICIPANT_SUBCATEGORIES, code),
        "flat_rate_label": lambda code: _(FLAT_RATES[code][0]) if code in FLAT_RATES else code,
        "resource_label": lambda kind: translate_label(RESOURCE_KINDS, kind),
        "status_label": lambda status: translate_label(OPERATION_STATUSES, status),
        "organisation_kind_label": lambda kind: translate_label(ORGANISATION_KINDS, kind),
        "advance_recovery_label": lambda code: translate_label(ADVANCE_RECOVERY, code),
        "payment_deadline_of": payment_deadline,
        "applied_rate": lambda code, flat: applied_rate_text(
            AppliedRate(code, flat["rate"], flat["base"], flat["amount"])),
        "closed_problem": closed_problem,
    }


@bp.route("/operations/<operation_code>/")
def detail():
    operation = g.operation
    version = operation.current_plan
    figures = current_figures(operation)
    requests = requests_of(operation)
    return render_template("operations/detail.html", operation=operation, version=version, figures=figures,
                           versions=operation.plan_versions, retention=retention_of(operation),
                           requests=requests, details={item.id: requested_amendment(item) for item in requests},
                           decision_form=AmendmentDecisionForm(), documents_panel=documents_panel(operation),
                           request_states={code: _(label) for code, label in AMENDMENT_REQUEST_STATES.items()})


@bp.route("/operations/<operation_code>/avenants/<int:request_id>/decision", methods=["POST"])
def decide_amendment(request_id):
    """Approve (the plan changes now) or reject with a reason a finance officer's amendment."""
    operation = g.operation
    found = db.session.get(AmendmentRequest, request_id)
    if found is None or found.operation_id != operation.id:
        abort(404)
    form = AmendmentDecisionForm()
    if not form.validate_on_submit():
        flash(_("Formulaire incomplet ou expiré : vérifiez les champs."), "error")
        return redirect(url_for("operations.detail", operation_code=operation.code))
    if request.form.get("action") == "approve" and not fresh_enough():
        return ask_confirmation(url_for("operations.detail", operation_code=operation.code) + "#avenants")
    with attempt() as outcome:
        if request.form.get("action") == "approve":
            # Approved only with the figures restated on the review page (issue 22).
            if request.form.get("confirmation") != amendment_difference(found)["confirmation"]:
                flash(_("Approuvez l'avenant depuis sa page de comparaison, qui en rappelle les montants."), "error")
                return redirect(url_for("operations.amendment_review", operation_code=operation.code,
                                        request_id=found.id))
            version = approve_request(found, current_user)
            flash(_("Avenant approuvé : plan version %(number)s en vigueur.", number=version.number), "success")
        else:
            reject_request(found, current_user, form.reason.data)
            flash(_("Avenant refusé ; le plan en vigueur est inchangé."), "success")
    if outcome.refused:
        flash(" ".join(outcome.error.lines()), "error")
    return redirect(url_for("operations.detail", operation_code=operation.code) + "#avenants")


@bp.route("/operations/<operation_code>/avenants/<int:request_id>")
def amendment_review(request_id):
    """The plan in force and the proposed one side by side, then the decision."""
    operation = g.operation
    found = db.session.get(AmendmentRequest, request_id)
    if found is None or found.operation_id != operation.id:
        abort(404)
    return render_template("operations/amendment_review.html", operation=operation, item=found,
                           difference=amendment_difference(found), decision_form=AmendmentDecisionForm(),
                           request_states={code: _(label) for code, label in AMENDMENT_REQUEST_STATES.items()})


@bp.route("/operations/<operation_code>/versions/<int:number>")
def version(number):
    operation = g.operation
    found = next((v for v in operation.plan_versions if v.number == number), None)
    if found is None:
        abort(404)
    return render_template("operations/version.html", operation=operation, version=found, figures=plan_figures(found))


@bp.route("/operations/<operation_code>/comparaison")
def compare():
    operation = g.operation
    versions = operation.plan_versions
    if not versions:
        abort(404)
    by_number = {v.number: v for v in versions}

    def pick(name, default):
        try:
            return by_number[parse_int(request.args.get(name))]
        except KeyError:
            return by_number[default]

    old = pick("de", versions[max(len(versions) - 2, 0)].number)
    new = pick("a", versions[-1].number)
    return render_template("operations/compare.html", operation=operation, versions=versions,
                           comparison=compare_versions(old, new))


@bp.route("/operations/nouvelle", methods=["GET", "POST"])
def create():
    form = OperationForm()
    form.organisation_id.choices = organisation_choices()
    form.envelope_id.choices = envelope_choices()
    general = []
    if form.validate_on_submit():
        collector = PlanFormReader(form)
        plan = collector.plan()
        plan.signed_on = form.signed_on.data
        organisation = None
        if form.organisation_id.data:
            organisation_id = parse_id(form.organisation_id.data)
            organisation = db.session.get(Organisation, organisation_id) if organisation_id else None
            if organisation is None:
                collector.add(form.organisation_id, _("Bénéficiaire inconnu."))
        elif (form.organisation_name.data or "").strip():
            organisation = OrganisationInput(
                name=form.organisation_name.data.strip(),
                kind=form.organisation_kind.data,
                siret=normalise_siret(form.organisation_siret.data),
                address=(form.organisation_address.data or "").strip() or None,
            )
        else:
            collector.add(form.organisation_id, _("Choisissez un bénéficiaire ou saisissez-en un nouveau."))
        envelope = None
        if form.envelope_id.data:
            envelope_id = parse_id(form.envelope_id.data)
            envelope = db.session.get(Envelope, envelope_id) if envelope_id else None
            if envelope is None:
                collector.add(form.envelope_id, _("Enveloppe inconnue."))
        collector.required(form.start_date)
        collector.required(form.end_date)
        fse_rate = collector.rate(form.fse_rate)
        fse_amount = collector.amount(form.fse_amount)
        advance_rate = collector.rate(form.advance_rate, required=False) or Decimal("0")
        sample_percent = collector.rate(form.csf_sample_percent, required=False)
        if not collector.errors:
            op = OperationInput(
                code=(form.code.data or "").strip(),
                title=(form.title.data or "").strip(),
                service=(form.service.data or "").strip() or None,
                start_date=form.start_date.data,
                end_date=form.end_date.data,
                fse_rate=fse_rate,
                fse_amount=fse_amount,
                advance_rate=advance_rate,
                hours_divisor=parse_int(form.hours_divisor.data) or 0,
                status=form.status.data,
                fse_amount_fixed=bool(form.fse_amount_fixed.data),
                advance_override=bool(form.advance_override.data),
                advance_override_reason=(form.advance_override_reason.data or "").strip() or None,
                advance_recovery=form.advance_recovery.data or "interim",
                payment_deadline=form.payment_deadline.data,
                salary_pay_delay=_pay_delay(form.salary_pay_delay.data),
                csf_sample_percent=sample_percent,
                csf_extrapolation=bool(form.csf_extrapolation.data),
            )
            try:
                with attempt() as outcome:
                    operation = create_operation(op, organisation, plan, envelope=envelope, user_id=current_user.id)
            except IntegrityError:  # created by someone else meanwhile (same code or SIRET)
                collector.add(None, _("Enregistrement concurrent : une opération ou un bénéficiaire identique vient d'être créé. Vérifiez puis réessayez."))
            else:
                if outcome.refused:
                    collector.service_errors(outcome.error)
                else:
                    flash(_("Opération %(code)s créée.", code=operation.code), "success")
                    return redirect(url_for("operations.detail", operation_code=operation.code))
        general = collector.apply()
    elif request.method == "POST":
        general = [_("Formulaire incomplet ou expiré : vérifiez les champs.")]
    status = 400 if request.method == "POST" else 200
    return render_template("operations/create.html", form=form, general=general), status


@bp.route("/operations/<operation_code>/avenant", methods=["GET", "POST"])
def amend():
    operation = g.operation
    form = AmendmentForm()
    general = []
    if request.method == "GET":
        form.end_date.data = operation.end_date
        form.fse_rate.data = format_number(operation.fse_rate, places=None, plain=True)
        form.fse_amount.data = format_number(operation.fse_amount, places=2, plain=True)
        form.fse_amount_fixed.data = operation.fse_amount_fixed
        form.payment_deadline.data = operation.payment_deadline
        if operation.current_plan is not None:
            fill_plan(form, operation.current_plan)
    elif form.validate_on_submit():
        collector = PlanFormReader(form)
        plan = collector.plan()
        plan.amendment_number = (form.amendment_number.data or "").strip() or None
        plan.signed_on = form.signed_on.data
        plan.reason = (form.reason.data or "").strip() or None
        fse_rate = collector.rate(form.fse_rate)
        fse_amount = collector.amount(form.fse_amount)
        collector.required(form.end_date)
        if not collector.errors:
            settings = {"end_date": form.end_date.data, "fse_rate": fse_rate, "fse_amount": fse_amount,
                        "fse_amount_fixed": bool(form.fse_amount_fixed.data),
                        "payment_deadline": form.payment_deadline.data}
            try:
                with attempt() as outcome:
                    if may("operations.decide_amendment"):
                        version = record_amendment(operation, plan, user_id=current_user.id, **settings)
                    else:  # governance: pending until an administrator approves it
                        version = None
                        request_amendment(operation, plan, current_user, **settings)
            except IntegrityError:  # two amendments at once: the version number is unique
                collector.add(None, _("Un autre avenant vient d'être enregistré pour cette opération : rechargez la page."))
            else:
                if outcome.refused:
                    collector.service_errors(outcome.error)
                elif version is None:
                    flash(_("Avenant transmis pour approbation : le plan en vigueur ne change qu'une fois "
                            "l'avenant approuvé par un administrateur."), "success")
                    return redirect(url_for("operations.detail", operation_code=operation.code))
                else:
                    flash(_("Avenant enregistré : plan version %(number)s.", number=version.number), "success")
                    return redirect(url_for("operations.detail", operation_code=operation.code))
        general = collector.apply()
    else:
        general = [_("Formulaire incomplet ou expiré : vérifiez les champs.")]
    status = 400 if request.method == "POST" else 200
    return render_template("operations/amend.html", operation=operation, form=form, general=general), status

"""The operation's unit costs and lump sums: the plan's lines, the units delivered and the
deliverables achieved with their evidence. Views load (the operation comes from
``accounts.access``), call a service and redirect; the request commits once."""
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..accounts.policy import may
from ..kernel.errors import DomainError
from ..kernel.i18n import N_
from ..kernel.integers import parse_id, parse_int
from ..kernel.money import typed_amount, typed_day
from ..kernel.transactions import attempt
from ..kernel.uploads import send_document
from ..operations.closure import closed_problem, refuse_when_closed
from ..operations.models import COST_CATEGORIES
from ..operations.unit_lines import UNIT_LINE_KINDS, add_unit_line
from . import services
from .forms import EvidenceForm, UnitLineForm, UnitRecordForm, WithdrawForm

bp = Blueprint("units", __name__)
refuse_when_closed(bp, ("add_line", "record", "evidence", "withdraw"))
PREFIX = "/operations/<operation_code>/unites"


def _lines(operation):
    plan = operation.current_plan
    return list(plan.unit_lines) if plan is not None else []


def _page(line_form=None, record_form=None, status=200):
    operation = g.operation
    lines = _lines(operation)
    return render_template(
        "units/index.html", operation=operation, lines=lines, records=services.records_of(operation),
        line_form=line_form or UnitLineForm(), record_form=record_form or UnitRecordForm(lines),
        evidence_form=EvidenceForm(), withdraw_form=WithdrawForm(), kinds=UNIT_LINE_KINDS, categories=COST_CATEGORIES,
        closed=closed_problem(operation) is not None, may_plan=may("units.add_line", "POST"), may_record=may("units.record", "POST"),
    ), status


@bp.route(PREFIX)
def index():
    return _page()


def _shown(form, error: DomainError) -> None:
    """Each problem beside its field (the form's first field when it names none)."""
    problems = error.problems or [error]
    for problem in problems:
        name = getattr(problem, "field", None) or "delivered_on"
        field = getattr(form, name, None) or next(iter(form))
        field.errors = list(field.errors or []) + [str(getattr(problem, "error", problem))]


@bp.route(PREFIX + "/lignes", methods=["POST"])
def add_line():
    form = UnitLineForm()
    if not form.validate_on_submit():
        return _page(line_form=form, status=400)
    try:
        year = parse_int((form.year.data or "").strip())
        if year is None:
            raise DomainError(N_("Indiquez l'année."), field="year")
        rate = typed_amount(form.rate.data or "")
        planned = typed_amount(form.planned_units.data) if (form.planned_units.data or "").strip() else None
    except DomainError as error:
        _shown(form, DomainError(problems=[error]) if not error.problems else error)
        return _page(line_form=form, status=400)
    with attempt() as outcome:
        line = add_unit_line(g.operation, form.kind.data, year, form.category.data, form.label.data or "", rate,
                             planned, form.evidence_required.data, form.in_flat_rate_base.data,
                             form.counted_from_participants.data)
    if outcome.refused:
        _shown(form, outcome.error)
        return _page(line_form=form, status=400)
    flash(_("Ligne ajoutée au plan : %(label)s.", label=line.label), "success")
    return redirect(url_for("units.index"))


@bp.route(PREFIX + "/releves", methods=["POST"])
def record():
    operation = g.operation
    form = UnitRecordForm(_lines(operation))
    if not form.validate_on_submit():
        return _page(record_form=form, status=400)
    try:
        delivered = typed_day(form.delivered_on.data) if (form.delivered_on.data or "").strip() else None
        start = typed_day(form.period_start.data) if (form.period_start.data or "").strip() else None
        quantity = typed_amount(form.quantity.data) if (form.quantity.data or "").strip() else None
    except DomainError as error:
        _shown(form, error if error.problems else DomainError(problems=[error]))
        return _page(record_form=form, status=400)
    achieved = {"yes": True, "no": False}.get(form.achieved.data)
    upload = form.evidence.data
    with attempt() as outcome:
        saved = services.record_units(operation, parse_id(form.plan_line.data), delivered, quantity=quantity,
                                      achieved=achieved, description=form.description.data or "",
                                      period_start=start)
        if upload is not None and getattr(upload, "filename", ""):
            services.attach_evidence(saved, upload.filename, upload.read())
    if outcome.refused:
        _shown(form, outcome.error)
        return _page(record_form=form, status=400)
    flash(_("Relevé n° %(id)s enregistré.", id=saved.id), "success")
    return redirect(url_for("units.index"))


def _record(record_id):
    found = services.record_of(g.operation, record_id)
    if found is None:
        abort(404)
    return found


@bp.route(PREFIX + "/releves/<int:record_id>/joindre-preuve", methods=["POST"])
def evidence(record_id):
    found = _record(record_id)
    form = EvidenceForm()
    upload = form.evidence.data if form.validate_on_submit() else None
    if upload is None or not getattr(upload, "filename", ""):
        flash(_("Choisissez le fichier de la preuve."), "error")
        return redirect(url_for("units.index"))
    with attempt() as outcome:
        services.attach_evidence(found, upload.filename, upload.read())
    if outcome.refused:
        flash(str(outcome.error), "error")
    else:
        flash(_("Preuve jointe au relevé n° %(id)s.", id=found.id), "success")
    return redirect(url_for("units.index"))


@bp.route(PREFIX + "/releves/<int:record_id>/preuve")
def download(record_id):
    found = _record(record_id)
    if found.evidence is None:
        abort(404)
    return send_document(found.evidence)


@bp.route(PREFIX + "/releves/<int:record_id>/retrait", methods=["POST"])
def withdraw(record_id):
    found = _record(record_id)
    form = WithdrawForm()
    with attempt() as outcome:
        services.withdraw_record(found, form.reason.data if form.validate_on_submit() else "")
    if outcome.refused:
        flash(str(outcome.error), "error")
    else:
        flash(_("Relevé n° %(id)s retiré.", id=found.id), "success")
    return redirect(url_for("units.index"))

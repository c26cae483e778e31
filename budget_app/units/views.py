"""The operation's unit costs and lump sums: the plan's lines, the units delivered and the
deliverables achieved with their evidence. Views load (the operation comes from
``accounts.access``), call a service and redirect; the request commits once."""
from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.policy import may
from ..kernel import staging
from ..kernel.errors import DomainError
from ..kernel.i18n import N_, current_locale
from ..kernel.import_templates import XLSX_MIME, template_workbook
from ..kernel.formatting import format_money
from ..kernel.integers import parse_id, parse_int
from ..kernel.money import typed_amount, typed_day
from ..kernel.paging import page_number, page_of
from ..kernel.transactions import attempt
from ..kernel.uploads import send_document
from ..operations.closure import closed_problem, refuse_when_closed
from ..operations.models import COST_CATEGORIES
from ..operations.unit_lines import UNIT_LINE_KINDS, add_unit_line
from . import services
from .forms import ConfirmImportForm, EvidenceForm, ImportForm, UnitLineForm, UnitRecordForm, WithdrawForm
from .imports import COLUMNS, LANGUAGES, REQUIRED, check_file, import_file

bp = Blueprint("units", __name__)
refuse_when_closed(bp, ("add_line", "record", "evidence", "withdraw", "import_records", "confirm_import"))
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
        may_import=may("units.import_records", "POST"),
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


IMPORT_KIND = "units"


def _language() -> str:
    language = str(current_locale())[:2]
    return language if language in LANGUAGES else "fr"


@bp.route(PREFIX + "/import", methods=["GET", "POST"])
def import_records():
    """The file checked and shown (every problem by row and column, or the records it would
    write), then staged until the finance officer confirms (``kernel.staging``)."""
    operation = g.operation
    form = ImportForm()
    language = _language()
    result, token, error = staging.preview(IMPORT_KIND, operation.code, form,
                                           lambda content: check_file(operation, content, language),
                                           _("Choisissez un fichier XLSX ou CSV."))
    page = page_of(result.rows, page_number(request.args.get("page"))) if result and not result.problems else None
    return _import_page(form, result=result, token=token, error=error, page=page, language=language)


def _import_page(form, status=200, **values):
    values.setdefault("language", _language())
    return render_template(
        "units/import.html", operation=g.operation, form=form, columns=COLUMNS, kinds=UNIT_LINE_KINDS,
        confirm_form=ConfirmImportForm(token=values.get("token"), language=values["language"]), **values), status


@bp.route(PREFIX + "/import/confirmer", methods=["POST"])
def confirm_import():
    operation = g.operation
    form = ConfirmImportForm()
    valid = form.validate()
    staged = staging.take(IMPORT_KIND, operation.code, form.token.data if valid else None)
    if staged is None:
        flash(_("Cet import a expiré : envoyez le fichier à nouveau."), "error")
        return redirect(url_for("units.import_records"))
    language = form.language.data if form.language.data in LANGUAGES else _language()
    with attempt() as outcome:
        result = import_file(operation, staged.content, staged.filename, language, current_user)
    if outcome.refused:
        problems = outcome.error.problems or [outcome.error]
        return _import_page(ImportForm(), status=422, result=None, token=None, error=None, refused=problems)
    flash(_("%(n)s relevé(s) importé(s) (%(amount)s), %(skipped)s déjà enregistré(s) ignoré(s). "
            "Joignez la preuve de chacun.", n=len(result.to_import), amount=format_money(result.amount),
            skipped=len(result.skipped)), "success")
    return redirect(url_for("units.index"))


TEMPLATE_EXAMPLE = {"plan_line": "12", "delivered_on": "31/01/2023", "period_start": "01/01/2023",
                    "quantity": "12,5", "achieved": "", "description": "Ateliers de janvier"}
TEMPLATE_HELP = {
    "plan_line": "n° de la ligne (colonne N° de la page) ou son libellé",
    "delivered_on": "jj/mm/aaaa, dans la période de réalisation",
    "period_start": "jj/mm/aaaa, facultatif (obligatoire pour « participant ayant achevé le parcours »)",
    "quantity": "coût unitaire : nombre d'unités (virgule décimale) ; vide pour un montant forfaitaire",
    "achieved": "montant forfaitaire : oui ou non ; vide pour un coût unitaire",
    "description": "facultatif (par défaut : le libellé de la ligne)",
}


@bp.route(PREFIX + "/modele.xlsx")
def import_template():
    """An XLSX template made from the importer's own columns (the example names a unit cost of the plan)."""
    unit = next((line for line in _lines(g.operation) if line.kind == "unit"), None)
    example = {**TEMPLATE_EXAMPLE, "plan_line": str(unit.id) if unit is not None else "12"}
    content = template_workbook(COLUMNS, REQUIRED, example, {"achieved": ["oui", "non"]}, TEMPLATE_HELP,
                                title="Relevés d'unités")
    return Response(content, mimetype=XLSX_MIME, headers={
        "Content-Disposition": f'attachment; filename="modele-releves-{g.operation.code}.xlsx"'})

"""Staff, hourly rates, fixed shares and timesheets.

Views are thin: the operation is loaded and authorised by ``accounts.access``; the forms
are one-row imports (``imports``); the request commits once."""
from pathlib import Path

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
from flask_babel import ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ..accounts.models import User
from ..accounts.navigation import register_nav
from ..accounts.policy import may
from ..kernel.integers import parse_id
from ..kernel import staging
from ..kernel.errors import Conflict, DomainError, seen_version
from ..kernel.extensions import db
from ..kernel.formatting import format_month, format_number
from ..kernel.paging import page_number, page_of
from ..kernel.i18n import translate_label
from ..kernel.tabular import cell_month
from ..kernel.transactions import attempt
from ..operations.closure import refuse_when_closed
from ..operations.services import visible_operations_query
from . import computations, imports, queries
from .changes import OUTCOME_LABELS
from .forms import ImportForm, StaffForm, TimesheetActionForm, TimesheetForm
from .lifecycle import approve_many, change_state, changeable_problem, user_moves
from .models import ASSIGNMENT_METHODS, TIMESHEET_STATES, Timesheet
from .people import STAFF_COLUMNS
from .timesheets import TIMESHEET_COLUMNS

bp = Blueprint("staff", __name__)
refuse_when_closed(bp, ("add_staff", "add_timesheet", "edit_timesheet", "timesheet_action", "approve_timesheets",
                        "import_staff", "import_timesheets", "attach_evidence"))
register_nav("staff.index", _l("Personnel"), order=40)

IMPORT_KINDS = {
    "staff": {
        "endpoint": "staff.import_staff",
        "title": _l("Importer le personnel"),
        "columns": STAFF_COLUMNS,
        "done": "staff.people",
    },
    "timesheets": {
        "endpoint": "staff.import_timesheets",
        "title": _l("Importer des fiches de temps"),
        "columns": TIMESHEET_COLUMNS,
        "done": "staff.timesheets",
    },
}
CONFLICT = _l(
    "Cette fiche a été modifiée par quelqu'un d'autre pendant votre saisie. Vos valeurs sont conservées "
    "ci-dessous ; vérifiez la fiche actuelle puis enregistrez à nouveau."
)


@bp.app_context_processor
def staff_labels():
    return {
        "staff_computation": computations.line_text,
        "rate_computation": computations.annual_cost_text,
        "timesheet_state_label": lambda state: translate_label(TIMESHEET_STATES, state),
    }


@bp.route("/personnel")
def index():
    operations = db.session.scalars(visible_operations_query(current_user)).all()
    return render_template("staff/index.html", operations=operations)


@bp.route("/operations/<operation_code>/personnel")
def people():
    operation = g.operation
    assignments = queries.assignments_of(operation)
    declared = queries.hours_by_person_year([a.person_id for a in assignments])
    return render_template(
        "staff/people.html",
        operation=operation,
        assignments=assignments,
        declared=declared,
        methods=ASSIGNMENT_METHODS,
        reference_hours=computations.reference_hours,
        may_write=may("staff.add_staff"),
    )


def _problems_by_field(problems, columns):
    by_label = {label: key for key, label in columns.items()}
    errors, general = {}, []
    for problem in problems:
        key = by_label.get(problem.column)
        if key:
            errors.setdefault(key, []).append(problem.message)
        else:
            general.append(problem.message)
    return errors, general


@bp.route("/operations/<operation_code>/personnel/saisie", methods=["GET", "POST"])
def add_staff():
    operation = g.operation
    form = StaffForm()
    values = form.values()
    errors, general = {}, []
    if form.validate_on_submit():
        with attempt() as outcome:
            change = imports.save_staff_row(operation, values)
        if outcome.refused:
            refused = outcome.error
            errors, general = _problems_by_field(refused.problems, STAFF_COLUMNS) if refused.problems else ({}, [str(refused)])
        else:
            flash(_("%(name)s : %(detail)s (%(outcome)s).", name=f"{values['first_name']} {values['last_name']}",
                    detail=change.detail, outcome=_(OUTCOME_LABELS[change.outcome])), "success")
            return redirect(url_for("staff.people"))
    return render_template(
        "staff/staff_form.html", operation=operation, values=values, errors=errors, general=general,
        columns=STAFF_COLUMNS,
    )


def _selected_month():
    text = request.args.get("mois", "").strip()
    if not text:
        return None
    try:
        return cell_month(text)
    except DomainError:
        flash(_("Mois invalide : %(value)s (attendu aaaa-mm ou mm/aaaa).", value=text), "error")
        return None


@bp.route("/operations/<operation_code>/fiches-de-temps")
def timesheets():
    operation = g.operation
    month = _selected_month()
    sheets = queries.timesheets_of(operation, month)
    user_ids = {sheet.entered_by_id for sheet in sheets} | {sheet.approved_by_id for sheet in sheets}
    users = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(user_ids - {None})))}
    return render_template(
        "staff/timesheets.html",
        operation=operation,
        sheets=sheets,
        month=month,
        months=queries.months_of(operation),
        users=users,
        states=TIMESHEET_STATES,
        moves=user_moves,
        changeable=changeable_problem,
        line_marks=queries.line_marks(sheet.cost_line.id for sheet in sheets if sheet.cost_line),
        may_write=may("staff.timesheet_action"),
    )


def _timesheet_or_404(timesheet_id) -> Timesheet:
    sheet = db.session.get(Timesheet, timesheet_id)
    if sheet is None or sheet.assignment.operation_id != g.operation.id:
        abort(404)
    return sheet


def _sheet_values(sheet: Timesheet) -> dict:
    def number(value, places=None):
        return format_number(value, None, places, plain=True) if value is not None else ""

    return {
        "registration_number": sheet.assignment.person.registration_number,
        "month": f"{sheet.month.year}-{sheet.month.month:02d}",
        "hours_on_operation": number(sheet.hours_on_operation),
        "hours_worked": number(sheet.hours_worked),
        "monthly_cost": number(sheet.monthly_cost, 2),
        "salary_paid_on": sheet.salary_paid_on.isoformat() if sheet.salary_paid_on else "",
    }


def _timesheet_form(sheet: Timesheet | None):
    operation = g.operation
    form = TimesheetForm()
    values = _sheet_values(sheet) if sheet else {key: "" for key in TIMESHEET_COLUMNS}
    if sheet is None and request.args.get("mois"):
        values["month"] = request.args["mois"][:7]
    version = sheet.version if sheet else None
    errors, general = {}, []
    if sheet is not None and request.method == "GET":
        blocked = changeable_problem(sheet)
        if blocked is not None:
            flash(str(blocked), "error")
            return redirect(url_for("staff.timesheets"))
    if form.validate_on_submit():
        values = form.values()
        if sheet is not None:
            values["registration_number"] = sheet.assignment.person.registration_number
        version_seen = seen_version(form.version.data) if sheet is not None else None  # 400 without it
        with attempt() as outcome:
            change = imports.save_timesheet(operation, values, current_user, sheet=sheet, version=version_seen)
        if isinstance(outcome.error, Conflict):
            general = [str(CONFLICT)]
            if sheet is not None:
                db.session.refresh(sheet)
                version = sheet.version
        elif outcome.refused:
            refused = outcome.error
            errors, general = _problems_by_field(refused.problems, TIMESHEET_COLUMNS) if refused.problems else ({}, [str(refused)])
        else:
            flash(_("Fiche enregistrée en brouillon : %(detail)s.", detail=change.detail), "success")
            return redirect(url_for("staff.timesheets", mois=values["month"][:7] if values.get("month") else None))
    current = _sheet_values(sheet) if sheet is not None else None
    return render_template(
        "staff/timesheet_form.html",
        operation=operation,
        sheet=sheet,
        current=current,
        version=version,
        values=values,
        errors=errors,
        general=general,
        columns=TIMESHEET_COLUMNS,
        assignments=queries.assignments_of(operation),
        states=TIMESHEET_STATES,
        partial_months=computations.partial_months(operation.start_date, operation.end_date),
    )


@bp.route("/operations/<operation_code>/fiches-de-temps/saisie", methods=["GET", "POST"])
def add_timesheet():
    return _timesheet_form(None)


@bp.route("/operations/<operation_code>/fiches-de-temps/<int:timesheet_id>", methods=["GET", "POST"])
def edit_timesheet(timesheet_id):
    return _timesheet_form(_timesheet_or_404(timesheet_id))


@bp.route("/operations/<operation_code>/fiches-de-temps/<int:timesheet_id>/etat", methods=["POST"])
def timesheet_action(timesheet_id):
    sheet = _timesheet_or_404(timesheet_id)
    form = TimesheetActionForm()
    month = f"{sheet.month.year}-{sheet.month.month:02d}"
    changed = _("Cette fiche a changé depuis l'affichage de la page : vérifiez-la puis recommencez.")
    version_seen = seen_version(form.version.data)  # refused (400) without it
    if not form.validate_on_submit() or version_seen != sheet.version:
        flash(changed, "error")
        return redirect(url_for("staff.timesheets", mois=month))
    with attempt() as outcome:
        change_state(sheet, form.action.data or "", current_user)
    if isinstance(outcome.error, Conflict):
        flash(changed, "error")
    elif outcome.refused:
        flash(str(outcome.error), "error")
    else:
        flash(_("Fiche de %(month)s : %(state)s.", month=format_month(sheet.month), state=translate_label(TIMESHEET_STATES, sheet.state)),
              "success")
    return _back_to_list(f"fiche-{timesheet_id}")


def _back_to_list(anchor=""):
    """The list as it was filtered (the month shown, or every month)."""
    shown = (request.form.get("filtre") or "").strip()
    return redirect(url_for("staff.timesheets", mois=shown or None) + (f"#{anchor}" if anchor else ""))


@bp.route("/operations/<operation_code>/fiches-de-temps/approbation", methods=["POST"])
def approve_timesheets():
    """Approve the ticked timesheets at once (never one's own: each refusal is said)."""
    form = TimesheetActionForm()
    ids = {parse_id(value) for value in request.form.getlist("fiche")} - {None}
    if not form.validate_on_submit() or not ids:
        flash(_("Cochez au moins une fiche soumise à approuver."), "error")
        return _back_to_list()
    sheets = [_timesheet_or_404(timesheet_id) for timesheet_id in sorted(ids)]
    refused = []
    with attempt() as outcome:
        refused = approve_many(sheets, current_user)
    if isinstance(outcome.error, Conflict):  # someone moved one of the sheets first: none is approved
        flash(_("Une fiche a changé depuis l'affichage de la page : vérifiez la liste puis recommencez."), "error")
        return _back_to_list()
    if outcome.refused:
        flash(str(outcome.error), "error")
        return _back_to_list()
    done = len(sheets) - len(refused)
    if done:
        flash(ngettext("%(num)d fiche approuvée.", "%(num)d fiches approuvées.", done), "success")
    for sheet, error in refused:
        flash(f"{sheet.assignment.person.last_name} {sheet.month:%m/%Y} : {error}", "error")
    return _back_to_list()


@bp.route("/operations/<operation_code>/lignes-de-personnel")
def cost_lines():
    operation = g.operation
    month = _selected_month()
    lines = queries.cost_lines_of(operation, month)
    return render_template(
        "staff/cost_lines.html",
        operation=operation,
        lines=lines,
        total=queries.cost_lines_total(operation, month),
        month=month,
        months=queries.months_of(operation),
        line_marks=queries.line_marks(line.id for line in lines),
        reference_hours=computations.reference_hours,
    )


# ---------------------------------------------------------------- imports: upload, preview, confirm


def _run_import(kind, content, filename, apply):
    if kind == "staff":
        return imports.import_staff(g.operation, content, filename=filename, apply=apply)
    return imports.import_timesheets(g.operation, content, filename=filename, user=current_user, apply=apply)


def _import_page(kind):
    spec = IMPORT_KINDS[kind]
    form = ImportForm()
    context = {"operation": g.operation, "spec": spec, "kind": kind, "problems": None, "report": None, "token": None}
    staged = staging.peek(f"staff-{kind}", g.operation.code) if request.method == "GET" and "page" in request.args \
        else None
    if staged is not None:
        # Another page of the preview: the staged file is checked again, one page shown.
        try:
            report = _run_import(kind, staged.content, staged.filename, apply=False)
        except DomainError:
            staging.discard(f"staff-{kind}")  # the data changed since: the file must be sent again
            flash(_("Cet aperçu n'est plus valable : déposez le fichier à nouveau."), "error")
            return redirect(url_for(spec["endpoint"]))
        context.update(report=report, token=staged.token, filename=staged.filename)
        return _preview_page(context)
    if request.method == "GET":
        staging.discard(f"staff-{kind}")  # « Annuler » comes back here: the staged file is dropped
    if request.method == "POST" and form.token.data:
        return _confirm_import(kind, spec, form.token.data)
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash(_("Choisissez un fichier XLSX ou CSV."), "error")
            return render_template("staff/import.html", **context)
        content = upload.read()
        filename = Path(upload.filename).name[:200]
        with attempt() as outcome:
            report = _run_import(kind, content, filename, apply=False)
        if outcome.refused:
            refused = outcome.error
            context["problems"] = refused.problems or [str(refused)]
            context["filename"] = filename
            return render_template("staff/import.html", **context), 422
        token = staging.stage(f"staff-{kind}", g.operation.code, content, filename)
        context.update(report=report, token=token, filename=filename)
        return _preview_page(context)
    return render_template("staff/import.html", **context)


def _preview_page(context):
    """One page of the preview's rows, never the whole file (issue 21)."""
    context["page"] = page_of(context["report"].changes, page_number(request.args.get("page")))
    return render_template("staff/import.html", **context)


def _confirm_import(kind, spec, token):
    staged = staging.take(f"staff-{kind}", g.operation.code, token)
    if staged is None:
        flash(_("Cet aperçu n'est plus valable : déposez le fichier à nouveau."), "error")
        return redirect(url_for(spec["endpoint"]))
    with attempt() as outcome:
        # Checked again: the data may have changed since the preview.
        report = _run_import(kind, staged.content, staged.filename, apply=True)
    if outcome.refused:
        refused = outcome.error
        return render_template("staff/import.html", operation=g.operation, spec=spec, kind=kind,
                               problems=refused.problems or [str(refused)], report=None, token=None,
                               filename=staged.filename), 422
    flash(_("Import terminé : %(summary)s", summary=report.summary), "success")
    return redirect(url_for(spec["done"]))


@bp.route("/operations/<operation_code>/personnel/import", methods=["GET", "POST"])
def import_staff():
    return _import_page("staff")


@bp.route("/operations/<operation_code>/fiches-de-temps/import", methods=["GET", "POST"])
def import_timesheets():
    return _import_page("timesheets")

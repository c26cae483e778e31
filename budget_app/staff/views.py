"""Staff, hourly rates, fixed shares and timesheets (issue 5).

Views are thin: the operation is loaded and authorised by ``access.enforce_policy``;
every rule is in ``services`` (the forms are one-row imports); one commit per request.
"""
import secrets
import time
from datetime import date
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from ..access import visible_operations_query
from ..accounts.models import User
from ..accounts.roles import ADMIN, AUDITOR, CONTROLLER, FINANCE_OFFICER
from ..extensions import db
from ..navigation import register_nav
from ..tabular import CellError, ImportRefused, cell_month
from . import computations, services
from .models import ASSIGNMENT_METHODS, TIMESHEET_STATES, StaffAssignment, Timesheet

bp = Blueprint("staff", __name__)

READERS = {ADMIN, FINANCE_OFFICER, CONTROLLER, AUDITOR}
register_nav("staff.index", _l("Personnel"), READERS, order=40)

IMPORT_KINDS = {
    "staff": {
        "endpoint": "staff.import_staff",
        "title": _l("Importer le personnel"),
        "columns": services.STAFF_COLUMNS,
        "example": "personnel-exemple.csv",
        "done": "staff.people",
    },
    "timesheets": {
        "endpoint": "staff.import_timesheets",
        "title": _l("Importer des fiches de temps"),
        "columns": services.TIMESHEET_COLUMNS,
        "example": "temps-exemple.csv",
        "done": "staff.timesheets",
    },
}


def _may_write() -> bool:
    return current_user.role == FINANCE_OFFICER


@bp.route("/personnel")
def index():
    operations = db.session.scalars(visible_operations_query(current_user)).all()
    return render_template("staff/index.html", operations=operations)


@bp.route("/operations/<operation_code>/personnel")
def people():
    operation = g.operation
    assignments = services.assignments_of(operation)
    declared = services.hours_by_person_year([a.person_id for a in assignments])
    return render_template(
        "staff/people.html",
        operation=operation,
        assignments=assignments,
        declared=declared,
        methods=ASSIGNMENT_METHODS,
        reference_hours=computations.reference_hours,
        may_write=_may_write(),
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
    values = {key: "" for key in services.STAFF_COLUMNS}
    values["method"] = "horaire"
    errors, general = {}, []
    if request.method == "POST":
        values = {key: request.form.get(key, "").strip() for key in services.STAFF_COLUMNS}
        try:
            change = services.save_staff_row(operation, values)
        except ImportRefused as refused:
            db.session.rollback()
            errors, general = _problems_by_field(refused.problems, services.STAFF_COLUMNS)
        else:
            db.session.commit()
            flash(_("%(name)s : %(detail)s (%(outcome)s).", name=f"{values['first_name']} {values['last_name']}",
                    detail=change.detail, outcome=_(services.OUTCOME_LABELS[change.outcome])), "success")
            return redirect(url_for("staff.people"))
    return render_template(
        "staff/staff_form.html", operation=operation, values=values, errors=errors, general=general,
        columns=services.STAFF_COLUMNS,
    )


def _selected_month():
    text = request.args.get("mois", "").strip()
    if not text:
        return None
    try:
        return cell_month(text)
    except CellError:
        flash(_("Mois invalide : %(value)s (attendu aaaa-mm).", value=text), "error")
        return None


@bp.route("/operations/<operation_code>/fiches-de-temps")
def timesheets():
    operation = g.operation
    month = _selected_month()
    sheets = services.timesheets_of(operation, month)
    user_ids = {sheet.entered_by_id for sheet in sheets} | {sheet.approved_by_id for sheet in sheets}
    users = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(user_ids - {None})))}
    return render_template(
        "staff/timesheets.html",
        operation=operation,
        sheets=sheets,
        month=month,
        months=services.months_of(operation),
        users=users,
        states=TIMESHEET_STATES,
        transitions=services.TRANSITIONS,
        action_labels=services.ACTION_LABELS,
        changeable=services.changeable_problem,
        may_write=_may_write(),
    )


def _timesheet_or_404(timesheet_id) -> Timesheet:
    sheet = db.session.get(Timesheet, timesheet_id)
    if sheet is None or sheet.assignment.operation_id != g.operation.id:
        abort(404)
    return sheet


def _sheet_values(sheet: Timesheet) -> dict:
    def number(value):
        return computations.french_number(value) if value is not None else ""

    return {
        "registration_number": sheet.assignment.person.registration_number,
        "month": f"{sheet.month.year}-{sheet.month.month:02d}",
        "hours_on_operation": number(sheet.hours_on_operation),
        "hours_worked": number(sheet.hours_worked),
        "monthly_cost": computations.french_number(sheet.monthly_cost, 2) if sheet.monthly_cost is not None else "",
    }


def _timesheet_form(sheet: Timesheet | None):
    operation = g.operation
    values = _sheet_values(sheet) if sheet else {key: "" for key in services.TIMESHEET_COLUMNS}
    if sheet is None and request.args.get("mois"):
        values["month"] = request.args["mois"][:7]
    version = sheet.version if sheet else None
    errors, general = {}, []
    if sheet is not None and request.method == "GET":
        blocked = services.changeable_problem(sheet)
        if blocked:
            flash(blocked, "error")
            return redirect(url_for("staff.timesheets"))
    if request.method == "POST":
        values = {key: request.form.get(key, "").strip() for key in services.TIMESHEET_COLUMNS}
        if sheet is not None:
            values["registration_number"] = sheet.assignment.person.registration_number
        try:
            seen_version = int(request.form.get("version", "")) if sheet is not None else None
        except ValueError:
            seen_version = None
        try:
            change = services.save_timesheet(operation, values, current_user, sheet=sheet, version=seen_version)
            db.session.commit()
        except ImportRefused as refused:
            db.session.rollback()
            errors, general = _problems_by_field(refused.problems, services.TIMESHEET_COLUMNS)
        except (services.StaffError, StaleDataError) as error:
            db.session.rollback()
            general = [str(error) if isinstance(error, services.StaffError) else _(
                "Cette fiche a été modifiée par quelqu'un d'autre pendant votre saisie. Vos valeurs sont conservées "
                "ci-dessous ; vérifiez la fiche actuelle puis enregistrez à nouveau.")]
            if sheet is not None:
                db.session.refresh(sheet)
                version = sheet.version
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
        columns=services.TIMESHEET_COLUMNS,
        assignments=services.assignments_of(operation),
        states=TIMESHEET_STATES,
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
    action = request.form.get("action", "")
    month = f"{sheet.month.year}-{sheet.month.month:02d}"
    try:
        seen_version = int(request.form.get("version", sheet.version))
    except ValueError:
        seen_version = -1
    try:
        if seen_version != sheet.version:
            raise services.StaffError(_("Cette fiche a changé depuis l'affichage de la page : vérifiez-la puis recommencez."))
        services.change_state(sheet, action, current_user)
        db.session.commit()
    except (services.StaffError, StaleDataError) as error:
        db.session.rollback()
        flash(str(error) if isinstance(error, services.StaffError) else _(
            "Cette fiche a changé depuis l'affichage de la page : vérifiez-la puis recommencez."), "error")
    else:
        flash(_("Fiche de %(month)s : %(state)s.", month=month, state=_(TIMESHEET_STATES[sheet.state])), "success")
    return redirect(url_for("staff.timesheets", mois=month))


@bp.route("/operations/<operation_code>/lignes-de-personnel")
def cost_lines():
    operation = g.operation
    month = _selected_month()
    return render_template(
        "staff/cost_lines.html",
        operation=operation,
        lines=services.cost_lines_of(operation, month),
        total=services.cost_lines_total(operation, month),
        month=month,
        months=services.months_of(operation),
        reference_hours=computations.reference_hours,
    )


# ---------------------------------------------------------------- imports: upload, preview, confirm


PENDING_MAX_AGE_SECONDS = 24 * 3600


def _pending_dir() -> Path:
    """Files waiting for confirmation, under the upload folder (outside static/), random names;
    those left unconfirmed for a day are removed."""
    path = Path(current_app.config["BUDGET_APP_UPLOAD_DIR"]) / "pending-imports"
    path.mkdir(parents=True, exist_ok=True)
    limit = time.time() - PENDING_MAX_AGE_SECONDS
    for old in path.iterdir():
        if old.is_file() and old.stat().st_mtime < limit:
            old.unlink(missing_ok=True)
    return path


def _run_import(kind, content, filename, apply):
    if kind == "staff":
        return services.import_staff(g.operation, content, filename=filename, apply=apply)
    return services.import_timesheets(g.operation, content, filename=filename, user=current_user, apply=apply)


def _import_page(kind):
    spec = IMPORT_KINDS[kind]
    context = {"operation": g.operation, "spec": spec, "kind": kind, "problems": None, "report": None, "token": None}
    if request.method == "POST" and request.form.get("token"):
        return _confirm_import(kind, spec)
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash(_("Choisissez un fichier XLSX ou CSV."), "error")
            return render_template("staff/import.html", **context)
        content = upload.read()
        filename = Path(upload.filename).name[:200]
        try:
            report = _run_import(kind, content, filename, apply=False)
        except ImportRefused as refused:
            db.session.rollback()
            context["problems"] = refused.problems
            context["filename"] = filename
            return render_template("staff/import.html", **context), 422
        db.session.rollback()
        token = secrets.token_urlsafe(24)
        (_pending_dir() / token).write_bytes(content)
        session[f"staff_import_{kind}"] = {"token": token, "operation": g.operation.code, "filename": filename,
                                          "sha256": services.content_digest(content)}
        context.update(report=report, token=token, filename=filename)
    return render_template("staff/import.html", **context)


def _confirm_import(kind, spec):
    pending = session.get(f"staff_import_{kind}") or {}
    token = request.form.get("token", "")
    if not pending or not secrets.compare_digest(pending.get("token", ""), token) or pending.get("operation") != g.operation.code:
        flash(_("Cet aperçu n'est plus valable : déposez le fichier à nouveau."), "error")
        return redirect(url_for(spec["endpoint"]))
    path = _pending_dir() / pending["token"]
    session.pop(f"staff_import_{kind}", None)
    if not path.is_file():
        flash(_("Cet aperçu n'est plus valable : déposez le fichier à nouveau."), "error")
        return redirect(url_for(spec["endpoint"]))
    content = path.read_bytes()
    path.unlink()
    if services.content_digest(content) != pending.get("sha256"):
        abort(400)
    try:
        # Checked again: the data may have changed since the preview.
        report = _run_import(kind, content, pending["filename"], apply=True)
        db.session.commit()
    except ImportRefused as refused:
        db.session.rollback()
        return render_template("staff/import.html", operation=g.operation, spec=spec, kind=kind,
                               problems=refused.problems, report=None, token=None, filename=pending["filename"]), 422
    flash(_("Import terminé : %(summary)s", summary=report.summary), "success")
    return redirect(url_for(spec["done"]))


@bp.route("/operations/<operation_code>/personnel/import", methods=["GET", "POST"])
def import_staff():
    return _import_page("staff")


@bp.route("/operations/<operation_code>/fiches-de-temps/import", methods=["GET", "POST"])
def import_timesheets():
    return _import_page("timesheets")


@bp.app_template_filter("month")
def month_filter(value: date) -> str:
    return f"{value.month:02d}/{value.year}" if value else ""

"""Expenses, supporting documents, duplicate checks and imports (issue 5).

Views load (the operation comes from ``access.enforce_policy``), call a service, commit
once, and redirect. Every rule is in ``services``."""
import os
import secrets
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, send_file, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError
from wtforms.fields.choices import SelectChoice

from ..access import visible_operations_query
from ..accounts.roles import ADMIN, ANTIFRAUD_REFERENT, AUDITOR, CONTROLLER, FINANCE_OFFICER
from ..errors import render_error
from ..extensions import db
from ..navigation import register_nav
from ..operations.models import COST_CATEGORIES
from ..tabular import ImportRefused
from . import listing
from .documents import DocumentRefused, check_document, stored_path, too_large, upload_dir
from .forms import ConfirmImportForm, DeleteForm, DocumentForm, ExpenseForm, FilterForm, ImportForm
from .imports import COLUMNS, check_file, import_file
from .models import DOCUMENT_KINDS, Expense, ExpenseMonthTotal, SupportingDocument
from .services import (
    EXPENSE_STATES,
    ExpenseConflict,
    ExpenseInvalid,
    ExpenseLocked,
    add_document,
    allocation_total,
    create_expense,
    delete_expense,
    documents_with_same_content,
    eligible_computation,
    ensure_changeable,
    expense_categories,
    locking_claim,
    update_expense,
    validate_expense,
)

bp = Blueprint("expenses", __name__)

READERS = {ADMIN, FINANCE_OFFICER, CONTROLLER, AUDITOR, ANTIFRAUD_REFERENT}
register_nav("expenses.home", _l("Dépenses"), READERS, order=30)


def _expense(expense_id: int) -> Expense:
    expense = db.session.get(Expense, expense_id)
    if expense is None or expense.operation_id != g.operation.id:
        abort(404)
    return expense


# ---- lists


@bp.route("/depenses")
def home():
    operations = db.session.scalars(visible_operations_query(current_user)).all()
    ids = [operation.id for operation in operations]
    sums = {}
    if ids:
        # From the monthly totals the database keeps: a few rows per operation.
        rows = db.session.execute(
            select(
                ExpenseMonthTotal.operation_id,
                func.sum(ExpenseMonthTotal.line_count),
                func.coalesce(func.sum(ExpenseMonthTotal.eligible_amount), 0),
            )
            .where(ExpenseMonthTotal.operation_id.in_(ids))
            .group_by(ExpenseMonthTotal.operation_id)
        )
        sums = {operation_id: (count, total) for operation_id, count, total in rows}
    return render_template("expenses/home.html", operations=operations, sums=sums)


def _filters(form: FilterForm) -> listing.Filters:
    filters = listing.Filters()
    if form.validate():
        filters.category = form.category.data or None
        filters.start = form.start.data
        filters.end = form.end.data
        filters.supplier = (form.supplier.data or "").strip() or None
        filters.state = form.state.data if form.state.data in EXPENSE_STATES else None
        filters.search = (form.q.data or "").strip() or None
        filters.sort = form.sort.data if form.sort.data in listing.SORTS else "date"
        filters.descending = form.order.data != "asc"
    return filters


@bp.route("/operations/<operation_code>/depenses")
def index(operation_code=None):
    operation = g.operation
    form = FilterForm(request.args)
    form.category.choices = [SelectChoice("", "—")] + [SelectChoice(code, _(label)) for code, label in COST_CATEGORIES.items()]
    filters = _filters(form)
    page = listing.page(
        operation.id,
        filters,
        after=request.args.get("apres"),
        before=request.args.get("avant"),
        last=request.args.get("fin") == "1",
    )
    totals = listing.totals(operation.id, filters)
    marks = listing.page_marks(operation.id, [row[0] for row in page.rows])
    arguments = {key: value for key, value in request.args.items() if key not in ("apres", "avant", "fin")}
    return render_template(
        "expenses/index.html",
        operation=operation,
        form=form,
        page=page,
        totals=totals,
        marks=marks,
        arguments=arguments,
        states=EXPENSE_STATES,
        categories=COST_CATEGORIES,
        may_write=current_user.role == FINANCE_OFFICER,
    )


@bp.route("/depenses/doublons")
def duplicates():
    groups = listing.duplicate_groups()
    visible = {operation.id for operation in db.session.scalars(visible_operations_query(current_user))}
    return render_template("expenses/duplicates.html", groups=groups, visible=visible)


# ---- one expense


def _apply_problems(form: ExpenseForm, problems) -> list[str]:
    """Put each problem under its field; return those that belong to no field."""
    general = []
    for problem in problems:
        field = getattr(form, problem.field, None) if problem.field else None
        if field is not None and problem.field in ExpenseForm.__dict__:
            field.errors = list(field.errors or []) + [problem.message]
        else:
            general.append(problem.message)
    return general


def _uploads():
    """(kind, filename, bytes) of the files sent with the form; a file over the limit gets the 413 page."""
    files = []
    for kind in ("invoice", "payment"):
        storage = request.files.get(kind)
        if storage and storage.filename:
            data = storage.read()
            if too_large(data):
                return None, storage.filename
            files.append((kind, storage.filename, data))
    return files, None


def _too_large_page(filename):
    limit = current_app.config["UPLOAD_MAX_BYTES"] // (1024 * 1024)
    return render_error(
        413, _("Le fichier « %(name)s » dépasse la taille maximale de %(limit)s Mo.", name=os.path.basename(filename), limit=limit)
    )


@bp.route("/operations/<operation_code>/depenses/nouvelle", methods=["GET", "POST"])
def create(operation_code=None):
    operation = g.operation
    form = ExpenseForm()
    form.set_categories(expense_categories(operation))
    general, warnings = [], []
    if request.method == "POST" and form.validate():
        data, errors = form.to_data()
        files, refused = _uploads()
        if files is None:
            return _too_large_page(refused)
        for name, message in errors.items():
            getattr(form, name).errors = [message]
        problems, duplicates = validate_expense(operation, data)
        problems = [problem for problem in problems if problem.field not in errors]
        general = _apply_problems(form, problems)
        for kind, filename, content in files:
            try:
                check_document(filename, content)
            except DocumentRefused as error:
                getattr(form, kind).errors = [str(error)]
        warnings = duplicates.warnings + ([duplicates.already_recorded] if duplicates.already_recorded else [])
        has_errors = errors or problems or any(getattr(form, kind).errors for kind, _f, _c in files)
        if not has_errors and (not warnings or form.confirm_duplicates.data):
            expense = create_expense(operation, data, current_user, checked=True)
            db.session.flush()
            same_files = []
            for kind, filename, content in files:
                _document, same = add_document(expense, kind, filename, content, current_user)
                same_files.extend(same)
            db.session.commit()
            flash(_("Dépense n° %(id)s enregistrée : montant présenté %(amount)s.", id=expense.id,
                    amount=eligible_computation(expense, _locale())), "success")
            if same_files:
                flash(_("Attention : ce fichier est déjà joint ailleurs (même contenu)."), "warning")
            if not expense.is_complete:
                flash(_("Dépense incomplète : joignez la facture et la preuve de paiement."), "warning")
            return redirect(url_for("expenses.detail", expense_id=expense.id))
    elif request.method == "POST":
        general = [message for messages in form.errors.values() for message in messages]
    return render_template(
        "expenses/form.html", operation=operation, form=form, expense=None, general=general, warnings=warnings
    )


def _locale():
    from flask_babel import get_locale

    return str(get_locale() or "fr")


@bp.route("/operations/<operation_code>/depenses/<int:expense_id>")
def detail(expense_id, operation_code=None):
    expense = _expense(expense_id)
    same_files = documents_with_same_content(document.id for document in expense.documents)
    _problems, duplicates = validate_expense(expense.operation, _data_of(expense), expense)
    visible = {operation.id for operation in db.session.scalars(visible_operations_query(current_user))}
    lock = locking_claim(expense)
    return render_template(
        "expenses/detail.html",
        operation=g.operation,
        expense=expense,
        computation=eligible_computation(expense, _locale()),
        same_files=same_files,
        duplicates=duplicates.warnings,
        total_key=allocation_total(expense),
        visible=visible,
        lock=lock,
        document_form=DocumentForm(),
        delete_form=DeleteForm(version=expense.version),
        kinds=DOCUMENT_KINDS,
        states=EXPENSE_STATES,
        may_write=current_user.role == FINANCE_OFFICER and lock is None and expense.deleted_at is None,
    )


def _data_of(expense):
    from .services import ExpenseData

    return ExpenseData(
        incurred_on=expense.incurred_on,
        paid_on=expense.paid_on,
        supplier_name=expense.supplier_name,
        supplier_siret=expense.supplier_siret,
        document_number=expense.document_number,
        label=expense.label,
        category=expense.category,
        amount_excl_vat=expense.amount_excl_vat,
        vat=expense.vat,
        vat_recoverable=expense.vat_recoverable,
        allocation_percent=expense.allocation_percent,
        credit_note_of_id=expense.credit_note_of_id,
    )


@bp.route("/operations/<operation_code>/depenses/<int:expense_id>/modifier", methods=["GET", "POST"])
def edit(expense_id, operation_code=None):
    expense = _expense(expense_id)
    try:
        ensure_changeable(expense)
    except ExpenseLocked as error:
        flash(str(error), "error")
        return redirect(url_for("expenses.detail", expense_id=expense.id))
    form = ExpenseForm()
    form.set_categories(expense_categories(g.operation))
    general, conflict = [], False
    if request.method == "GET":
        form.fill_from(expense)
    elif form.validate():
        data, errors = form.to_data()
        for name, message in errors.items():
            getattr(form, name).errors = [message]
        version = int(form.version.data) if (form.version.data or "").isdigit() else None
        if not errors:
            try:
                update_expense(expense, data, version)
                db.session.commit()
                flash(_("Dépense n° %(id)s modifiée.", id=expense.id), "success")
                return redirect(url_for("expenses.detail", expense_id=expense.id))
            except ExpenseInvalid as error:
                db.session.rollback()
                general = _apply_problems(form, error.problems)
            except (ExpenseConflict, StaleDataError):
                db.session.rollback()
                conflict = True
            except ExpenseLocked as error:
                db.session.rollback()
                general = [str(error)]
        if conflict:
            # Keep what the user typed; show the current values; the next save applies on top.
            expense = _expense(expense_id)
            form.version.data = str(expense.version)
            general = [_("Quelqu'un d'autre a modifié cette dépense pendant que vous la modifiiez. Vos saisies sont conservées ci-dessous ; comparez-les aux valeurs actuelles puis enregistrez à nouveau.")]
    else:
        general = [message for messages in form.errors.values() for message in messages]
    return render_template(
        "expenses/form.html", operation=g.operation, form=form, expense=expense, general=general,
        warnings=[], conflict=conflict,
    )


@bp.route("/operations/<operation_code>/depenses/<int:expense_id>/supprimer", methods=["POST"])
def delete(expense_id, operation_code=None):
    expense = _expense(expense_id)
    form = DeleteForm()
    reason = form.reason.data if form.validate() else ""
    version = form.version.data
    try:
        if version and version.isdigit() and int(version) != expense.version:
            raise ExpenseConflict()
        delete_expense(expense, reason, current_user)
        db.session.commit()
    except ExpenseInvalid as error:
        db.session.rollback()
        flash(error.problems[0].message, "error")
        return redirect(url_for("expenses.detail", expense_id=expense_id))
    except ExpenseLocked as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("expenses.detail", expense_id=expense_id))
    except (ExpenseConflict, StaleDataError):
        db.session.rollback()
        flash(_("Quelqu'un d'autre a modifié cette dépense entre-temps : relisez-la avant de la supprimer."), "error")
        return redirect(url_for("expenses.detail", expense_id=expense_id))
    flash(_("Dépense n° %(id)s supprimée (motif conservé dans le journal).", id=expense_id), "success")
    return redirect(url_for("expenses.index"))


@bp.route("/operations/<operation_code>/depenses/<int:expense_id>/pieces", methods=["POST"])
def upload_document(expense_id, operation_code=None):
    expense = _expense(expense_id)
    form = DocumentForm()
    storage = request.files.get("file")
    if not form.validate() or storage is None or not storage.filename:
        flash(_("Choisissez le type de pièce et le fichier à joindre."), "error")
        return redirect(url_for("expenses.detail", expense_id=expense_id))
    data = storage.read()
    if too_large(data):
        return _too_large_page(storage.filename)
    try:
        _document, same = add_document(expense, form.kind.data, storage.filename, data, current_user)
        db.session.commit()
    except (DocumentRefused, ExpenseLocked) as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("expenses.detail", expense_id=expense_id))
    flash(_("Pièce jointe."), "success")
    if same:
        flash(_("Attention : ce fichier est déjà joint ailleurs (même contenu)."), "warning")
    return redirect(url_for("expenses.detail", expense_id=expense_id))


@bp.route("/operations/<operation_code>/pieces/<int:document_id>")
def download(document_id, operation_code=None):
    document = db.session.get(SupportingDocument, document_id)
    if document is None or document.expense.operation_id != g.operation.id:
        abort(404)
    try:
        path = stored_path(document.stored_name)
        handle = open(path, "rb")
    except OSError:
        abort(404)
    response = send_file(
        handle, mimetype=document.content_type, as_attachment=True, download_name=document.original_name, max_age=0
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- import with preview


def _staging_path(token: str) -> Path:
    if not token or not token.isalnum():
        raise FileNotFoundError(token)
    path = upload_dir() / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path / token


@bp.route("/operations/<operation_code>/depenses/import", methods=["GET", "POST"])
def import_expenses(operation_code=None):
    operation = g.operation
    form = ImportForm()
    result, token, error = None, None, None
    if request.method == "POST":
        storage = request.files.get("file")
        if not form.validate() or storage is None or not storage.filename:
            error = _("Choisissez un fichier XLSX ou CSV.")
        else:
            content = storage.read()
            result = check_file(operation, content)
            if not result.problems and result.to_import:
                # The file waits on the server for the confirmation; the session says whose it is.
                token = secrets.token_hex(16)
                _staging_path(token).write_bytes(content)
                session["expense_import"] = {
                    "token": token,
                    "operation": operation.code,
                    "name": os.path.basename(storage.filename)[:255],
                }
    return render_template(
        "expenses/import.html", operation=operation, form=form, result=result, token=token, error=error,
        confirm_form=ConfirmImportForm(token=token), columns=COLUMNS,
    )


@bp.route("/operations/<operation_code>/depenses/import/confirmer", methods=["POST"])
def confirm_import(operation_code=None):
    operation = g.operation
    form = ConfirmImportForm()
    pending = session.get("expense_import") or {}
    token = form.token.data if form.validate() else None
    if not token or pending.get("token") != token or pending.get("operation") != operation.code:
        flash(_("Cet import a expiré : envoyez le fichier à nouveau."), "error")
        return redirect(url_for("expenses.import_expenses"))
    try:
        path = _staging_path(token)
        content = path.read_bytes()
    except OSError:
        flash(_("Cet import a expiré : envoyez le fichier à nouveau."), "error")
        return redirect(url_for("expenses.import_expenses"))
    try:
        result = import_file(operation, content, pending.get("name") or "import", current_user)
        db.session.commit()
    except ImportRefused as refused:
        db.session.rollback()
        return render_template(
            "expenses/import.html", operation=operation, form=ImportForm(), result=None, token=None,
            error=None, refused=refused.problems, confirm_form=ConfirmImportForm(), columns=COLUMNS,
        )
    finally:
        session.pop("expense_import", None)
    path.unlink(missing_ok=True)
    flash(
        _("%(n)s dépense(s) importée(s), %(skipped)s déjà enregistrée(s) ignorée(s).",
          n=len(result.to_import), skipped=len(result.skipped)),
        "success",
    )
    return redirect(url_for("expenses.index"))

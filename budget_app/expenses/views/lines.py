"""The expense lists, one expense (create, read, change, delete) and its documents."""
import os

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from ...accounts.policy import may
from ...kernel.errors import Conflict, DomainError, render_error, seen_version
from ...kernel.extensions import db
from ...kernel.i18n import N_
from ...kernel.transactions import attempt
from ...kernel.urls import id_urls
from ...kernel.uploads import check_document, send_document, too_large
from ...operations.models import COST_CATEGORIES
from ...operations.services import load_plan_versions, visible_operations_query
from .. import listing
from ..forms import DeleteForm, DocumentForm, ExpenseForm, FilterForm
from ...marks.hooks import bilan_numbers, held_reasons_for_referent
from ...marks.services import declared_in, held_ids
from ..models import DOCUMENT_KINDS, Expense, ExpenseMonthTotal, SupportingDocument
from ..amounts import eligible_computation
from ..rules import (
    EXPENSE_STATES,
    ExpenseData,
    expense_categories,
    no_expense_reason,
)
from ..services import (
    add_document,
    allocation_total,
    create_expense,
    delete_expense,
    documents_with_same_content,
    ensure_changeable,
    frozen_reason,
    missing_text,
    update_expense,
    validate_expense,
)
from . import bp


def _expense(expense_id: int) -> Expense:
    expense = db.session.get(Expense, expense_id)
    if expense is None or expense.operation_id != g.operation.id:
        abort(404)
    return expense


def _visible_operation_ids() -> set:
    return {operation.id for operation in db.session.scalars(visible_operations_query(current_user))}


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
    # Each label translated once for the page, not once per line.
    category_labels = {code: _(label) for code, label in COST_CATEGORIES.items()}
    form.category.choices = [SelectChoice("", "—")] + [SelectChoice(code, label) for code, label in category_labels.items()]
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
    load_plan_versions(operation)  # what no_expense_reason reads, in one query
    return render_template(
        "expenses/index.html",
        operation=operation,
        form=form,
        page=page,
        totals=totals,
        marks=marks,
        held_reasons=held_reasons_for_referent("expense", marks.held) if marks.held and may("alerts.link_lines") else {},
        arguments=arguments,
        state_labels={state: _(label) for state, label in EXPENSE_STATES.items()},
        category_labels=category_labels,
        pieces_label=_("pièces : %(n)s"),  # one lookup; each line puts its count in
        detail_url=id_urls("expenses.detail", "expense_id"),
        may_write=may("expenses.create"),
        no_expense=no_expense_reason(operation),
    )


@bp.route("/depenses/doublons")
def duplicates():
    groups = listing.duplicate_groups()
    visible = _visible_operation_ids()
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
    reason = no_expense_reason(operation)
    if reason is not None:
        # Not a dead end: why, and where to go (the plan, the staff pages).
        return render_template("expenses/no_expense.html", operation=operation, reason=reason), (200 if request.method == "GET" else 409)
    form = ExpenseForm()
    form.set_categories(expense_categories(operation))
    general, warnings, more_warnings, has_errors = [], [], 0, False
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
            except DomainError as error:
                getattr(form, kind).errors = [str(error)]
        warnings = duplicates.warnings + ([duplicates.already_recorded] if duplicates.already_recorded else [])
        more_warnings = duplicates.more_warnings
        has_errors = errors or problems or any(getattr(form, kind).errors for kind, _f, _c in files)
        if not has_errors and (not warnings or form.confirm_duplicates.data):
            expense = create_expense(operation, data, current_user, checked=True)
            db.session.flush()
            same_files = []
            for kind, filename, content in files:
                _document, same = add_document(expense, kind, filename, content, current_user)
                same_files.extend(same)
            flash(_("Dépense n° %(id)s enregistrée : montant présenté %(amount)s.", id=expense.id,
                    amount=eligible_computation(expense)), "success")
            if same_files:
                flash(_("Attention : ce fichier est déjà joint ailleurs (même contenu)."), "warning")
            if not expense.is_complete:
                flash(_("Dépense incomplète : il manque %(what)s.", what=missing_text(expense)), "warning")
            return redirect(url_for("expenses.detail", expense_id=expense.id))
        if files:
            # A browser never fills a file field again: name the files to choose once more.
            general.append(_("Vos autres saisies sont conservées ; choisissez de nouveau le(s) fichier(s) : %(names)s.",
                             names=", ".join(os.path.basename(name) for _kind, name, _content in files)))
    elif request.method == "POST":
        general = [message for messages in form.errors.values() for message in messages]
    return render_template(
        "expenses/form.html", operation=operation, form=form, expense=None, general=general, warnings=warnings,
        more_warnings=more_warnings, confirmable=request.method == "POST" and not has_errors,
    )


@bp.route("/operations/<operation_code>/depenses/<int:expense_id>")
def detail(expense_id, operation_code=None):
    expense = _expense(expense_id)
    same_files = documents_with_same_content(document.id for document in expense.documents)
    _problems, duplicates = validate_expense(expense.operation, _data_of(expense), expense)
    visible = _visible_operation_ids()
    bilan_id = declared_in("expense", [expense.id]).get(expense.id)
    lock = bilan_numbers([bilan_id]).get(bilan_id, ("?", "")) if bilan_id is not None else None
    return render_template(
        "expenses/detail.html",
        operation=g.operation,
        expense=expense,
        missing=None if expense.is_complete else missing_text(expense),
        computation=eligible_computation(expense),
        same_files=same_files,
        duplicates=duplicates.warnings,
        more_duplicates=duplicates.more_warnings,
        total_key=allocation_total(expense),
        visible=visible,
        lock=lock,
        held=bool(held_ids("expense", [expense.id])),
        document_form=DocumentForm(),
        delete_form=DeleteForm(version=expense.version),
        kinds=DOCUMENT_KINDS,
        states=EXPENSE_STATES,
        may_write=may("expenses.edit") and frozen_reason(expense) is None,
        # A held line still takes its missing documents (a hold often waits for one).
        may_attach=may("expenses.edit") and frozen_reason(expense, kinds=("declared",)) is None,
    )


def _data_of(expense):
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
    except DomainError as error:
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
        version = seen_version(form.version.data)  # refused (400) without it
        if not errors:
            with attempt() as outcome:
                update_expense(expense, data, version)
            if not outcome.refused:
                flash(_("Dépense n° %(id)s modifiée.", id=expense.id), "success")
                return redirect(url_for("expenses.detail", expense_id=expense.id))
            error = outcome.error
            conflict = isinstance(error, Conflict)
            if not conflict:
                general = _apply_problems(form, error.problems) if error.problems else [str(error)]
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
    version = seen_version(form.version.data)  # refused (400) without it
    with attempt() as outcome:
        if version != expense.version:
            raise Conflict(N_("Cette dépense a été modifiée entre-temps par quelqu'un d'autre."))
        delete_expense(expense, reason, current_user)
    if isinstance(outcome.error, Conflict):
        flash(_("Quelqu'un d'autre a modifié cette dépense entre-temps : relisez-la avant de la supprimer."), "error")
        return redirect(url_for("expenses.detail", expense_id=expense_id))
    if outcome.refused:
        error = outcome.error
        flash(error.problems[0].message if error.problems else str(error), "error")
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
    same = []
    with attempt() as outcome:
        _document, same = add_document(expense, form.kind.data, storage.filename, data, current_user)
    if outcome.refused:
        flash(str(outcome.error), "error")
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
    return send_document(document)

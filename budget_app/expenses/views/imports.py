"""Expense imports with preview: the file is checked and shown, then staged until the
finance officer confirms (``kernel.staging``); all or nothing."""
from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...kernel import staging
from ...kernel.errors import DomainError
from ..forms import ConfirmImportForm, ImportForm
from ..imports import COLUMNS, check_file, import_file
from . import bp

KIND = "expenses"


@bp.route("/operations/<operation_code>/depenses/import", methods=["GET", "POST"])
def import_expenses(operation_code=None):
    operation = g.operation
    form = ImportForm()
    result, token, error = None, None, None
    if request.method == "GET":
        staging.discard(KIND)  # back on the form (« Annuler »): a staged file is dropped
    if request.method == "POST":
        storage = request.files.get("file")
        if not form.validate() or storage is None or not storage.filename:
            error = _("Choisissez un fichier XLSX ou CSV.")
        else:
            content = storage.read()
            result = check_file(operation, content)
            if not result.problems and result.to_import:
                # The file waits on the server for the confirmation; the session says whose it is.
                token = staging.stage(KIND, operation.code, content, storage.filename)
    return render_template(
        "expenses/import.html", operation=operation, form=form, result=result, token=token, error=error,
        confirm_form=ConfirmImportForm(token=token), columns=COLUMNS,
    )


@bp.route("/operations/<operation_code>/depenses/import/confirmer", methods=["POST"])
def confirm_import(operation_code=None):
    operation = g.operation
    form = ConfirmImportForm()
    staged = staging.take(KIND, operation.code, form.token.data if form.validate() else None)
    if staged is None:
        flash(_("Cet import a expiré : envoyez le fichier à nouveau."), "error")
        return redirect(url_for("expenses.import_expenses"))
    try:
        result = import_file(operation, staged.content, staged.filename, current_user)
    except DomainError as refused:
        return render_template(
            "expenses/import.html", operation=operation, form=ImportForm(), result=None, token=None,
            error=None, refused=refused.problems, confirm_form=ConfirmImportForm(), columns=COLUMNS,
        ), 422
    flash(
        _("%(n)s dépense(s) importée(s), %(skipped)s déjà enregistrée(s) ignorée(s).",
          n=len(result.to_import), skipped=len(result.skipped)),
        "success",
    )
    return redirect(url_for("expenses.index"))

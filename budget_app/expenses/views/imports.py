"""Expense imports with preview: the file is checked and shown, then staged until the
finance officer confirms (``kernel.staging``); all or nothing."""
from flask import Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...kernel import staging
from ...kernel.import_templates import XLSX_MIME, template_workbook
from ...kernel.paging import page_number, page_of
from ...kernel.transactions import attempt
from ..forms import ConfirmImportForm, ImportForm
from ..imports import COLUMNS, REQUIRED, check_file, import_file
from ..rules import expense_categories
from . import bp

KIND = "expenses"


@bp.route("/operations/<operation_code>/depenses/import", methods=["GET", "POST"])
def import_expenses(operation_code=None):
    operation = g.operation
    form = ImportForm()
    # The file waits on the server for the confirmation; the session says whose it is.
    result, token, error = staging.preview(KIND, operation.code, form, lambda content: check_file(operation, content),
                                           _("Choisissez un fichier XLSX ou CSV."))
    page = page_of(result.rows, page_number(request.args.get("page"))) if result and not result.problems else None
    return render_template(
        "expenses/import.html", operation=operation, form=form, result=result, token=token, error=error,
        confirm_form=ConfirmImportForm(token=token), columns=COLUMNS, page=page,
    )


@bp.route("/operations/<operation_code>/depenses/import/confirmer", methods=["POST"])
def confirm_import(operation_code=None):
    operation = g.operation
    form = ConfirmImportForm()
    staged = staging.take(KIND, operation.code, form.token.data if form.validate() else None)
    if staged is None:
        flash(_("Cet import a expiré : envoyez le fichier à nouveau."), "error")
        return redirect(url_for("expenses.import_expenses"))
    with attempt() as outcome:
        result = import_file(operation, staged.content, staged.filename, current_user)
    if outcome.refused:
        return render_template(
            "expenses/import.html", operation=operation, form=ImportForm(), result=None, token=None,
            error=None, refused=outcome.error.problems, confirm_form=ConfirmImportForm(), columns=COLUMNS,
        ), 422
    flash(
        _("%(n)s dépense(s) importée(s), %(skipped)s déjà enregistrée(s) ignorée(s).",
          n=len(result.to_import), skipped=len(result.skipped)),
        "success",
    )
    return redirect(url_for("expenses.index"))


EXAMPLE = {"incurred_on": "15/03/2019", "paid_on": "30/03/2019", "supplier_name": "Papeterie du Lot",
           "supplier_siret": "", "document_number": "F-2019-031", "label": "Fournitures d'atelier",
           "category": "FONCTIONNEMENT", "amount_excl_vat": "120,00", "vat": "24,00", "vat_recoverable": "non",
           "allocation_percent": "100", "vat_partly_recoverable": "non"}
HELP = {"incurred_on": "jj/mm/aaaa, dans la période de réalisation", "paid_on": "jj/mm/aaaa (date d'acquittement)",
        "category": "code de la catégorie du plan", "subcategory": "dépenses liées aux participants seulement",
        "amount_excl_vat": "virgule décimale", "allocation_percent": "100 par défaut",
        "supplier_siret": "14 chiffres, facultatif",
        "credit_note_of": "avoir seulement : n° de la dépense réduite (montants négatifs ; catégorie, clé et TVA reprises)",
        "vat_partly_recoverable": "oui : TVA × (100 % − prorata de l'année de la pièce), facultatif"}


@bp.route("/operations/<operation_code>/depenses/modele.xlsx")
def import_template(operation_code=None):
    """An XLSX template made from the importer's own columns, with this plan's categories."""
    choices = {"category": expense_categories(g.operation) or ["FONCTIONNEMENT"], "vat_recoverable": ["oui", "non"],
               "vat_partly_recoverable": ["oui", "non"]}
    content = template_workbook(COLUMNS, REQUIRED, EXAMPLE, choices, HELP, title="Dépenses")
    return Response(content, mimetype=XLSX_MIME, headers={
        "Content-Disposition": f'attachment; filename="modele-depenses-{g.operation.code}.xlsx"'})

"""Operation documents on the operation page (routes on ``expenses.bp``): the list of what
the next bilan needs, present or missing, and the form to attach one are rendered by
``templates/expenses/_operation_documents.html`` from ``documents_panel`` (the answer of
``operations.hooks.documents_panel``, wired in ``create_app``); attaching calls the same service as `operations documents attach`."""
import re

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...accounts.policy import may
from ...kernel.errors import DomainError, render_error
from ...kernel.extensions import db
from ...kernel.i18n import N_
from ...kernel.integers import parse_id
from ...kernel.transactions import attempt
from ...kernel.uploads import safe_filename, send_document, too_large
from ...operations.closure import closed_problem
from ...operations.views import detail as operation_page
from .. import operation_documents as documents
from ..forms import OperationDocumentForm, RemovalForm
from ..models import OPERATION_DOCUMENT_KINDS, OperationDocument
from . import bp

PREFIX = "/operations/<operation_code>/documents"


def documents_panel(operation) -> dict:
    """What the operation page's « Documents de l'opération » section shows
    (``templates/expenses/_operation_documents.html``)."""
    return {
        "dossier": documents.expectations(operation),
        "form": g.get("operation_document_form") or OperationDocumentForm(), "removal_form": RemovalForm(),
        "kinds": OPERATION_DOCUMENT_KINDS,
        "amendments": [version for version in operation.plan_versions if version.number > 1],
        "may_write": may("expenses.attach_operation_document") and closed_problem(operation) is None,
    }


def expense_ids(text: str) -> list[int]:
    """« 12 15, 18 » -> [12, 15, 18]; a word that is not a number is named."""
    ids = []
    for word in re.split(r"[\s,;]+", (text or "").strip()):
        if not word:
            continue
        number = parse_id(word.lstrip("n°").strip())
        if number is None:
            raise DomainError(N_("N° de dépense invalide « %(value)s »."), value=word, field="expenses")
        ids.append(number)
    return ids


def _refused(form, error: DomainError):
    flash(" ".join(error.lines()), "error")
    g.operation_document_form = form
    return operation_page(), 400


@bp.route(PREFIX, methods=["POST"])
def attach_operation_document():
    form = OperationDocumentForm()
    storage = request.files.get("file")
    if not form.validate() or storage is None or not storage.filename:
        return _refused(form, DomainError(N_("Choisissez le type de document et le fichier à joindre.")))
    data = storage.read()
    if too_large(data):
        limit = current_app.config["UPLOAD_MAX_BYTES"] // (1024 * 1024)
        return render_error(413, _("Le fichier « %(name)s » dépasse la taille maximale de %(limit)s Mo.",
                                   name=safe_filename(storage.filename), limit=limit))
    with attempt() as outcome:
        document, same = documents.attach_document(
            g.operation, (form.kind.data or "").strip(), storage.filename, data,
            amendment=form.amendment.data, expense_ids=expense_ids(form.expenses.data),
            description=form.description.data, user=current_user)
    if outcome.refused:
        return _refused(form, outcome.error)
    flash(_("Document joint : %(name)s (SHA-256 %(sha)s).", name=document.original_name, sha=document.sha256[:12]),
          "success")
    if same:
        flash(_("Attention : ce fichier est déjà joint ailleurs (même contenu)."), "warning")
    return redirect(url_for("operations.detail") + "#documents")


def _document(document_id) -> OperationDocument:
    document = db.session.get(OperationDocument, document_id)
    if document is None or document.operation_id != g.operation.id:
        abort(404)
    return document


@bp.route(PREFIX + "/<int:operation_document_id>/retrait", methods=["POST"])
def remove_operation_document(operation_document_id):
    document = _document(operation_document_id)
    form = RemovalForm()
    if not form.validate():
        flash(_("Formulaire incomplet ou expiré : vérifiez les champs."), "error")
        return redirect(url_for("operations.detail") + "#documents")
    with attempt() as outcome:
        documents.remove_document(document, form.reason.data, current_user)
    if outcome.refused:
        flash(" ".join(outcome.error.lines()), "error")
    else:
        flash(_("Document retiré : %(name)s.", name=document.original_name), "success")
    return redirect(url_for("operations.detail") + "#documents")


@bp.route(PREFIX + "/<int:operation_document_id>")
def operation_document_download(operation_document_id):
    return send_document(_document(operation_document_id))

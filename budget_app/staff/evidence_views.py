"""Staff evidence pages (routes on ``staff.bp``): per person, the documents expected for
the months that have a timesheet, present or missing (``evidence.expectations``); the
finance officer attaches a file (the same service as ``staff documents attach``); everyone
who reads the staff pages downloads them."""
from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.policy import may
from ..kernel.errors import DomainError, render_error
from ..kernel.extensions import db
from ..kernel.i18n import N_
from ..kernel.money import typed_day, typed_percent
from ..kernel.tabular import cell_month
from ..kernel.uploads import safe_filename, send_document, too_large
from . import evidence, queries
from .forms import EvidenceForm
from .models import MONTH_DOCUMENT_KINDS, STAFF_DOCUMENT_KINDS, YEAR_DOCUMENT_KINDS, StaffDocument
from .views import bp


def _page(form, status=200):
    operation = g.operation
    assignments = queries.assignments_of(operation)
    people = evidence.expectations(operation, assignments)
    return render_template(
        "staff/evidence.html", operation=operation, people=people, form=form, assignments=assignments,
        year_kinds=YEAR_DOCUMENT_KINDS, month_kinds=MONTH_DOCUMENT_KINDS, kinds=STAFF_DOCUMENT_KINDS,
        may_write=may("staff.attach_evidence"),
    ), status


@bp.route("/operations/<operation_code>/personnel/pieces")
def evidence_page():
    return _page(EvidenceForm())


def _coverage(form) -> evidence.Coverage:
    text = {name: (getattr(form, name).data or "").strip() for name in
            ("year", "month", "share", "valid_from", "valid_to")}
    if text["year"] and not (text["year"].isascii() and text["year"].isdigit() and len(text["year"]) == 4):
        raise DomainError(N_("Année invalide « %(value)s » (attendu aaaa)."), value=text["year"], field="year")
    return evidence.Coverage(
        year=int(text["year"]) if text["year"] else None,
        month=cell_month(text["month"], required=False),
        valid_from=typed_day(text["valid_from"]) if text["valid_from"] else None,
        valid_to=typed_day(text["valid_to"]) if text["valid_to"] else None,
        share=typed_percent(text["share"]) if text["share"] else None,
    )


@bp.route("/operations/<operation_code>/personnel/pieces", methods=["POST"])
def attach_evidence():
    form = EvidenceForm()
    storage = request.files.get("file")
    if not form.validate() or storage is None or not storage.filename:
        flash(_("Choisissez la personne, le type de pièce et le fichier à joindre."), "error")
        return _page(form, 400)
    data = storage.read()
    if too_large(data):
        limit = current_app.config["UPLOAD_MAX_BYTES"] // (1024 * 1024)
        return render_error(413, _("Le fichier « %(name)s » dépasse la taille maximale de %(limit)s Mo.",
                                   name=safe_filename(storage.filename), limit=limit))
    try:
        assignment = evidence.assignment_of(g.operation, (form.person.data or "").strip())
        document, same = evidence.attach_document(assignment, (form.kind.data or "").strip(), storage.filename,
                                                  data, _coverage(form), current_user)
    except DomainError as error:
        flash(str(error), "error")
        return _page(form, 400)
    flash(_("Pièce jointe : %(name)s (SHA-256 %(sha)s).", name=document.original_name, sha=document.sha256[:12]),
          "success")
    if same:
        flash(_("Attention : ce fichier est déjà joint ailleurs (même contenu)."), "warning")
    return redirect(url_for("staff.evidence_page"))


@bp.route("/operations/<operation_code>/personnel/pieces/<int:staff_document_id>")
def evidence_download(staff_document_id):
    document = db.session.get(StaffDocument, staff_document_id)
    if document is None or document.assignment.operation_id != g.operation.id:
        abort(404)
    return send_document(document)

"""An administrator creates an intermediate body's envelope and attaches operations to it
(or detaches them), through the rules of the operation files and the CLI (``services``)."""
from datetime import date
from decimal import Decimal, InvalidOperation

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from ..kernel.audit.services import record
from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.forms import FlaskForm
from ..kernel.money import typed_amount
from ..kernel.transactions import attempt
from .rules import EnvelopeInput, OrganisationInput
from .services import check_envelope_room, ensure_envelope, find_envelope, find_operation
from .views import bp

BACK = "reporting.envelopes"


def _csrf_ok() -> bool:
    if FlaskForm().validate_on_submit():  # the CSRF token
        return True
    flash(_("Formulaire incomplet ou expiré : vérifiez les champs."), "error")
    return False


def _day(name):
    try:
        return date.fromisoformat(request.form.get(name, ""))
    except ValueError:
        return None


@bp.route("/enveloppes/nouvelle", methods=["POST"])
def create_envelope():
    if not _csrf_ok():
        return redirect(url_for(BACK))
    try:
        amount = typed_amount(request.form.get("fse_amount", ""))
    except (DomainError, InvalidOperation):
        amount = None
    start, end = _day("start_date"), _day("end_date")
    if amount is None or start is None or end is None:
        flash(_("Enveloppe : indiquez le montant FSE+ et les dates de début et de fin."), "error")
        return redirect(url_for(BACK))
    organisation = OrganisationInput(name=request.form.get("organisation", "").strip(), kind="other")
    with attempt() as outcome:
        envelope, created = ensure_envelope(EnvelopeInput(
            code=request.form.get("code", "").strip(), name=request.form.get("name", "").strip(),
            start_date=start, end_date=end, fse_amount=Decimal(amount), organisation=organisation))
    if outcome.refused:
        flash(" ".join(outcome.error.lines()), "error")
        return redirect(url_for(BACK))
    flash(_("Enveloppe %(code)s créée.", code=envelope.code) if created
          else _("L'enveloppe %(code)s existe déjà : rien n'a changé.", code=envelope.code),
          "success" if created else "warning")
    return redirect(url_for(BACK))


@bp.route("/enveloppes/rattachement", methods=["POST"])
def attach_envelope():
    """Attach an operation to an envelope (its FSE+ must fit) or, with no envelope, detach it."""
    if not _csrf_ok():
        return redirect(url_for(BACK))
    operation = find_operation(request.form.get("operation", "").strip())
    code = request.form.get("envelope", "").strip()
    envelope = find_envelope(code) if code else None
    if operation is None or (code and envelope is None):
        flash(_("Opération ou enveloppe inconnue."), "error")
        return redirect(url_for(BACK))
    problems = check_envelope_room(envelope, operation.fse_amount, operation)
    if problems:
        flash(" ".join(str(problem) for problem in problems), "error")
        return redirect(url_for(BACK))
    before = operation.envelope.code if operation.envelope else None
    operation.envelope_id = envelope.id if envelope else None
    db.session.flush()
    record("envelope_attachment", "operations", operation.id, before={"envelope": before},
           after={"envelope": code or None})
    flash(_("%(operation)s rattachée à %(envelope)s.", operation=operation.code, envelope=code) if envelope
          else _("%(operation)s n'est plus rattachée à une enveloppe.", operation=operation.code), "success")
    return redirect(url_for(BACK))

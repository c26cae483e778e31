"""An administrator creates an intermediate body's envelope and attaches operations to it
(or detaches them), through the rules of the operation files and the CLI (``services``).

A refused form goes back to the envelopes' page with what was typed and each field's
problem in plain words (``form_state``, read once by that page); moving an operation out of
another envelope, or attaching one whose dates fall outside the envelope's period, is said
before anything changes (the move asks for a confirmation; the period refuses)."""
from decimal import Decimal

from flask import flash, redirect, request, session, url_for
from flask_babel import gettext as _

from ..kernel.audit.services import record
from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.forms import FlaskForm
from ..kernel.i18n import N_
from ..kernel.money import typed_amount, typed_day
from ..kernel.transactions import attempt
from .rules import EnvelopeInput, OrganisationInput, check_envelope_input
from .services import check_envelope_room, ensure_envelope, find_envelope, find_operation
from .views import bp

BACK = "reporting.envelopes"
_STATE = "envelope_forms"
ENVELOPE_FIELDS = ("code", "name", "organisation", "fse_amount", "start_date", "end_date")
ATTACH_FIELDS = ("operation", "envelope")
# The rules' paths (« envelope.code ») and the form's fields.
_FIELD_OF_PATH = {"envelope.code": "code", "envelope.name": "name", "envelope.fse_amount": "fse_amount",
                  "envelope.start_date": "start_date", "envelope.end_date": "end_date",
                  "envelope.organisation.name": "organisation"}


def form_state() -> dict:
    """What the envelopes' page shows once after a refusal: {"create"|"attach": {"values",
    "errors"}, "confirm": {...}}; empty otherwise."""
    return session.pop(_STATE, None) or {}


def _back(form: str, values: dict, errors: dict, confirm: dict | None = None):
    state = {form: {"values": values, "errors": errors}}
    if confirm:
        state["confirm"] = confirm
    session[_STATE] = state
    return redirect(url_for(BACK) + ("#attach-envelope" if form == "attach" else "#new-envelope"))


def _csrf_ok() -> bool:
    if FlaskForm().validate_on_submit():  # the CSRF token
        return True
    flash(_("Formulaire incomplet ou expiré : vérifiez les champs."), "error")
    return False


def _typed(names) -> dict:
    return {name: (request.form.get(name) or "").strip()[:200] for name in names}


def _read(values: dict, errors: dict, name: str, parse, missing: str):
    if not values[name]:
        errors[name] = _(missing)
        return None
    try:
        return parse(values[name])
    except DomainError as error:
        errors[name] = str(error)
        return None


@bp.route("/enveloppes/nouvelle", methods=["POST"])
def create_envelope():
    if not _csrf_ok():
        return redirect(url_for(BACK))
    values, errors = _typed(ENVELOPE_FIELDS), {}
    amount = _read(values, errors, "fse_amount", typed_amount, N_("Indiquez le montant FSE+ de l'enveloppe."))
    start = _read(values, errors, "start_date", typed_day, N_("Indiquez la date de début."))
    end = _read(values, errors, "end_date", typed_day, N_("Indiquez la date de fin."))
    for name, message in (("code", N_("Indiquez le code de l'enveloppe.")), ("name", N_("Indiquez le nom de l'enveloppe.")),
                          ("organisation", N_("Indiquez l'organisme intermédiaire."))):
        if not values[name]:
            errors[name] = _(message)
    if values["code"] and find_envelope(values["code"]) is not None:
        errors["code"] = _("Une enveloppe de code %(code)s existe déjà.", code=find_envelope(values["code"]).code)
    envelope_input = EnvelopeInput(
        code=values["code"], name=values["name"], start_date=start, end_date=end, fse_amount=Decimal(amount or 0),
        organisation=OrganisationInput(name=values["organisation"], kind="other"))
    # The rules' own checks, each under its field, even when another field was refused above.
    for problem in check_envelope_input(envelope_input):
        name = _FIELD_OF_PATH.get(problem.field or "", "code")
        errors.setdefault(name, str(problem.error))
    if not errors:
        with attempt() as outcome:
            envelope, _created = ensure_envelope(envelope_input)
        if not outcome.refused:
            flash(_("Enveloppe %(code)s créée.", code=envelope.code), "success")
            return redirect(url_for(BACK))
        errors["code"] = " ".join(outcome.error.lines())
    return _back("create", values, errors)


def _period_problem(operation, envelope) -> str | None:
    if envelope.start_date <= operation.start_date and operation.end_date <= envelope.end_date:
        return None
    return str(DomainError(
        N_("%(operation)s court du %(start)s au %(end)s, hors de la période de l'enveloppe %(envelope)s (du "
           "%(first)s au %(last)s) : une opération se rattache à une enveloppe qui couvre toutes ses dates."),
        operation=operation.code, start=operation.start_date, end=operation.end_date, envelope=envelope.code,
        first=envelope.start_date, last=envelope.end_date))


@bp.route("/enveloppes/rattachement", methods=["POST"])
def attach_envelope():
    """Attach an operation to an envelope (its dates within the envelope's period, its FSE+
    within the room left) or, with no envelope, detach it; moving it from another envelope
    needs a confirmation (``confirm_move``)."""
    if not _csrf_ok():
        return redirect(url_for(BACK))
    values, errors = _typed(ATTACH_FIELDS), {}
    operation = find_operation(values["operation"])
    envelope = find_envelope(values["envelope"]) if values["envelope"] else None
    if not values["operation"]:
        errors["operation"] = _("Indiquez le code de l'opération.")
    elif operation is None:
        errors["operation"] = _("Aucune opération n'a le code « %(code)s ».", code=values["operation"])
    if values["envelope"] and envelope is None:
        errors["envelope"] = _("Aucune enveloppe n'a le code « %(code)s ».", code=values["envelope"])
    if operation is not None and envelope is not None:
        problem = _period_problem(operation, envelope)
        if problem:
            errors["envelope"] = problem
        else:
            room = check_envelope_room(envelope, operation.fse_amount, operation)
            if room:
                errors["envelope"] = " ".join(problem.message for problem in room)
    if errors:
        return _back("attach", values, errors)
    before = operation.envelope
    if before is not None and before != envelope and request.form.get("confirm_move") != "1":
        return _back("attach", values, {}, confirm={
            "operation": operation.code, "envelope": envelope.code if envelope else "",
            "text": _("%(operation)s est rattachée à l'enveloppe %(before)s : la déplacer vers %(after)s ?",
                      operation=operation.code, before=before.code, after=envelope.code) if envelope else
            _("%(operation)s est rattachée à l'enveloppe %(before)s : l'en détacher ?",
              operation=operation.code, before=before.code)})
    operation.envelope_id = envelope.id if envelope else None
    db.session.flush()
    record("envelope_attachment", "operations", operation.id, before={"envelope": before.code if before else None},
           after={"envelope": envelope.code if envelope else None})
    flash(_("%(operation)s rattachée à %(envelope)s.", operation=operation.code, envelope=envelope.code) if envelope
          else _("%(operation)s n'est plus rattachée à une enveloppe.", operation=operation.code), "success")
    return redirect(url_for(BACK))

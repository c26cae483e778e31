"""The anti-fraud referent's pages (``/referent/signalements``): 404 for every other role
(``hidden`` in the access policy); each opening is written to the alert access log."""
import hmac
import io
from hashlib import sha256

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ...accounts.policy import may
from ...kernel.integers import parse_id, parse_int
from ...kernel.errors import DomainError
from ...kernel.extensions import db
from ...kernel.formatting import format_number, format_day
from ...kernel.money import typed_amount
from ...kernel.transactions import attempt
from ...operations.models import Operation
from .. import deadlines, exports, filing, handling, journal, log_sentences, suspicions
from .. import transmission as transmission_form
from ..forms import (
    CostLinesForm,
    LiftForm,
    MessageForm,
    OperationLinkForm,
    TransitionForm,
    TransmissionForm,
)
from ..models import (
    LINE_TYPES,
    STATE_LABELS,
    Alert,
    AlertAccess,
    AlertAttachment,
    AlertCostLine,
)
from . import bp
from .public import operation_choices


def _alert(reference: str) -> Alert:
    alert = db.session.scalar(select(Alert).where(Alert.reference == reference))
    if alert is None:
        abort(404)
    return alert


def _back(alert, anchor=""):
    return redirect(url_for("alerts.detail", reference=alert.reference) + anchor)


@bp.route("/referent/signalements")
def dashboard():
    alerts = handling.dashboard_alerts()
    today = handling.today()
    rows = [(a, handling.next_deadline(a), handling.is_overdue(a, today)) for a in alerts]
    return render_template("alerts/dashboard.html", rows=rows, today=today)


def _default_message(alert, target) -> str:
    if target == "acknowledged":
        return _("Nous accusons réception de votre signalement %(ref)s du %(day)s. Il est examiné par le référent "
                 "anti-fraude, de façon confidentielle. Vous recevrez un retour d'information sur les suites données "
                 "au plus tard le %(due)s. Vous pouvez compléter votre signalement en répondant ici.",
                 ref=alert.reference, day=format_day(alert.received_on),
                 due=format_day(deadlines.feedback_due(alert.received_on, handling.today())))
    return ""


@bp.route("/referent/signalements/<reference>")
def detail(reference):
    alert = _alert(reference)
    filing.log_access(alert, current_user, "view")
    operation_form = OperationLinkForm(operation_id=alert.operation_id)
    operation_form.operation_id.choices = [SelectChoice(op.id, f"{op.code} — {op.title}") for op in operation_choices()]
    links = []
    for link in alert.cost_lines:
        links.append((link, suspicions.cost_line(link.line_type, link.line_id),
                      filing.decrypted_text(alert, link.lift_reason)))
    live = {(link.line_type, link.line_id) for link in alert.cost_lines if link.lifted_at is None}
    search = request.args.get("lignes", "")
    available, matching = suspicions.find_cost_lines(alert.operation_id, search, live) \
        if alert.operation_id else ([], 0)
    return render_template(
        "alerts/detail.html",
        alert=alert,
        content=filing.alert_content(alert),
        identity=filing.alert_identity(alert),
        messages=[(m, filing.message_body(m), [a for a in alert.attachments if a.message_id == m.id]) for m in alert.messages],
        attachments=[(a, filing.attachment_meta(a)) for a in alert.attachments],
        events=[(e, filing.event_reason(e)) for e in filing.events_of(alert)],
        log_entries=_log_sentences(journal.entries_of(alert)),
        transitions=handling.allowed_transitions(alert),
        deadline=handling.next_deadline(alert),
        overdue=handling.is_overdue(alert),
        transition_forms={move.target: TransitionForm(on=handling.today(), message=_default_message(alert, move.target))
                          for move in handling.allowed_transitions(alert)},
        message_form=MessageForm(),
        operation_form=operation_form,
        lines_form=CostLinesForm(),
        lift_form=LiftForm(),
        links=links,
        available=available,
        matching=matching,
        search=search,
        line_type_label=lambda t: _(suspicions.LINE_TYPE_LABELS[t]),
        amounts=transmission_form.amounts_concerned(alert),
        reportable=transmission_form.is_reportable_to_commission(alert),
    )


@bp.route("/referent/signalements/<reference>/etat", methods=["POST"])
def transition(reference):
    alert = _alert(reference)
    form = TransitionForm()
    if not form.validate_on_submit():
        flash(_("Indiquez le motif du changement d'état."), "error")
        return _back(alert, "#etat")
    with attempt() as outcome:
        handling.change_state(alert, form.target.data, current_user, form.reason.data, form.message.data or "",
                              recipient=form.recipient.data or None, on=form.on.data)
    if outcome.refused:
        flash(str(outcome.error), "error")
    else:
        flash(_("État mis à jour : %(state)s.", state=_(STATE_LABELS[alert.state])), "success")
    return _back(alert, "#etat")


@bp.route("/referent/signalements/<reference>/message", methods=["POST"])
def message(reference):
    alert = _alert(reference)
    form = MessageForm()
    if not form.validate_on_submit():
        flash(_("Le message est vide."), "error")
        return _back(alert, "#fil")
    with attempt() as outcome:
        if form.feedback.data:
            handling.record_feedback(alert, current_user, form.body.data)
        else:
            filing.post_message(alert, "referent", form.body.data, user=current_user)
    if outcome.refused:
        flash(str(outcome.error), "error")
    else:
        flash(_("Message envoyé à l'auteur du signalement."), "success")
    return _back(alert, "#fil")


@bp.route("/referent/signalements/<reference>/operation", methods=["POST"])
def link_operation(reference):
    alert = _alert(reference)
    form = OperationLinkForm()
    form.operation_id.choices = [SelectChoice(op.id, op.code) for op in operation_choices()]
    if not form.validate_on_submit():
        flash(_("Choisissez une opération."), "error")
        return _back(alert, "#lignes")
    with attempt() as outcome:
        suspicions.link_operation(alert, db.session.get(Operation, form.operation_id.data))
    if outcome.refused:
        flash(str(outcome.error), "error")
    else:
        flash(_("Signalement rattaché à l'opération."), "success")
    return _back(alert, "#lignes")


def _parse_ids(text: str, line_type: str):
    pairs = []
    for part in (text or "").replace(";", ",").replace(" ", ",").split(","):
        part = part.strip()
        if not part:
            continue
        line_id = parse_id(part)
        if line_id is None:
            raise DomainError(_("« %(value)s » n'est pas un numéro de ligne.", value=part[:40]))
        pairs.append((line_type, line_id))
    return pairs


@bp.route("/referent/signalements/<reference>/lignes", methods=["POST"])
def link_lines(reference):
    alert = _alert(reference)
    form = CostLinesForm()
    if not form.validate_on_submit():
        flash(_("Sélection de lignes invalide."), "error")
        return _back(alert, "#lignes")
    with attempt() as outcome:
        pairs = []
        for value in request.form.getlist("line"):
            line_type, _sep, line_text = value.partition(":")
            line_id = parse_id(line_text)
            if line_type not in LINE_TYPES or line_id is None:
                raise DomainError(_("Sélection de lignes invalide."))
            pairs.append((line_type, line_id))
        pairs += _parse_ids(form.expense_ids.data, "expense") + _parse_ids(form.staff_ids.data, "staff_cost_line")
        if not pairs:
            raise DomainError(_("Sélectionnez au moins une ligne."))
        created = suspicions.link_cost_lines(alert, current_user, pairs)
    if outcome.refused:
        flash(str(outcome.error), "error")
    else:
        flash(_("%(n)s ligne(s) placée(s) sous suspicion : elles sont exclues des prochains bilans.",
                n=len(created)), "success")
    return _back(alert, "#lignes")


@bp.route("/referent/signalements/<reference>/lignes/<int:link_id>/lever", methods=["POST"])
def lift(reference, link_id):
    alert = _alert(reference)
    link = db.session.get(AlertCostLine, link_id)
    if link is None or link.alert_id != alert.id:
        abort(404)
    form = LiftForm()
    if not form.validate_on_submit():
        flash(_("Indiquez le motif de la levée de suspicion."), "error")
        return _back(alert, "#lignes")
    with attempt() as outcome:
        suspicions.lift_suspicion(link, current_user, form.reason.data)
    if outcome.refused:
        flash(str(outcome.error), "error")
    else:
        flash(_("Suspicion levée."), "success")
    return _back(alert, "#lignes")


@bp.route("/referent/signalements/<reference>/pieces/<int:attachment_id>")
def attachment(reference, attachment_id):
    alert = _alert(reference)
    item = db.session.get(AlertAttachment, attachment_id)
    if item is None or item.alert_id != alert.id:
        abort(404)
    meta = filing.attachment_meta(item)
    data = filing.attachment_data(item)
    filing.log_access(alert, current_user, "download")
    response = send_file(
        io.BytesIO(data),
        mimetype=meta.get("content_type", "application/octet-stream"),
        as_attachment=True,
        download_name=meta.get("name", "piece"),
    )
    response.headers["Content-Security-Policy"] = "sandbox"
    return response


@bp.route("/referent/signalements/<reference>/transmission", methods=["GET", "POST"])
def transmission(reference):
    alert = _alert(reference)
    details = filing.transmission_details(alert)
    content = filing.alert_content(alert)
    if request.method == "GET":
        form = TransmissionForm(
            amount=format_number(alert.amount_concerned, places=2, plain=True),
            eu_amount=format_number(alert.eu_amount_concerned, places=2, plain=True),
            detected_on=alert.detected_on or alert.received_on,
            period_start=alert.period_start,
            period_end=alert.period_end,
            detection=details.get("detection", ""),
            measures=details.get("measures", ""),
            persons=details.get("persons", content.get("persons", "")),
            reveal_persons=alert.reveal_persons,
        )
    else:
        form = TransmissionForm()
        if form.validate_on_submit():
            try:
                amount = typed_amount(form.amount.data) if (form.amount.data or "").strip() else None
            except DomainError as error:
                form.amount.errors = list(form.amount.errors) + [str(error)]
                amount = False
            try:
                eu_amount = typed_amount(form.eu_amount.data) if (form.eu_amount.data or "").strip() else None
            except DomainError as error:
                form.eu_amount.errors = list(form.eu_amount.errors) + [str(error)]
                eu_amount = False
            if amount is not False and eu_amount is not False:
                with attempt() as outcome:
                    transmission_form.save_transmission_details(
                        alert, amount=amount, eu_amount=eu_amount, detected_on=form.detected_on.data,
                        period_start=form.period_start.data, period_end=form.period_end.data,
                        detection=form.detection.data, measures=form.measures.data, persons=form.persons.data,
                        reveal_persons=form.reveal_persons.data,
                    )
                if outcome.refused:
                    form.period_end.errors = list(form.period_end.errors) + [str(outcome.error)]
                else:
                    flash(_("Fiche de transmission enregistrée."), "success")
                    return redirect(url_for("alerts.transmission", reference=alert.reference))
    computed = transmission_form.computed_amounts(alert)
    return render_template("alerts/transmission_form.html", alert=alert, form=form, computed=computed,
                           amounts=transmission_form.amounts_concerned(alert),
                           rate=transmission_form.fse_rate(alert.operation)), (400 if form.errors else 200)


@bp.route("/referent/signalements/<reference>/transmission.xlsx")
def transmission_xlsx(reference):
    alert = _alert(reference)
    filing.log_access(alert, current_user, "export")
    data = exports.transmission_workbook(alert)
    return send_file(
        io.BytesIO(data),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"fiche-transmission-{alert.reference}.xlsx",
    )


@bp.route("/referent/signalements/<reference>/transmission/impression")
def transmission_print(reference):
    alert = _alert(reference)
    filing.log_access(alert, current_user, "print")
    rows = transmission_form.transmission_rows(alert)
    lines = transmission_form.transmission_lines(alert)
    return render_template("alerts/transmission_print.html", alert=alert, rows=rows, lines=lines,
                           line_type_label=lambda t: _(suspicions.LINE_TYPE_LABELS[t]))


@bp.route("/signalements/acces")
def access_log():
    page = db.paginate(
        select(AlertAccess).order_by(AlertAccess.id.desc()),
        page=_page_number(),
        per_page=current_app.config["AUDIT_PAGE_SIZE"],
        error_out=False,
    )
    shown = (lambda reference: reference) if may("alerts.detail") else _pseudonym
    return render_template("alerts/access_log.html", page=page, shown=shown)


def _log_sentences(entries) -> list:
    """(entry, the event as a sentence with people's names) for the referent's log."""
    names = log_sentences.names_of(entries)
    return [(entry, log_sentences.sentence(entry, names)) for entry in entries]


def _page_number() -> int:
    """?page=N, 1 when missing or not a plausible page number (never a 500)."""
    return parse_int(request.args.get("page"), minimum=1, maximum=1_000_000) or 1


def _pseudonym(reference: str) -> str:
    """Auditors check who opened which alert without learning references: the same alert
    has the same keyed pseudonym on every line (HMAC of the reference)."""
    digest = hmac.new(current_app.secret_key.encode(), f"alert-access:{reference}".encode(), sha256).hexdigest()
    return "A-" + digest[:10].upper()

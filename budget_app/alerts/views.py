"""Fraud and conflict-of-interest alerts, DACI register (issue 7).

Public pages (``/signalement``): no login, nothing identifying stored (no address, no user
agent: the rate limits key on a keyed hash of the address, in memory). Referent pages
(``/referent/signalements``): ``antifraud_referent`` only, 404 for every other role
(``hidden`` in access.POLICY); each opening is written to the access log."""
import hmac
import logging
import io
import time
from datetime import date
from hashlib import sha256

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ..accounts.roles import ADMIN, ANTIFRAUD_REFERENT, AUDITOR, CONTROLLER, FINANCE_OFFICER
from ..extensions import csrf, db, limiter
from ..money import AmountError, parse_amount
from ..navigation import register_nav
from . import exports, files, services
from .forms import (
    CostLinesForm,
    DaciForm,
    EmptyForm,
    FollowUpLoginForm,
    LiftForm,
    MessageForm,
    OperationLinkForm,
    ReplyForm,
    ReportForm,
    TransitionForm,
    TransmissionForm,
)
from .models import (
    KIND_LABELS,
    LINE_TYPES,
    RECIPIENT_LABELS,
    STATE_LABELS,
    Alert,
    AlertAccess,
    AlertAttachment,
    AlertCostLine,
    DaciDeclaration,
)
from .settings import setting

bp = Blueprint("alerts", __name__)
log = logging.getLogger("budget_app.alerts")

register_nav("alerts.dashboard", _l("Signalements"), {ANTIFRAUD_REFERENT}, 70)
register_nav("alerts.daci_register", _l("Registre DACI"), {ADMIN, AUDITOR, ANTIFRAUD_REFERENT}, 80)
register_nav("alerts.access_log", _l("Accès aux signalements"), {AUDITOR}, 85)


@bp.app_context_processor
def alert_labels():
    return {
        "alert_kind_label": lambda kind: _(KIND_LABELS[kind]),
        "alert_state_label": lambda state: _(STATE_LABELS[state]),
        "alert_recipient_label": lambda r: _(RECIPIENT_LABELS[r]) if r else "",
    }


# ---------------------------------------------------------------- public: throttling keys

def _hashed_address() -> str:
    """The client address, hashed with a key derived from SECRET_KEY and the day: the same
    in every worker, changing daily, never stored (limits live in memory)."""
    day_key = hmac.new(current_app.secret_key.encode(), f"alerts:{date.today().isoformat()}".encode(), sha256).digest()
    return "alerts-address:" + hmac.new(day_key, (request.remote_addr or "").encode(), sha256).hexdigest()[:32]


def _reference_key() -> str:
    return "alerts-reference:" + (request.form.get("reference") or "").strip().upper()[:20]


def _throttled(what: str):
    def on_breach(request_limit):
        # Abnormal volume is logged (ASVS 8.1.4), without the address.
        log.warning("event=alerts_throttled what=%s limit=%s", what, request_limit.limit)

    return on_breach


def _filed(response) -> bool:
    return bool(g.get("alert_filed"))


def _follow_up_failed(response) -> bool:
    return bool(g.get("follow_up_failed"))


def _operation_choices():
    from ..operations.models import Operation

    operations = db.session.scalars(select(Operation).order_by(Operation.code)).all()
    return operations


def _uploaded(field_name: str):
    """(filename, bytes) of the uploaded files of a field; empty file inputs skipped."""
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    uploads = []
    for storage in request.files.getlist(field_name):
        if storage and storage.filename:
            uploads.append((storage.filename, storage.read(limit + 1)))
    return uploads


def _csrf_expired(form) -> bool:
    return bool(getattr(form, "csrf_token", None) is not None and form.csrf_token.errors)


# ---------------------------------------------------------------- public: report

@bp.route("/signalement", methods=["GET", "POST"])
@csrf.exempt  # checked by the form itself, with a time limit long enough to write a report
@limiter.limit(
    lambda: setting("ALERT_REPORTS_PER_ADDRESS"),
    key_func=_hashed_address,
    methods=["POST"],
    deduct_when=_filed,
    on_breach=_throttled("reports_per_address"),
    error_message=_l("Trop de signalements envoyés depuis cette connexion. Réessayez dans une heure."),
)
@limiter.limit(
    lambda: setting("ALERT_REPORTS_TOTAL"),
    key_func=lambda: "alerts-total",
    methods=["POST"],
    deduct_when=_filed,
    on_breach=_throttled("reports_total"),
    error_message=_l("Le service reçoit trop de signalements en ce moment. Réessayez dans une heure."),
)
def report():
    form = ReportForm()
    operations = _operation_choices()
    form.operation_id.choices = [SelectChoice("", _("— Je ne sais pas / pas dans la liste —"))] + [
        SelectChoice(str(op.id), f"{op.code} — {op.title}") for op in operations
    ]
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            operation_id = int(form.operation_id.data) if form.operation_id.data else None
            report_data = services.Report(
                kind=form.kind.data,
                facts=form.facts.data,
                operation_id=operation_id,
                operation_text=form.operation_text.data or "",
                persons=form.persons.data or "",
                dates=form.dates.data or "",
                anonymous=form.identity.data != "named",
                name=form.name.data or "",
                contact=form.contact.data or "",
            )
            try:
                alert, secret = services.file_alert(report_data, _uploaded("attachments"))
            except (services.AlertError, files.AttachmentError) as error:
                db.session.rollback()
                form.facts.errors = list(form.facts.errors) + [str(error)]
                status = 400
            else:
                db.session.commit()
                g.alert_filed = True
                # Shown once, in this response only (no redirect: the secret never goes into the session).
                return render_template("alerts/public/receipt.html", alert=alert, secret=secret)
        else:
            status = 400
            if _csrf_expired(form):
                flash(_("Le formulaire a expiré. Votre texte est conservé ci-dessous : "
                        "vérifiez-le, joignez à nouveau vos fichiers et envoyez."), "warning")
    return render_template("alerts/public/report.html", form=form), status


# ---------------------------------------------------------------- public: follow-up

FOLLOW_UP_KEY = "alert_follow_up"


def _followed_alert() -> Alert | None:
    state = session.get(FOLLOW_UP_KEY)
    if not isinstance(state, dict):
        return None
    idle = setting("ALERT_FOLLOW_UP_IDLE_MINUTES") * 60
    if time.time() - int(state.get("seen", 0)) > idle:
        session.pop(FOLLOW_UP_KEY, None)
        return None
    alert = db.session.get(Alert, state.get("id"))
    if alert is None or alert.secret_hash is None:
        session.pop(FOLLOW_UP_KEY, None)
        return None
    state["seen"] = int(time.time())
    session[FOLLOW_UP_KEY] = state
    return alert


@bp.route("/signalement/suivi", methods=["GET", "POST"])
@limiter.limit(
    lambda: setting("ALERT_SECRET_FAILURES_PER_ADDRESS"),
    key_func=_hashed_address,
    methods=["POST"],
    deduct_when=_follow_up_failed,
    on_breach=_throttled("secret_failures_per_address"),
    error_message=_l("Trop de tentatives. Réessayez dans 15 minutes."),
)
@limiter.limit(
    lambda: setting("ALERT_SECRET_FAILURES_PER_REFERENCE"),
    key_func=_reference_key,
    methods=["POST"],
    deduct_when=_follow_up_failed,
    on_breach=_throttled("secret_failures_per_reference"),
    error_message=_l("Trop de tentatives pour cette référence. Réessayez dans 15 minutes."),
)
def follow_up():
    if request.method == "GET":
        if request.args.get("secret") or request.args.get("code"):
            abort(400)  # the secret is accepted only in a POST body (ASVS 8.3.1)
        alert = _followed_alert()
        if alert is not None:
            return render_template(
                "alerts/public/thread.html",
                alert=alert,
                content=services.alert_content(alert),
                messages=[(m, services.message_body(m)) for m in alert.messages],
                form=ReplyForm(),
                end_form=EmptyForm(),
            )
    form = FollowUpLoginForm()
    if form.validate_on_submit():
        alert = services.verify_follow_up(form.reference.data, form.secret.data)
        if alert is not None:
            language = session.get("lang")
            session.clear()  # a fresh session for the follow-up
            if language:
                session["lang"] = language
            session[FOLLOW_UP_KEY] = {"id": alert.id, "seen": int(time.time())}
            return redirect(url_for("alerts.follow_up"))
        g.follow_up_failed = True
        time.sleep(current_app.config.get("LOGIN_FAILURE_DELAY_SECONDS", 1.0))
        flash(_("Référence ou code secret incorrect."), "error")
    return render_template("alerts/public/follow_up_login.html", form=form)


@bp.route("/signalement/suivi/reponse", methods=["POST"])
@csrf.exempt  # checked by ReplyForm with the long time limit
def reply():
    alert = _followed_alert()
    if alert is None:
        flash(_("Votre session de suivi a expiré : saisissez à nouveau la référence et le code secret."), "warning")
        return redirect(url_for("alerts.follow_up"))
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            services.post_message(alert, "reporter", form.body.data, attachments=_uploaded("attachments"))
        except (services.AlertError, files.AttachmentError) as error:
            db.session.rollback()
            form.body.errors = list(form.body.errors) + [str(error)]
        else:
            db.session.commit()
            flash(_("Votre réponse a été transmise au référent."), "success")
            return redirect(url_for("alerts.follow_up"))
    elif _csrf_expired(form):
        flash(_("Le formulaire a expiré. Votre texte est conservé ci-dessous : envoyez-le à nouveau."), "warning")
    return render_template(
        "alerts/public/thread.html",
        alert=alert,
        content=services.alert_content(alert),
        messages=[(m, services.message_body(m)) for m in alert.messages],
        form=form,
        end_form=EmptyForm(),
    ), 400


@bp.route("/signalement/suivi/fin", methods=["POST"])
def end_follow_up():
    session.pop(FOLLOW_UP_KEY, None)
    flash(_("Session de suivi terminée."), "info")
    return redirect(url_for("alerts.follow_up"))


# ---------------------------------------------------------------- referent

def _alert(reference: str) -> Alert:
    alert = db.session.scalar(select(Alert).where(Alert.reference == reference))
    if alert is None:
        abort(404)
    return alert


def _back(alert, anchor=""):
    return redirect(url_for("alerts.detail", reference=alert.reference) + anchor)


@bp.route("/referent/signalements")
def dashboard():
    alerts = services.dashboard_alerts()
    today = services.today()
    rows = [(a, services.next_deadline(a), services.is_overdue(a, today)) for a in alerts]
    return render_template("alerts/dashboard.html", rows=rows, today=today)


def _default_message(alert, target) -> str:
    if target == "acknowledged":
        return _("Nous accusons réception de votre signalement %(ref)s du %(day)s. Il est examiné par le référent "
                 "anti-fraude, de façon confidentielle. Vous recevrez un retour d'information sur les suites données "
                 "au plus tard le %(due)s. Vous pouvez compléter votre signalement en répondant ici.",
                 ref=alert.reference, day=alert.received_on.strftime("%d/%m/%Y"),
                 due=services.deadlines.feedback_due(alert.received_on, services.today()).strftime("%d/%m/%Y"))
    return ""


@bp.route("/referent/signalements/<reference>")
def detail(reference):
    alert = _alert(reference)
    services.log_access(alert, current_user, "view")
    db.session.commit()
    operation_form = OperationLinkForm(operation_id=alert.operation_id)
    operation_form.operation_id.choices = [SelectChoice(op.id, f"{op.code} — {op.title}") for op in _operation_choices()]
    links = []
    for link in alert.cost_lines:
        links.append((link, services.cost_line(link.line_type, link.line_id),
                      services.crypto.decrypt_text(link.lift_reason) if link.lift_reason else ""))
    live = {(link.line_type, link.line_id) for link in alert.cost_lines if link.lifted_at is None}
    available = [line for line in services.operation_cost_lines(alert.operation_id) if (line.line_type, line.id) not in live] \
        if alert.operation_id else []
    installed = {line_type: services.line_model(line_type) is not None for line_type in LINE_TYPES}
    return render_template(
        "alerts/detail.html",
        alert=alert,
        content=services.alert_content(alert),
        identity=services.alert_identity(alert),
        messages=[(m, services.message_body(m), [a for a in alert.attachments if a.message_id == m.id]) for m in alert.messages],
        attachments=[(a, services.attachment_meta(a)) for a in alert.attachments],
        events=[(e, services.event_reason(e)) for e in services.events_of(alert)],
        transitions=services.allowed_transitions(alert),
        deadline=services.next_deadline(alert),
        overdue=services.is_overdue(alert),
        transition_forms={move.target: TransitionForm(on=services.today(), message=_default_message(alert, move.target))
                          for move in services.allowed_transitions(alert)},
        message_form=MessageForm(),
        operation_form=operation_form,
        lines_form=CostLinesForm(),
        lift_form=LiftForm(),
        links=links,
        available=available,
        installed=installed,
        line_type_label=lambda t: _(services.LINE_TYPE_LABELS[t]),
        amounts=services.amounts_concerned(alert),
        reportable=services.is_reportable_to_commission(alert),
    )


@bp.route("/referent/signalements/<reference>/etat", methods=["POST"])
def transition(reference):
    alert = _alert(reference)
    form = TransitionForm()
    if not form.validate_on_submit():
        flash(_("Indiquez le motif du changement d'état."), "error")
        return _back(alert, "#etat")
    try:
        services.change_state(alert, form.target.data, current_user, form.reason.data, form.message.data or "",
                              recipient=form.recipient.data or None, on=form.on.data)
    except services.AlertError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("État mis à jour : %(state)s.", state=_(STATE_LABELS[alert.state])), "success")
    return _back(alert, "#etat")


@bp.route("/referent/signalements/<reference>/message", methods=["POST"])
def message(reference):
    alert = _alert(reference)
    form = MessageForm()
    if not form.validate_on_submit():
        flash(_("Le message est vide."), "error")
        return _back(alert, "#fil")
    try:
        if form.feedback.data:
            services.record_feedback(alert, current_user, form.body.data)
        else:
            services.post_message(alert, "referent", form.body.data, user=current_user)
    except services.AlertError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Message envoyé à l'auteur du signalement."), "success")
    return _back(alert, "#fil")


@bp.route("/referent/signalements/<reference>/operation", methods=["POST"])
def link_operation(reference):
    from ..operations.models import Operation

    alert = _alert(reference)
    form = OperationLinkForm()
    form.operation_id.choices = [SelectChoice(op.id, op.code) for op in _operation_choices()]
    if not form.validate_on_submit():
        flash(_("Choisissez une opération."), "error")
        return _back(alert, "#lignes")
    try:
        services.link_operation(alert, db.session.get(Operation, form.operation_id.data))
    except services.AlertError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Signalement rattaché à l'opération."), "success")
    return _back(alert, "#lignes")


def _parse_ids(text: str, line_type: str):
    pairs = []
    for part in (text or "").replace(";", ",").replace(" ", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit():
            raise services.AlertError(_("« %(value)s » n'est pas un numéro de ligne.", value=part))
        pairs.append((line_type, int(part)))
    return pairs


@bp.route("/referent/signalements/<reference>/lignes", methods=["POST"])
def link_lines(reference):
    alert = _alert(reference)
    form = CostLinesForm()
    if not form.validate_on_submit():
        flash(_("Sélection de lignes invalide."), "error")
        return _back(alert, "#lignes")
    try:
        pairs = []
        for value in request.form.getlist("line"):
            line_type, _sep, line_id = value.partition(":")
            if line_type not in LINE_TYPES or not line_id.isdigit():
                raise services.AlertError(_("Sélection de lignes invalide."))
            pairs.append((line_type, int(line_id)))
        pairs += _parse_ids(form.expense_ids.data, "expense") + _parse_ids(form.staff_ids.data, "staff_cost_line")
        if not pairs:
            raise services.AlertError(_("Sélectionnez au moins une ligne."))
        created = services.link_cost_lines(alert, current_user, pairs)
    except services.AlertError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("%(n)s ligne(s) placée(s) sous suspicion : elles sont exclues des prochaines demandes de paiement.",
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
    try:
        services.lift_suspicion(link, current_user, form.reason.data)
    except services.AlertError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Suspicion levée."), "success")
    return _back(alert, "#lignes")


@bp.route("/referent/signalements/<reference>/pieces/<int:attachment_id>")
def attachment(reference, attachment_id):
    alert = _alert(reference)
    item = db.session.get(AlertAttachment, attachment_id)
    if item is None or item.alert_id != alert.id:
        abort(404)
    meta = services.attachment_meta(item)
    data = files.read_decrypted(item.stored_name)
    services.log_access(alert, current_user, "download")
    db.session.commit()
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
    details = services.transmission_details(alert)
    content = services.alert_content(alert)
    if request.method == "GET":
        form = TransmissionForm(
            amount=format(alert.amount_concerned, "f").replace(".", ",") if alert.amount_concerned is not None else "",
            eu_amount=format(alert.eu_amount_concerned, "f").replace(".", ",") if alert.eu_amount_concerned is not None else "",
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
                amount = parse_amount(form.amount.data) if (form.amount.data or "").strip() else None
            except AmountError as error:
                form.amount.errors = list(form.amount.errors) + [str(error)]
                amount = False
            try:
                eu_amount = parse_amount(form.eu_amount.data) if (form.eu_amount.data or "").strip() else None
            except AmountError as error:
                form.eu_amount.errors = list(form.eu_amount.errors) + [str(error)]
                eu_amount = False
            if amount is not False and eu_amount is not False:
                try:
                    services.save_transmission_details(
                        alert, amount=amount, eu_amount=eu_amount, detected_on=form.detected_on.data,
                        period_start=form.period_start.data, period_end=form.period_end.data,
                        detection=form.detection.data, measures=form.measures.data, persons=form.persons.data,
                        reveal_persons=form.reveal_persons.data,
                    )
                except services.AlertError as error:
                    db.session.rollback()
                    form.period_end.errors = list(form.period_end.errors) + [str(error)]
                else:
                    db.session.commit()
                    flash(_("Fiche de transmission enregistrée."), "success")
                    return redirect(url_for("alerts.transmission", reference=alert.reference))
    computed = services.computed_amounts(alert)
    return render_template("alerts/transmission_form.html", alert=alert, form=form, computed=computed,
                           rate=services.fse_rate(alert.operation)), (400 if form.errors else 200)


@bp.route("/referent/signalements/<reference>/transmission.xlsx")
def transmission_xlsx(reference):
    alert = _alert(reference)
    services.log_access(alert, current_user, "export")
    data = exports.transmission_workbook(alert)
    db.session.commit()
    return send_file(
        io.BytesIO(data),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"fiche-transmission-{alert.reference}.xlsx",
    )


@bp.route("/referent/signalements/<reference>/transmission/impression")
def transmission_print(reference):
    alert = _alert(reference)
    services.log_access(alert, current_user, "print")
    rows = services.transmission_rows(alert)
    lines = services.transmission_lines(alert)
    db.session.commit()
    return render_template("alerts/transmission_print.html", alert=alert, rows=rows, lines=lines,
                           line_type_label=lambda t: _(services.LINE_TYPE_LABELS[t]))


@bp.route("/signalements/acces")
def access_log():
    page = db.paginate(
        select(AlertAccess).order_by(AlertAccess.id.desc()),
        page=request.args.get("page", 1, type=int),
        per_page=current_app.config["AUDIT_PAGE_SIZE"],
        error_out=False,
    )
    return render_template("alerts/access_log.html", page=page)


# ---------------------------------------------------------------- DACI register

@bp.route("/daci")
def daci_register():
    today = services.today()
    declarations = services.daci_register()
    return render_template(
        "alerts/daci_register.html",
        declarations=[(d, services.declaration_in_force(d, today)) for d in declarations],
        missing=services.missing_declarations(today),
        today=today,
        withdraw_form=EmptyForm(),
        can_write=current_user.role in (ADMIN, ANTIFRAUD_REFERENT),
    )


@bp.route("/daci/nouvelle", methods=["GET", "POST"])
def daci_new():
    from ..accounts.models import User
    from ..operations.models import Operation

    form = DaciForm()
    people = db.session.scalars(
        select(User).where(User.active.is_(True), User.role.in_((CONTROLLER, ADMIN, FINANCE_OFFICER, ANTIFRAUD_REFERENT)))
        .order_by(User.email)
    ).all()
    form.user_id.choices = [SelectChoice(u.id, u.email) for u in people]
    form.operation_id.choices = [SelectChoice(0, _("— Toutes (année de programmation) —"))] + [
        SelectChoice(op.id, f"{op.code} — {op.title}") for op in _operation_choices()
    ]
    if form.validate_on_submit():
        operation = db.session.get(Operation, form.operation_id.data) if form.operation_id.data else None
        try:
            services.record_declaration(
                user=db.session.get(User, form.user_id.data), operation=operation,
                programme_year=form.programme_year.data, signed_on=form.signed_on.data,
                valid_until=form.valid_until.data, has_interest=form.has_interest.data,
                interest_description=form.interest_description.data, recorded_by=current_user,
            )
        except services.AlertError as error:
            db.session.rollback()
            form.operation_id.errors = list(form.operation_id.errors) + [str(error)]
        else:
            db.session.commit()
            flash(_("Déclaration enregistrée."), "success")
            return redirect(url_for("alerts.daci_register"))
    return render_template("alerts/daci_form.html", form=form), (400 if form.errors else 200)


@bp.route("/daci/<int:declaration_id>/retrait", methods=["POST"])
def daci_withdraw(declaration_id):
    declaration = db.session.get(DaciDeclaration, declaration_id)
    if declaration is None:
        abort(404)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            services.withdraw_declaration(declaration)
        except services.AlertError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Déclaration retirée."), "success")
    return redirect(url_for("alerts.daci_register"))

"""The public channel (``/signalement``): no login, nothing identifying stored (no address,
no user agent: the rate limits key on a keyed hash of the address, in memory); the
reporter follows up with the reference and the secret, never in a URL."""
import hmac
import logging
from datetime import date
from hashlib import sha256

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ...kernel.errors import DomainError
from ...kernel.integers import parse_id
from ...kernel.extensions import csrf, db, limiter
from ...kernel.transactions import attempt
from ...operations.models import Operation
from .. import filing, legacy
from .. import follow_up as follow_ups
from ..forms import EmptyForm, FollowUpLoginForm, ReplyForm, ReportForm
from ..models import Alert
from . import bp

log = logging.getLogger("budget_app.alerts")


def _hashed_address() -> str:
    """The client address, hashed with a key derived from SECRET_KEY and the day: the same
    in every worker, changing daily, never stored (limits live in memory)."""
    day_key = hmac.new(current_app.secret_key.encode(), f"alerts:{date.today().isoformat()}".encode(), sha256).digest()
    return "alerts-address:" + hmac.new(day_key, (request.remote_addr or "").encode(), sha256).hexdigest()[:32]


def _throttled(what: str):
    def on_breach(request_limit):
        # Abnormal volume is logged (ASVS 8.1.4), without the address.
        log.warning("event=alerts_throttled what=%s limit=%s", what, request_limit.limit)

    return on_breach


def _filed(response) -> bool:
    return bool(g.get("alert_filed"))


def _follow_up_failed(response) -> bool:
    return bool(g.get("follow_up_failed"))


def operation_choices():
    return db.session.scalars(select(Operation).order_by(Operation.code)).all()


def _offer_operations(form, listed: bool = True) -> None:
    """The form's operation choices: « I don't know », then every operation when ``listed``."""
    form.operation_id.choices = [SelectChoice("", _("— Je ne sais pas / pas dans la liste —"))] + ([
        SelectChoice(str(op.id), f"{op.code} — {op.title}") for op in operation_choices()] if listed else [])


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
    lambda: current_app.config["ALERT_REPORTS_PER_ADDRESS"],
    key_func=_hashed_address,
    methods=["POST"],
    deduct_when=_filed,
    on_breach=_throttled("reports_per_address"),
    error_message=_l("Trop de signalements envoyés depuis cette connexion."),
)
@limiter.limit(
    lambda: current_app.config["ALERT_REPORTS_TOTAL"],
    key_func=lambda: "alerts-total",
    methods=["POST"],
    deduct_when=_filed,
    on_breach=_throttled("reports_total"),
    error_message=_l("Le service reçoit trop de signalements en ce moment."),
)
def report():
    form = ReportForm()
    # A report naming no operation is checked without reading the list (issue 27: one query
    # less per filing); the list is read to show the form, or to check the operation chosen.
    _offer_operations(form, listed=request.method != "POST" or bool(form.operation_id.data))
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            operation_id = parse_id(form.operation_id.data)  # one of the listed ids, or none
            report_data = filing.Report(
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
            # No savepoint (issue 27: a filing is a few statements): a refusal is raised before
            # anything is written (``filing.file_alert``).
            try:
                alert, secret = filing.file_alert(report_data, _uploaded("attachments"))
            except DomainError as refusal:
                form.facts.errors = list(form.facts.errors) + [str(refusal)]
                status = 400
            else:
                g.alert_filed = True
                # Shown once, in this response only (no redirect: the secret never goes into the session).
                return render_template("alerts/public/receipt.html", alert=alert, secret=secret)
        else:
            status = 400
            if _csrf_expired(form):
                flash(_("Le formulaire a expiré. Votre texte est conservé ci-dessous : "
                        "vérifiez-le, joignez à nouveau vos fichiers et envoyez."), "warning")
    if len(form.operation_id.choices) == 1:
        _offer_operations(form)  # shown again: with the list
    return render_template("alerts/public/report.html", form=form), status


# ---------------------------------------------------------------- public: follow-up

FOLLOW_UP_KEY = "alert_follow_up"


def _followed_alert() -> Alert | None:
    """The alert of the live server-side follow-up session named by the cookie's token."""
    token = session.get(FOLLOW_UP_KEY)
    alert = follow_ups.alert_of_session(token) if isinstance(token, str) else None
    if alert is None:
        session.pop(FOLLOW_UP_KEY, None)
    return alert


@bp.route("/signalement/suivi", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["ALERT_SECRET_FAILURES_PER_ADDRESS"],
    key_func=_hashed_address,
    methods=["POST"],
    deduct_when=_follow_up_failed,
    on_breach=_throttled("secret_failures_per_address"),
    error_message=_l("Trop de tentatives depuis cette connexion."),
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
                content=filing.alert_content(alert),
                messages=[(m, filing.message_body(m)) for m in alert.messages],
                form=ReplyForm(),
                end_form=EmptyForm(),
            )
    form = FollowUpLoginForm()
    if form.validate_on_submit():
        alert = filing.verify_follow_up(form.reference.data, form.secret.data)
        if alert is not None:
            # The cookie holds only a random token; the state is on the server.
            session[FOLLOW_UP_KEY] = follow_ups.start_session(alert, legacy.reporter_content_key(alert, form.secret.data))
            return redirect(url_for("alerts.follow_up"))
        # Counted per address only (the limit above: 429 with Retry-After past it); never
        # per reference, whose failures anyone could cause to lock the reporter out.
        g.follow_up_failed = True
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
        with attempt() as outcome:
            filing.post_message(alert, "reporter", form.body.data, attachments=_uploaded("attachments"))
        if outcome.refused:
            form.body.errors = list(form.body.errors) + [str(outcome.error)]
        else:
            flash(_("Votre réponse a été transmise au référent."), "success")
            return redirect(url_for("alerts.follow_up"))
    elif _csrf_expired(form):
        flash(_("Le formulaire a expiré. Votre texte est conservé ci-dessous : envoyez-le à nouveau."), "warning")
    return render_template(
        "alerts/public/thread.html",
        alert=alert,
        content=filing.alert_content(alert),
        messages=[(m, filing.message_body(m)) for m in alert.messages],
        form=form,
        end_form=EmptyForm(),
    ), 400


@bp.route("/signalement/suivi/fin", methods=["POST"])
def end_follow_up():
    token = session.pop(FOLLOW_UP_KEY, None)
    if isinstance(token, str):
        follow_ups.end_session(token)  # every copy of the cookie is dead
    flash(_("Session de suivi terminée."), "info")
    return redirect(url_for("alerts.follow_up"))

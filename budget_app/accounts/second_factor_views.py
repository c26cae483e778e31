"""The second factor on the web: the code step of a login, the enrolment (forced at the first
login of admins and referents), the account's own page (optional for the other roles), and
the confirmation (password + code again) that sensitive actions ask for (``fresh``)."""
import logging

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..kernel import throttle
from ..kernel.extensions import limiter
from . import second_factor, sessions
from .fresh import ask_confirmation, fresh_enough
from .forms import CodeForm, ConfirmForm, LogoutForm
from .passwords import verify_password
from .views import bp, finish_login, safe_next_url

log = logging.getLogger("budget_app.accounts")


def _code_failed(response) -> bool:
    return bool(g.get("code_failed"))


def _pending_key() -> str:
    """Wrong codes counted per pending login: past the limit, the password is asked again."""
    return "second-factor:" + throttle.keyed(str(session.get("pending_sid") or ""), throttle.client_address())


def _confirm_key() -> str:
    return "confirm:" + throttle.keyed(throttle.client_address(), str(current_user.get_id()))


def _pending():
    token = session.get("pending_sid")
    return token, sessions.pending_user(token if isinstance(token, str) else None)


def _expired():
    session.pop("pending_sid", None)
    flash(_("Connexion expirée : saisissez à nouveau votre mot de passe."), "warning")
    return redirect(url_for("accounts.login"))


def _complete(token, user):
    next_url = session.get("pending_next")
    sessions.complete_second_factor(token)
    session.clear()
    return finish_login(user, token, next_url)


_limit_codes = limiter.limit(
    lambda: current_app.config["SECOND_FACTOR_FAILURES"], key_func=_pending_key, methods=["POST"],
    deduct_when=_code_failed,
    error_message=_l("Trop de codes incorrects. Reconnectez-vous dans quelques minutes."),
)


@bp.route("/connexion/code", methods=["GET", "POST"])
@_limit_codes
def second_factor_step():
    token, user = _pending()
    if user is None:
        return _expired()
    if not second_factor.enabled(user):
        return redirect(url_for("accounts.enrol_step"))
    form = CodeForm()
    if form.validate_on_submit():
        if second_factor.check_code(user, form.code.data):
            return _complete(token, user)
        g.code_failed = True
        log.warning("event=second_factor_failed user=%s", user.id)
        form.code.errors = [_("Code incorrect ou déjà utilisé.")]
    return render_template("accounts/second_factor.html", form=form), (400 if form.errors else 200)


def _enrolment_page(user, form, template_args=None):
    secret = second_factor.pending_secret(user) or second_factor.start_enrolment(user)
    uri = second_factor.provisioning_uri(user, secret)
    return render_template("accounts/enrol.html", form=form, secret=secret, qr=second_factor.qr_data_uri(uri),
                           required=second_factor.required_for(user), **(template_args or {}))


@bp.route("/connexion/double-authentification", methods=["GET", "POST"])
@_limit_codes
def enrol_step():
    """First login of an admin or a referent: the second factor is enrolled before any page."""
    token, user = _pending()
    if user is None:
        return _expired()
    if second_factor.enabled(user):
        return redirect(url_for("accounts.second_factor_step"))
    form = CodeForm()
    if form.validate_on_submit():
        codes = second_factor.confirm_enrolment(user, form.code.data)
        if codes:
            next_url = session.get("pending_next")
            _complete(token, user)
            # Shown once, in this response only (never in the cookie).
            return render_template("accounts/recovery_codes.html", codes=codes,
                                   next_url=next_url or url_for("reporting.home"))
        g.code_failed = True
        form.code.errors = [_("Code incorrect : vérifiez l'heure de votre téléphone et réessayez.")]
    return _enrolment_page(user, form), (400 if form.errors else 200)


@bp.route("/compte/double-authentification", methods=["GET", "POST"])
@_limit_codes
def second_factor_settings():
    """The account's second factor: enrol (optional roles), new recovery codes, turn off
    (optional roles only); the last two after a confirmation."""
    user = current_user._get_current_object()
    form = CodeForm()
    action = request.form.get("action")
    if second_factor.enabled(user):
        if request.method == "POST" and LogoutForm().validate_on_submit() and action in ("codes", "disable"):
            if not fresh_enough():
                return ask_confirmation(url_for("accounts.second_factor_settings"))
            if action == "codes":
                return render_template("accounts/recovery_codes.html", codes=second_factor.new_recovery_codes(user),
                                       next_url=url_for("accounts.second_factor_settings"))
            if not second_factor.required_for(user):
                second_factor.reset(user)
                flash(_("Double authentification désactivée."), "success")
                return redirect(url_for("accounts.second_factor_settings"))
        return render_template("accounts/second_factor_settings.html", required=second_factor.required_for(user),
                               remaining=second_factor.remaining_recovery_codes(user), form=LogoutForm())
    if form.validate_on_submit():
        codes = second_factor.confirm_enrolment(user, form.code.data)
        if codes:
            return render_template("accounts/recovery_codes.html", codes=codes,
                                   next_url=url_for("accounts.second_factor_settings"))
        g.code_failed = True
        form.code.errors = [_("Code incorrect : vérifiez l'heure de votre téléphone et réessayez.")]
    return _enrolment_page(user, form), (400 if form.errors else 200)


# ------------------------------------------------------------------ fresh authentication

@bp.route("/compte/confirmation", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["PASSWORD_CHANGE_FAILURES"], key_func=_confirm_key, methods=["POST"],
    deduct_when=_code_failed, error_message=_l("Trop d'essais. Réessayez dans 15 minutes."),
)
def confirm():
    form = ConfirmForm()
    if request.method == "GET":
        form.next.data = safe_next_url(request.args.get("next"))
    user = current_user._get_current_object()
    if form.validate_on_submit():
        needs_code = second_factor.enabled(user)
        if verify_password(user, form.password.data) and (not needs_code or second_factor.check_code(user, form.code.data)):
            sessions.mark_fresh(sessions.current_token())
            return redirect(safe_next_url(form.next.data) or url_for("reporting.home"))
        g.code_failed = True
        log.warning("event=confirmation_failed user=%s", user.id)
        form.password.errors = [_("Mot de passe ou code incorrect.")]
    return render_template("accounts/confirm.html", form=form), (400 if form.errors else 200)

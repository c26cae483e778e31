import logging
from urllib.parse import urlsplit

from flask import (
    Blueprint,
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
from flask_login import current_user, login_user, logout_user

from ..kernel.audit import services as audit
from ..kernel import throttle
from ..kernel.extensions import db, limiter
from ..kernel.i18n import current_locale
from ..kernel.transactions import attempt
from . import hooks, second_factor
from .forms import LanguageForm, LoginForm, PasswordForm
from .passwords import verify_password
from .services import WrongPassword, change_password, find_user, normalise_email
from .sessions import end_session, start_session

bp = Blueprint("accounts", __name__)
# A password check (argon2) costs about a second of CPU: a few at once across workers,
# the others refused at once (429) rather than queued behind them (issue 21, point 4).
BUSY = _l("Trop de vérifications de mot de passe en cours. Réessayez dans quelques secondes.")
log = logging.getLogger("budget_app.accounts")


def _login_failed(response) -> bool:
    return bool(g.get("login_failed"))


def _password_failed(response) -> bool:
    return bool(g.get("password_failed"))


def _address_key() -> str:
    return "login-address:" + throttle.keyed(throttle.client_address())


def _address_account_key() -> str:
    """Failures counted per (address, account): an attacker's failures lock only the
    attacker's address out of that account, never the rightful user elsewhere."""
    return "login-address-account:" + throttle.keyed(
        throttle.client_address(), normalise_email(request.form.get("email", ""))
    )


# A key the limits below refused is refused again first thing, until its window ends; a
# login finding every password-check slot taken is refused as it arrives.
throttle.refuse_early("accounts.login", _address_key, _address_account_key)
throttle.slot_on_arrival("accounts.login", "password", "PASSWORD_CHECKS_AT_ONCE", BUSY)


def _password_change_key() -> str:
    return "password-change:" + throttle.keyed(throttle.client_address(), str(current_user.get_id()))


def safe_next_url(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no protocol-relative URL."""
    if not target:
        return None
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return None  # CR/LF would split the Location header (issue 21); NUL, tabs: no path has them
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_FAILURES_PER_ADDRESS"],
    key_func=_address_key,
    methods=["POST"],
    deduct_when=_login_failed,
    error_message=_l("Trop d'échecs de connexion depuis cette adresse."),
)
@limiter.limit(
    lambda: current_app.config["LOGIN_FAILURES_PER_ADDRESS_AND_ACCOUNT"],
    key_func=_address_account_key,
    methods=["POST"],
    deduct_when=_login_failed,
    error_message=_l("Trop d'échecs de connexion pour ce compte depuis cette adresse."),
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("reporting.home"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next_url(request.args.get("next"))
    if form.validate_on_submit():
        user = find_user(form.email.data)
        with throttle.costly_check("password", current_app.config["PASSWORD_CHECKS_AT_ONCE"], BUSY):
            verified = verify_password(user, form.password.data)
        if verified and user.active:
            next_url = safe_next_url(form.next.data)
            session.clear()  # new session at login: nothing set before it survives (ASVS 3.2.1)
            if second_factor.required_for(user) or second_factor.enabled(user):
                # The password is right; the session opens no page until the code is given
                # (or the second factor enrolled: required roles, first login).
                token = start_session(user, pending=True)
                hooks.password_verified(user, form.password.data, token)
                session["pending_sid"], session["pending_next"] = token, next_url
                return redirect(url_for("accounts.second_factor_step"))
            token = start_session(user)
            hooks.password_verified(user, form.password.data, token)
            return finish_login(user, token, next_url)
        g.login_failed = True
        throttle.note_failure("password")
        log.warning("event=login_failed user=%s", user.id if user else None)
        # Counted by the limits above (per address, and per address and account): past them
        # the answer is 429 with Retry-After at once; no failure waits inside the worker.
        flash(_("Adresse e-mail ou mot de passe incorrect."), "error")
    return render_template("accounts/login.html", form=form, language_form=LanguageForm(lang=current_locale()))


def finish_login(user, token: str, next_url: str | None):
    """The session is open: Flask-Login, the audit entry, what the domains do at login."""
    login_user(user)
    session["sid"] = token
    audit.record("login", "users", user.id)
    log.info("event=login_succeeded user=%s", user.id)
    hooks.session_started(user, token)
    return redirect(next_url or url_for("reporting.home"))


@bp.route("/deconnexion", methods=["POST"])
def logout():
    user_id = current_user.id
    end_session(session.get("sid"), "logout")
    audit.record("logout", "users", user_id)
    logout_user()
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    flash(_("Vous êtes déconnecté."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/compte/mot-de-passe", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["PASSWORD_CHANGE_FAILURES"],
    key_func=_password_change_key,
    methods=["POST"],
    deduct_when=_password_failed,
    error_message=_l("Trop d'essais du mot de passe actuel."),
)
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        with throttle.costly_check("password", current_app.config["PASSWORD_CHECKS_AT_ONCE"], BUSY):
            with attempt() as outcome:
                change_password(current_user, form.current.data, form.new.data)
        if isinstance(outcome.error, WrongPassword):
            # Throttled like the login: a limit per (address, account), 429 past it.
            g.password_failed = True
            throttle.note_failure("password")
            log.warning("event=password_change_failed user=%s", current_user.id)
            form.current.errors.append(str(outcome.error))
        elif outcome.refused:
            form.new.errors.append(str(outcome.error))
        else:
            # Every other session of this user (and any copied cookie) has ended; this one restarts.
            user = current_user._get_current_object()
            session.clear()
            token = start_session(user)
            login_user(user)
            session["sid"] = token
            # The new session's vault gets the keys again (opened with the new password).
            hooks.password_verified(user, form.new.data, token)
            hooks.session_started(user, token)
            flash(_("Votre mot de passe a été changé. Vos autres sessions ont été fermées."), "success")
            return redirect(url_for("reporting.home"))
    return render_template("accounts/password.html", form=form)


@bp.route("/compte/langue", methods=["POST"])
def language():
    form = LanguageForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            current_user.locale = form.lang.data
        else:
            session["lang"] = form.lang.data
    target = safe_next_url(request.form.get("next")) or (
        url_for("reporting.home") if current_user.is_authenticated else url_for("accounts.login")
    )
    return redirect(target)



"""Administrator's screens for accounts: create (with a set-up link), disable or enable,
assign and unassign operations; and the public page where a person sets their password."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..kernel.extensions import db, limiter
from ..kernel.i18n import translate_label
from ..kernel.transactions import attempt
from .admin import SETUP_LINK_HOURS, change_assignment, invite_user, new_setup_token, set_active, set_first_password, user_for_token
from .assignments import all_operation_codes, codes_by_user
from .forms import AssignmentForm, InviteForm, SetupPasswordForm
from .models import User
from .policy import second_factor_required
from .fresh import ask_confirmation, fresh_enough
from .roles import ROLE_LABELS, ROLES
from .views import bp


def _invite_form() -> InviteForm:
    form = InviteForm()
    form.role.choices = [("", _("— Choisissez un rôle —"))] + [
        (role, translate_label(ROLE_LABELS, role)) for role in ROLES
    ]
    return form


def _link(token: str) -> str:
    return url_for("accounts.setup_password", token=token, _external=True)


@bp.route("/admin/utilisateurs", methods=["GET", "POST"])
def users():
    form = _invite_form()
    link = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit() and second_factor_required(form.role.data) and not fresh_enough():
            return ask_confirmation(url_for("accounts.users"))
        if form.validate_on_submit():
            codes = [code.strip() for code in (form.operations.data or "").split(",") if code.strip()]
            with attempt() as outcome:
                user, token = invite_user(form.email.data, form.role.data, form.full_name.data, codes)
            if outcome.refused:
                # Each refusal under its field (the operations' codes, the role, the e-mail).
                target = getattr(form, outcome.error.field or "", None) or form.email
                target.errors = list(target.errors or []) + outcome.error.lines()
                status = 400
            else:
                link = (user, _link(token))
                form = _invite_form()
                form.email.data = form.full_name.data = form.operations.data = ""
        else:
            status = 400
    accounts = db.session.scalars(select(User).order_by(User.role, User.email)).all()
    return render_template("accounts/users.html", users=accounts, codes=codes_by_user(), form=form, link=link,
                           hours=SETUP_LINK_HOURS, all_codes=all_operation_codes(),
                           assignment_form=AssignmentForm()), status


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/admin/utilisateurs/<int:user_id>/etat", methods=["POST"])
def user_state(user_id):
    user = _user(user_id)
    form = AssignmentForm()
    if form.validate_on_submit():
        if user.id == current_user.id:
            flash(_("Vous ne pouvez pas désactiver votre propre compte."), "error")
        else:
            active = request.form.get("active") == "1"
            if active and not user.active and second_factor_required(user.role) and not fresh_enough():
                return ask_confirmation(url_for("accounts.users") + f"#user-{user.id}")
            set_active(user, active)
            flash(_("Compte activé : %(who)s.", who=user.display_name) if active
                  else _("Compte désactivé : %(who)s (ses sessions sont fermées).", who=user.display_name), "success")
    return redirect(url_for("accounts.users") + f"#user-{user.id}")


@bp.route("/admin/utilisateurs/<int:user_id>/lien", methods=["POST"])
def setup_link(user_id):
    user = _user(user_id)
    if not AssignmentForm().validate_on_submit():
        return redirect(url_for("accounts.users"))
    token = new_setup_token(user)
    flash(_("Nouveau lien pour %(who)s, valable %(hours)s h et une seule fois : %(link)s",
            who=user.display_name, hours=SETUP_LINK_HOURS, link=_link(token)), "success")
    return redirect(url_for("accounts.users") + f"#user-{user.id}")


@bp.route("/admin/utilisateurs/<int:user_id>/affectations", methods=["POST"])
def user_assignment(user_id):
    user = _user(user_id)
    form = AssignmentForm()
    if form.validate_on_submit():
        assigned = request.form.get("action") != "remove"
        code = form.code.data
        with attempt() as outcome:
            code = change_assignment(user, form.code.data, assigned)
        if outcome.refused:
            flash(str(outcome.error), "error")
        else:
            flash((_("%(who)s affecté à %(code)s.") if assigned else _("%(who)s n'est plus affecté à %(code)s."))
                  % {"who": user.display_name, "code": code}, "success")
    return redirect(url_for("accounts.users") + f"#user-{user.id}")


@bp.route("/compte/activation/<token>", methods=["GET", "POST"])
@limiter.limit("10 per minute")
def setup_password(token):
    user = user_for_token(token)
    form = SetupPasswordForm()
    if user is None:
        return render_template("accounts/setup_password.html", form=None, user=None), 200
    if form.validate_on_submit():
        with attempt() as outcome:
            set_first_password(token, form.new.data)
        if outcome.refused:
            form.new.errors = list(form.new.errors or []) + outcome.error.lines()
        else:
            flash(_("Mot de passe enregistré : connectez-vous."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/setup_password.html", form=form, user=user), (400 if form.errors else 200)

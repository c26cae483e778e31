"""Keys per referent on the referents' pages: who may read the alerts (and who was told of
new admin and referent accounts), grants by an existing referent (after a confirmation of
password and code), the recovery key shown once to the first referent."""
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ...accounts import sessions
from ...accounts.models import User
from ...accounts.fresh import ask_confirmation, fresh_enough
from ...kernel.errors import DomainError
from ...kernel.extensions import db
from .. import keyring, referent_keys
from ..forms import EmptyForm
from ..models import AlertLogEntry
from . import bp

# Events of the referents' log that concern accounts and keys (not one alert).
ACCESS_EVENTS = {
    "account_created": _l("Compte administrateur ou référent créé"),
    "account_setup_link": _l("Nouveau lien d'activation pour un compte administrateur ou référent"),
    "account_enabled": _l("Compte administrateur ou référent réactivé"),
    "access_granted": _l("Accès aux signalements accordé"),
    "access_recovered": _l("Accès rétabli par la clé de secours"),
    "access_lost": _l("Mot de passe redéfini par lien : accès aux signalements perdu"),
    "access_received": _l("Signalements reçus à la connexion"),
    "recovery_key_created": _l("Clé de secours créée"),
    "legacy_alerts_sealed": _l("Signalements antérieurs chiffrés par référent"),
    "server_wraps_retired": _l("Clés transitoires sous la clé du serveur supprimées"),
}


def _names() -> dict:
    return {user.id: user.display_name for user in db.session.scalars(select(User))}


@bp.route("/referent/acces")
def access_rights():
    entries = db.session.scalars(
        select(AlertLogEntry).where(AlertLogEntry.alert_id.is_(None), AlertLogEntry.action.in_(ACCESS_EVENTS))
        .order_by(AlertLogEntry.id.desc()).limit(200)
    ).all()
    mine = referent_keys.key_row(current_user.id)
    return render_template("alerts/access_rights.html", referents=referent_keys.referents_access(), entries=entries,
                           labels=ACCESS_EVENTS, names=_names(), form=EmptyForm(),
                           i_have_access=mine is not None and mine.granted_at is not None)


@bp.route("/referent/acces/<int:user_id>/accorder", methods=["POST"])
def grant(user_id):
    grantee = db.session.get(User, user_id)
    if grantee is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("alerts.access_rights"))
    if not fresh_enough():
        return ask_confirmation(url_for("alerts.access_rights"))
    try:
        count = referent_keys.grant_access(current_user, grantee)
    except DomainError as error:
        flash(str(error), "error")
    else:
        flash(_("Accès accordé à %(who)s (%(n)s signalement(s)).", who=grantee.display_name, n=count), "success")
    return redirect(url_for("alerts.access_rights"))


@bp.route("/referent/cle-de-secours", methods=["GET", "POST"])
def recovery_key():
    """Shown once to the first referent: the organisation's recovery key, to print and keep
    offline (it lives only in this session's vault until « conservée »)."""
    token = sessions.current_token()
    text = sessions.vault_get(token, keyring.RECOVERY_ONCE)
    form = EmptyForm()
    if request.method == "POST" and form.validate_on_submit():
        sessions.vault_put(token, keyring.RECOVERY_ONCE, None)
        return redirect(url_for("alerts.dashboard"))
    if text is None:
        return redirect(url_for("alerts.dashboard"))
    return render_template("alerts/recovery_key.html", key=text.decode("ascii"), form=form)


SHOWN_BEFORE_RECOVERY_KEY = frozenset({"alerts.recovery_key", "accounts.logout", "static"})


@bp.before_app_request
def recovery_key_first():
    """The first referent sees the recovery key before anything else (it is never shown again)."""
    if (request.endpoint in SHOWN_BEFORE_RECOVERY_KEY or not current_user.is_authenticated
            or keyring.referent_private_key() is None):
        return None
    if sessions.vault_get(sessions.current_token(), keyring.RECOVERY_ONCE) is not None:
        return redirect(url_for("alerts.recovery_key"))
    return None


@bp.errorhandler(keyring.AlertLocked)
def alert_locked(error):
    """A referent not granted this alert; on the public channel, a reporter whose alert of
    before keys per referent was sealed after the transition (its key is not theirs)."""
    return render_template("alerts/locked.html", public=bool(g.get("alerts_public_channel"))), 403

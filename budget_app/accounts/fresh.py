"""Sensitive actions on the web ask for the password and the code again (ASVS 3.7.1):
granting alert access, creating or re-enabling an admin or referent account, approving an
amendment. A confirmation (``/compte/confirmation``) or a login counts for
``FRESH_AUTH_MINUTES``; the time is kept in the server-side session row. Commands (purge,
backup...) stay scriptable: whoever runs them holds the server already."""
from flask import current_app, flash, redirect, url_for
from flask_babel import gettext as _

from . import sessions


def fresh_enough() -> bool:
    return sessions.is_fresh(sessions.current_token(), current_app.config["FRESH_AUTH_MINUTES"])


def ask_confirmation(back_url: str):
    """The action is refused until the person types their password and code again; they
    come back to ``back_url`` and do it again (nothing was changed)."""
    flash(_("Par sécurité, confirmez votre mot de passe et votre code, puis recommencez."), "warning")
    return redirect(url_for("accounts.confirm", next=back_url))

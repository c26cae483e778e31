"""`flask --app budget_app users ...`: accounts from the command line."""
import sys

import click
from flask import current_app, url_for
from flask.cli import AppGroup
from sqlalchemy import select

from ..kernel.extensions import db
from ..kernel.transactions import command_transaction
from .admin import SETUP_LINK_HOURS, new_setup_token
from .assignments import codes_of
from .models import User
from .roles import ROLES
from ..kernel.errors import DomainError
from ..kernel.i18n import N_
from . import second_factor
from .services import create_user, disable_user, find_user, normalise_email
from .sessions import end_all_sessions

users_cli = AppGroup("users", help="Comptes utilisateurs / user accounts.")


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Mot de passe", hide_input=True, confirmation_prompt="Confirmez le mot de passe")
    return sys.stdin.readline().rstrip("\r\n")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", required=True, help=f"One of: {', '.join(ROLES)}")
@click.option("--operation", "operations", multiple=True, help="Operation code (repeatable).")
@command_transaction
def create_command(email, role, operations):
    """Create an account; the password is read from standard input."""
    password = _read_password()
    user = create_user(email, role, password, operation_codes=operations)
    click.echo(f"Compte créé : {user.email} ({user.role})")
    for kind, text in user.notices:
        if kind == "recovery_key":
            click.echo("Clé de secours des signalements (affichée une seule fois : imprimez-la et gardez-la "
                       "hors ligne ; `alerts recover` la demandera si plus aucun référent n'a accès) :")
            click.echo(f"  {text}")


@users_cli.command("list")
def list_command():
    """List accounts with role, state and operations."""
    for user in db.session.scalars(select(User).order_by(User.email)):
        state = "actif" if user.active else "désactivé"
        demo = " [démo]" if user.is_demo else ""
        codes = ",".join(codes_of(user.id)) or "-"
        click.echo(f"{user.email}\t{user.role}\t{state}{demo}\t{codes}")


@users_cli.command("disable")
@click.argument("email")
@command_transaction
def disable_command(email):
    """Disable an account and end its sessions."""
    user = disable_user(email)
    click.echo(f"Compte désactivé : {user.email}")


@users_cli.command("reset-second-factor")
@click.argument("email")
@command_transaction
def reset_second_factor_command(email):
    """Remove an account's second factor (lost phone and codes): enrolled again at next login."""
    user = find_user(email)
    if user is None:
        raise DomainError(N_("Aucun compte pour %(email)s."), email=normalise_email(email))
    second_factor.reset(user)
    end_all_sessions(user, "second_factor_reset")
    click.echo(f"Double authentification retirée : {user.email} (nouvelle activation à sa prochaine connexion)")


@users_cli.command("setup-link")
@click.argument("email")
@click.option("--base-url", default=None, help="Where the app is served (default: BUDGET_APP_BASE_URL), "
                                               "e.g. http://127.0.0.1:8080 after `make run PORT=8080`.")
@command_transaction
def setup_link_command(email, base_url):
    """Issue a new single-use set-up link (48 h) for an account, e.g. a demo account whose
    password was not noted: the person chooses a new password through it."""
    user = find_user(email)
    if user is None:
        raise DomainError(N_("Aucun compte pour %(email)s."), email=normalise_email(email))
    if not user.active:
        raise DomainError(N_("Le compte %(email)s est désactivé : aucun lien n'est émis."), email=user.email)
    token = new_setup_token(user)
    base = (base_url or current_app.config["BUDGET_APP_BASE_URL"]).rstrip("/")
    with current_app.test_request_context("/", base_url=base):
        link = url_for("accounts.setup_password", token=token, _external=True)
    click.echo(f"Lien de création du mot de passe pour {user.email}, valable {SETUP_LINK_HOURS} h et une seule fois :")
    click.echo(f"  {link}")


COMMANDS = [users_cli]

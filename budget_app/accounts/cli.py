import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from .models import User
from .roles import ROLES
from .services import AccountError, create_user, disable_user

users_cli = AppGroup("users", help="Comptes utilisateurs / user accounts.")


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Mot de passe", hide_input=True, confirmation_prompt="Confirmez le mot de passe")
    return sys.stdin.readline().rstrip("\r\n")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", required=True, help=f"One of: {', '.join(ROLES)}")
@click.option("--operation", "operations", multiple=True, help="Operation code (repeatable).")
def create_command(email, role, operations):
    """Create an account; the password is read from standard input."""
    password = _read_password()
    try:
        user = create_user(email, role, password, operation_codes=operations)
        db.session.commit()
    except AccountError as error:
        db.session.rollback()
        click.echo(f"Erreur : {error}", err=True)
        sys.exit(1)
    click.echo(f"Compte créé : {user.email} ({user.role})")


@users_cli.command("list")
def list_command():
    """List accounts with role, state and operations."""
    for user in db.session.scalars(select(User).order_by(User.email)):
        state = "actif" if user.active else "désactivé"
        demo = " [démo]" if user.is_demo else ""
        codes = ",".join(op.code for op in user.operations) or "-"
        click.echo(f"{user.email}\t{user.role}\t{state}{demo}\t{codes}")


@users_cli.command("disable")
@click.argument("email")
def disable_command(email):
    """Disable an account and end its sessions."""
    try:
        user = disable_user(email)
        db.session.commit()
    except AccountError as error:
        db.session.rollback()
        click.echo(f"Erreur : {error}", err=True)
        sys.exit(1)
    click.echo(f"Compte désactivé : {user.email}")

"""Command line of the alerts domain: `flask --app budget_app <group> ...`."""
import logging
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from ..accounts.services import find_user
from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.formatting import format_day
from ..kernel.transactions import fail
from . import crypto, handling, journal, legacy, referent_keys, retention

alerts_cli = AppGroup("alerts", help="Signalements : purge des données personnelles, rotation de la clé.")

log = logging.getLogger("budget_app.alerts")


@alerts_cli.command("purge")
@click.option("--days", type=int, default=None, help="Délai de conservation après clôture (jours).")
@click.option("--dry-run", is_flag=True, help="Affiche ce qui serait purgé sans rien modifier.")
def purge_command(days, dry_run):
    """Supprime les données personnelles des signalements clos depuis plus que le délai de conservation."""
    days = current_app.config["ALERT_RETENTION_DAYS"] if days is None else days
    if days < 0:
        fail(["le délai doit être positif."])
    alerts = retention.purge_closed_alerts(days)
    references = [alert.reference for alert in alerts]
    if dry_run:
        db.session.rollback()
        click.echo(f"{len(references)} signalement(s) seraient purgés : {', '.join(references) or '-'}")
        return
    db.session.commit()
    click.echo(f"{len(references)} signalement(s) purgés (délai {days} jours) : {', '.join(references) or '-'}")


@alerts_cli.command("rotate-key")
def rotate_key_command():
    """Chiffre à nouveau tous les contenus des signalements avec une nouvelle clé."""
    try:
        old_keys = crypto.configured_keys()
    except crypto.AlertKeyError as error:
        fail([f"{error} (BUDGET_APP_ALERT_KEY ou instance/alert_key)"])
    new_key = crypto.generate_key()
    both = crypto.multi_fernet([new_key] + old_keys)
    from_env = bool(current_app.config.get("ALERT_KEY"))
    path = crypto.key_file_path()
    if not from_env:
        # New key first, old ones kept until the database is committed: a crash leaves both usable.
        crypto.write_key_file(path, [new_key] + old_keys)
    try:
        legacy.retire_server_wraps()  # if the transition is over, nothing goes under the new key
        count = retention.reencrypt_all(both)
        journal.record(None, "key_rotated", values=count)
        db.session.commit()
    except crypto.AlertKeyError as error:
        db.session.rollback()
        fail([f"{error}; rien n'a été modifié dans la base (la clé précédente reste dans {path})."])
    except Exception:
        db.session.rollback()
        raise
    log.info("event=alert_key_rotated values=%s", count)
    if from_env:
        click.echo(f"{count} valeur(s) chiffrée(s) à nouveau. Remplacez BUDGET_APP_ALERT_KEY par la nouvelle clé :")
        click.echo(new_key.decode("ascii"))
    else:
        crypto.write_key_file(path, [new_key])
        click.echo(f"{count} valeur(s) chiffrée(s) à nouveau ; nouvelle clé dans {path} (mode 0600).")


@alerts_cli.command("recover")
@click.argument("email")
def recover_command(email):
    """Rétablit l'accès d'un référent à tous les signalements avec la clé de secours (lue sur
    l'entrée standard), quand plus aucun référent ayant accès ne peut l'accorder."""
    if sys.stdin.isatty():
        text = click.prompt("Clé de secours", hide_input=True)
    else:
        text = sys.stdin.readline()
    user = find_user(email)
    try:
        count = referent_keys.recover_access(user, text)
    except DomainError as error:
        db.session.rollback()
        fail(error.lines())
    db.session.commit()
    click.echo(f"Accès rétabli pour {user.email} : {count} signalement(s). Le référent le voit dans son journal.")


@alerts_cli.command("deadlines")
def deadlines_command():
    """Liste les signalements ouverts par échéance (les dépassées en premier)."""
    for alert in handling.dashboard_alerts():
        deadline = handling.next_deadline(alert)
        if deadline is None:
            continue
        what, day = deadline
        flag = " EN RETARD" if handling.is_overdue(alert) else ""
        label = "accusé de réception" if what == "acknowledgment" else "retour d'information"
        click.echo(f"{alert.reference}  {alert.state:<14} {label} avant le {format_day(day)}{flag}")


COMMANDS = [alerts_cli]

import click
from flask.cli import with_appcontext

from ..extensions import db
from .services import ensure_demo_accounts


@click.command("seed")
@with_appcontext
def seed_command():
    """Load the seed operations and the demo accounts; a second run changes nothing."""
    from .seed import load_seed_operations

    from ..operations.services import PlanError

    try:
        loaded = load_seed_operations()
    except PlanError as exc:
        db.session.rollback()
        for line in exc.lines():
            click.echo(f"Erreur : {line}", err=True)
        raise SystemExit(1) from None
    created = ensure_demo_accounts(operation_codes=loaded.demo_assignments)
    db.session.commit()
    for line in loaded.messages:
        click.echo(line)
    if created:
        click.echo("Comptes de démonstration créés (mots de passe affichés une seule fois) :")
        for email, role, password in created:
            click.echo(f"  {role:<20} {email:<45} {password}")
    if not created and not loaded.changed:
        click.echo("Données de démonstration déjà chargées : rien à faire.")

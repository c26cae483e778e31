"""The claims domain's command groups, and their older names.

- `flask bilans …` (``bilans_cli``): a bilan's life, its evidence pack, holds on lines;
  `flask advances record`.
- `flask statements …` (``statements_cli``): the état récapitulatif of a period, and the
  monthly export (cron).
- `flask daci missing`: controllers without a conflict-of-interest declaration in force.

One word per thing for the people who read it (*bilan*, *état récapitulatif*); the group
that said *claims* is kept as an alias so that existing scripts and cron lines still work:
each of its commands is the very command of the new group (one command, one rule)."""
import click
from flask.cli import AppGroup

from . import account_cli, bilans_cli, daci_commands, statements_cli  # noqa: F401 (account_cli adds `bilans account`)
from .daci import missing_declarations

daci_cli = AppGroup("daci", help="Registre des déclarations d'absence de conflit d'intérêts.")


@daci_cli.command("missing")
def missing_command():
    """Liste les contrôleurs affectés à une opération sans DACI en vigueur."""
    missing = missing_declarations()
    for user, operation in missing:
        click.echo(f"{operation.code}  {user.email}")
    click.echo(f"{len(missing)} déclaration(s) manquante(s)")


# Older name -> the command it now is.
CLAIMS_ALIASES = {
    "export": statements_cli.export_command,
    "export-all": statements_cli.export_all_command,
    "pack": bilans_cli.pack_command,
    "hold": bilans_cli.hold_command,
    "release": bilans_cli.release_command,
    "advance": bilans_cli.record_command,
}
claims_cli = AppGroup(
    "claims",
    help="Ancien nom, gardé pour les scripts et le cron : « claims export » et « claims export-all » sont "
         "« statements … » ; « claims pack », « hold », « release » sont « bilans … » ; « claims advance » "
         "est « advances record ».",
)
for name, command in CLAIMS_ALIASES.items():
    claims_cli.add_command(command, name)

daci_cli.add_command(daci_commands.record_command)
daci_cli.add_command(daci_commands.withdraw_command)

COMMANDS = [*bilans_cli.COMMANDS, statements_cli.statements_cli, daci_cli, claims_cli]

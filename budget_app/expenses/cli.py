"""Command line of the expenses domain: `flask --app budget_app expenses ...`."""
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.transactions import fail
from ..operations.services import find_operation
from .imports import import_file

expenses_cli = AppGroup("expenses", help="Dépenses : import de fichiers.")

# Above this many rows a progress bar is drawn on the terminal.
PROGRESS_FROM = 200


@expenses_cli.command("import")
@click.argument("code")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(code, file):
    """Importe les dépenses du fichier FILE (XLSX ou CSV) dans l'opération CODE.

    Tout ou rien : au moindre problème, rien n'est écrit, chaque problème est affiché
    (« ligne N, colonne X : message ») et la commande sort avec le code 1."""
    operation = find_operation(code)
    if operation is None:
        fail([f"opération inconnue « {code} »."])
    content = file.read_bytes()

    def progress(rows, length):
        if length < PROGRESS_FROM or not sys.stderr.isatty():
            return rows
        return _bar(rows, length)

    try:
        result = import_file(operation, content, file.name, progress=progress)
    except DomainError as refused:
        click.echo(f"Erreur : fichier refusé, rien n'a été importé ({len(refused.problems)} problème(s)).", err=True)
        for problem in refused.problems:
            click.echo(str(problem), err=True)
        fail([])
    db.session.commit()
    for row in result.skipped:
        click.echo(f"ligne {row.line} : déjà enregistrée (dépense n° {row.already_recorded.expense_id}), ignorée")
    for row in result.warnings:
        for match in row.warnings:
            where = f"ligne {match.file_line} du fichier" if match.file_line else f"{match.operation_code} n° {match.expense_id}"
            click.echo(f"ligne {row.line} : doublon possible, {match.reason} ({where})")
    click.echo(f"{len(result.to_import)} dépense(s) importée(s), {len(result.skipped)} déjà enregistrée(s) ignorée(s).")


def _bar(rows, length):
    with click.progressbar(rows, length=length, label="Vérification", file=sys.stderr) as bar:
        yield from bar


COMMANDS = [expenses_cli]

"""Command line of the staff domain: `flask --app budget_app <group> ...`.

    flask --app budget_app staff import CODE FILE
    flask --app budget_app timesheets import CODE FILE [--approved]

All or nothing: any problem prints every "ligne N, colonne X : message", writes nothing
and exits 1. The audit trail records the command as ``cli:<os user>``.
"""
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.tabular import PROBLEMS_SHOWN
from ..kernel.transactions import fail
from ..operations.services import find_operation
from . import computations, imports

staff_cli = AppGroup("staff", help="Personnel affecté aux opérations (taux horaires, temps fixe).")
timesheets_cli = AppGroup("timesheets", help="Fiches de temps mensuelles.")

COMMANDS = [staff_cli, timesheets_cli]

# Below this many rows the check is instant: no progress bar.
PROGRESS_FROM_ROWS = 500


def _operation(code):
    operation = find_operation(code)
    if operation is None:
        raise click.ClickException(f"opération inconnue : {code}")
    return operation


def _run(kind, code, path, **options):
    operation = _operation(code)
    content = Path(path).read_bytes()
    importer = imports.import_staff if kind == "staff" else imports.import_timesheets
    bars = []

    def progress(total):
        """Called once the file is read, with its number of rows."""
        if total < PROGRESS_FROM_ROWS or not sys.stderr.isatty():
            return None
        bar = click.progressbar(length=total, label="Vérification des lignes", file=sys.stderr)
        bar.__enter__()
        bars.append(bar)
        return bar.update

    try:
        report = importer(operation, content, filename=Path(path).name, progress=progress, **options)
    except DomainError as refused:
        _close(bars)
        if not refused.problems:
            fail([str(refused)])
        click.echo(f"Erreur : fichier refusé, rien n'a été importé ({len(refused.problems)} problème(s)).", err=True)
        for problem in refused.problems[:PROBLEMS_SHOWN]:
            click.echo(str(problem), err=True)
        if len(refused.problems) > PROBLEMS_SHOWN:
            click.echo(f"… et {len(refused.problems) - PROBLEMS_SHOWN} autre(s) problème(s).", err=True)
        fail([])
    _close(bars)
    db.session.commit()
    click.echo(report.summary)
    for change in report.changes:
        if change.outcome == "unchanged":
            click.echo(f"ligne {change.row.line} : déjà enregistrée, ignorée")
        elif kind == "timesheets" and computations.days_in_operation(
                change.row.month, operation.start_date, operation.end_date) is not None:
            # Primer §9: say which dates the hours (or the prorated share) of such a month cover.
            click.echo(f"ligne {change.row.line} : {change.detail}")
    return report


def _close(bars):
    for bar in bars:
        bar.__exit__(None, None, None)


@staff_cli.command("import")
@click.argument("code")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_staff_command(code, path):
    """Importe le personnel (XLSX ou CSV) de l'opération CODE."""
    _run("staff", code, path)


@timesheets_cli.command("import")
@click.argument("code")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--approved", is_flag=True, help="Les fiches sont importées approuvées ; l'import vaut approbation.")
def import_timesheets_command(code, path, approved):
    """Importe des fiches de temps (XLSX ou CSV) de l'opération CODE."""
    report = _run("timesheets", code, path, approved=approved)
    if approved:
        click.echo(f"{report.count('new') + report.count('updated')} fiche(s) approuvée(s) par cet import.")

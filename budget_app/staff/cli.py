"""Command line of the staff domain: `flask --app budget_app <group> ...`.

    flask --app budget_app staff import CODE FILE
    flask --app budget_app timesheets import CODE FILE [--approved]
    flask --app budget_app staff documents attach CODE PERSON [--year Y | --month YYYY-MM] --kind KIND FILE

All or nothing: any problem prints every "ligne N, colonne X : message", writes nothing
and exits 1. The audit trail records the command as ``cli:<os user>``.
"""
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.money import parse_day, parse_decimal
from ..kernel.tabular import PROBLEMS_SHOWN, cell_month
from ..kernel.transactions import command_transaction, fail
from ..operations.commands import operation_or_fail
from . import computations, evidence, imports
from .models import STAFF_DOCUMENT_KINDS

staff_cli = AppGroup("staff", help="Personnel affecté aux opérations (taux horaires, temps fixe).")
timesheets_cli = AppGroup("timesheets", help="Fiches de temps mensuelles.")

COMMANDS = [staff_cli, timesheets_cli]

# Below this many rows the check is instant: no progress bar.
PROGRESS_FROM_ROWS = 500


def _run(kind, code, path, **options):
    operation = operation_or_fail(code)
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


documents_cli = AppGroup("documents", help="Pièces du personnel : contrats, bulletins de paie, lettres de mission, "
                                           "fiches de temps signées.")
staff_cli.add_command(documents_cli)


@documents_cli.command("attach")
@click.argument("code")
@click.argument("person")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--kind", required=True, type=click.Choice(sorted(STAFF_DOCUMENT_KINDS)),
              help="contract, payroll, mission_letter (par année) ; timesheet_signed, payslip (par mois).")
@click.option("--year", type=int, help="Année couverte (contrat, bulletins, lettre de mission).")
@click.option("--month", help="Mois couvert AAAA-MM (fiche de temps signée, bulletin du mois).")
@click.option("--share", help="Lettre de mission : son pourcentage de temps fixe.")
@click.option("--from", "valid_from", help="Lettre de mission : début (JJ/MM/AAAA ou AAAA-MM-JJ).")
@click.option("--to", "valid_to", help="Lettre de mission : fin.")
@command_transaction
def attach_document_command(code, person, path, kind, year, month, share, valid_from, valid_to):
    """Joint le fichier PATH aux pièces de la personne de matricule PERSON sur l'opération CODE."""
    operation = operation_or_fail(code)
    assignment = evidence.assignment_of(operation, person)
    coverage = evidence.Coverage(
        year=year, month=cell_month(month, required=False),
        valid_from=parse_day(valid_from) if valid_from else None, valid_to=parse_day(valid_to) if valid_to else None,
        share=parse_decimal(share, places=4) if share else None,
    )
    document, same = evidence.attach_document(assignment, kind, Path(path).name, Path(path).read_bytes(), coverage)
    click.echo(f"{document.original_name} joint : {STAFF_DOCUMENT_KINDS[kind]}, "
               f"{_covered(document)}, SHA-256 {document.sha256}.")
    for other in same:
        click.echo(f"Attention : le même fichier est déjà joint (pièce n° {other.id}, {other.original_name}).")


def _covered(document) -> str:
    if document.first_month == document.last_month:
        return document.first_month.strftime("%m/%Y")
    return f"{document.first_month.strftime('%m/%Y')} à {document.last_month.strftime('%m/%Y')}"

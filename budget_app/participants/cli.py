"""Command line of the participants domain (participants §2-§6):

    flask --app budget_app participants import CODE FILE
    flask --app budget_app participants indicators CODE [--from D --to D] [--json]
    flask --app budget_app participants export CODE -o FILE
    flask --app budget_app participants show CODE PARTICIPANT_CODE
    flask --app budget_app participants settings CODE --non-binary/--no-non-binary

All or nothing: bad input prints ``Erreur : …``, writes nothing and exits 1.
"""
import json
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.formatting import format_day
from ..kernel.money import parse_day
from ..kernel.tabular import PROBLEMS_SHOWN
from ..kernel.transactions import fail
from ..operations.commands import operation_or_fail
from . import exports, imports, indicators, records
from .access_log import log_read
from .models import Participant

participants_cli = AppGroup("participants", help="Participants et indicateurs communs FSE+.")
COMMANDS = [participants_cli]


def _day(text, name):
    if text is None:
        return None
    try:
        return parse_day(text)
    except DomainError:
        fail([f"{name} : date invalide « {text} » (attendu JJ/MM/AAAA ou AAAA-MM-JJ)."])


@participants_cli.command("import")
@click.argument("code")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(code, path):
    """Importe les participants du fichier (XLSX ou CSV) dans l'opération CODE."""
    operation = operation_or_fail(code)
    try:
        report = imports.import_participants(operation, path.read_bytes(), filename=path.name)
    except DomainError as refused:
        if not refused.problems:
            fail(refused.lines())
        click.echo(f"Erreur : fichier refusé, rien n'a été importé ({len(refused.problems)} problème(s)).", err=True)
        for problem in refused.problems[:PROBLEMS_SHOWN]:
            click.echo(str(problem), err=True)
        if len(refused.problems) > PROBLEMS_SHOWN:
            click.echo(f"… et {len(refused.problems) - PROBLEMS_SHOWN} autre(s) problème(s).", err=True)
        fail([])
    db.session.commit()
    click.echo(report.summary)
    for change in report.changes:
        if change.outcome == "unchanged":
            click.echo(f"ligne {change.row.line} : déjà enregistrée, ignorée")


@participants_cli.command("indicators")
@click.argument("code")
@click.option("--from", "start", default=None, help="Début de la période (JJ/MM/AAAA ou AAAA-MM-JJ).")
@click.option("--to", "end", default=None, help="Fin de la période.")
@click.option("--json", "as_json", is_flag=True, help="JSON : chaque code avec femmes, hommes, non_binaires, total.")
def indicators_command(code, start, end, as_json):
    """Indicateurs communs EECO01-17 et EECR01-06 de l'opération CODE sur la période."""
    operation = operation_or_fail(code)
    start, end = _day(start, "--from"), _day(end, "--to")
    if start and end and start > end:
        fail(["--from doit précéder --to."])
    table = indicators.indicator_table(operation.id, start, end)
    if as_json:
        click.echo(json.dumps(table.as_json(), indent=2))
        return
    period = f"du {format_day(start, 'fr')}" if start else "depuis le début"
    period += f" au {format_day(end, 'fr')}" if end else " à ce jour"
    click.echo(f"{operation.code}, {period} (F / H / X / total)")
    for code_ in indicators.CODES:
        row = table.counts[code_]
        click.echo(f"{code_}  {row['femmes']:>6} {row['hommes']:>6} {row['non_binaires']:>6} {row['total']:>7}  "
                   f"{indicators.LABELS[code_]}")
    incomplete = indicators.incomplete_participants(operation.id)
    if incomplete:
        click.echo(f"{len(incomplete)} fiche(s) incomplète(s), comptée(s) nulle part :")
        for participant_code, lacking in incomplete:
            click.echo(f"  {participant_code} : manque {', '.join(str(label) for label in lacking)}")


@participants_cli.command("export")
@click.argument("code")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Fichier écrit (.xlsx ou .csv).")
def export_command(code, output):
    """Export pseudonymisé (codes et réponses, aucune identité) des participants de CODE."""
    operation = operation_or_fail(code)
    header, rows = exports.pseudonymised_rows(operation)
    output.write_bytes(exports.write(header, rows, xlsx=output.suffix.lower() == ".xlsx"))
    click.echo(f"{len(rows)} participant(s) exporté(s) dans {output} (pseudonymisé : aucune identité).")


@participants_cli.command("show")
@click.argument("code")
@click.argument("participant_code")
def show_command(code, participant_code):
    """Fiche d'un participant, identité comprise ; la lecture est journalisée."""
    operation = operation_or_fail(code)
    participant = db.session.scalar(select(Participant).where(Participant.operation_id == operation.id,
                                                              Participant.code == participant_code))
    if participant is None:
        fail([f"participant inconnu dans {operation.code} : « {participant_code} »."])
    try:
        header, rows = exports.access_rows(participant)
    except DomainError as error:
        fail(error.lines())
    log_read(participant, "cli_show")
    db.session.commit()
    click.echo(f"{participant.code} ({operation.code})")
    for label, value in rows:
        click.echo(f"  {label} : {value}")


@participants_cli.command("settings")
@click.argument("code")
@click.option("--non-binary/--no-non-binary", "non_binary", required=True,
              help="Admettre le sexe X (personnes non binaires) pour cette opération.")
def settings_command(code, non_binary):
    """Paramètres participants de l'opération CODE."""
    operation = operation_or_fail(code)
    try:
        records.set_non_binary(operation, non_binary)
    except DomainError as error:
        fail(error.lines())
    db.session.commit()
    click.echo(f"{operation.code} : sexe X {'admis' if non_binary else 'non admis'}.")

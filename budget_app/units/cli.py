"""`flask --app budget_app units ...`: the plan's unit costs and lump sums, the units
delivered and deliverables achieved, their evidence (the same services as the operation's
pages: ``services``, ``operations.unit_lines``)."""
from pathlib import Path

import click
from flask.cli import AppGroup

from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.formatting import format_day, format_money, format_number
from ..kernel.money import parse_amount, parse_day, parse_decimal
from ..kernel.tabular import PROBLEMS_SHOWN
from ..kernel.transactions import command_transaction, fail
from ..operations.commands import operation_or_fail
from ..operations.unit_lines import UNIT_LINE_KINDS, add_unit_line
from . import services
from .imports import LANGUAGES, check_file, import_file

units_cli = AppGroup("units", help="Coûts unitaires et montants forfaitaires (RPDC 53(1)(b)-(c)) : lignes du plan, "
                                   "unités réalisées, livrables, preuves.")

YES = ("oui", "yes", "o", "y", "1", "true")
NO = ("non", "no", "n", "0", "false")


@units_cli.command("plan-line")
@click.argument("code")
@click.option("--kind", required=True, help="unit (coût unitaire) ou lump_sum (montant forfaitaire).")
@click.option("--year", type=int, required=True, help="Année du plan.")
@click.option("--category", required=True, help="Catégorie du plan (PERSONNEL, FONCTIONNEMENT, PRESTATIONS, ...).")
@click.option("--label", default="", help="L'unité (« heure de formation ») ou le livrable.")
@click.option("--rate", required=True, help="Montant par unité, ou montant forfaitaire (ex. 150,00).")
@click.option("--planned-units", help="Coût unitaire : nombre d'unités prévues.")
@click.option("--evidence", help="Preuve exigée pour chaque unité ou livrable.")
@click.option("--in-flat-rate-base", is_flag=True, help="Dans l'assiette des taux forfaitaires (par défaut : non).")
@click.option("--from-participants", is_flag=True,
              help="Unité « participant ayant achevé le parcours », comptée à partir des participants.")
@command_transaction
def plan_line_command(code, kind, year, category, label, rate, planned_units, evidence, in_flat_rate_base,
                      from_participants):
    """Ajoute un coût unitaire ou un montant forfaitaire au plan en vigueur de l'opération CODE."""
    operation = operation_or_fail(code)
    line = add_unit_line(operation, kind.strip(), year, category.strip().upper(), label, parse_amount(rate),
                         parse_decimal(planned_units) if planned_units else None, evidence,
                         in_flat_rate_base, from_participants)
    click.echo(f"Ligne n° {line.id} ajoutée au plan (version {line.version.number}) : "
               f"{UNIT_LINE_KINDS[line.kind]} « {line.label} », {format_money(line.rate)}"
               f"{_planned(line)} ; {'dans' if line.in_flat_rate_base else 'hors'} assiette des taux forfaitaires.")


def _planned(line) -> str:
    if line.kind != "unit":
        return ""
    return f" × {format_number(line.planned_units, places=None)} prévues = {format_money(line.planned_amount)}"


@units_cli.command("record")
@click.argument("code")
@click.option("--line", "line_id", type=int, required=True, help="N° de la ligne du plan (units lines).")
@click.option("--date", "delivered_on", required=True, help="Date de réalisation (fin de la période couverte).")
@click.option("--quantity", help="Coût unitaire : nombre d'unités réalisées.")
@click.option("--achieved", help="Montant forfaitaire : oui ou non (tout ou rien).")
@click.option("--period-start", help="Début de la période (obligatoire pour les participants ayant achevé le parcours).")
@click.option("--description", default="", help="Ce qui a été réalisé.")
@click.option("--evidence", "evidence_path", type=click.Path(exists=True, dir_okay=False),
              help="La preuve de réalisation (fichier).")
@command_transaction
def record_command(code, line_id, delivered_on, quantity, achieved, period_start, description, evidence_path):
    """Enregistre des unités réalisées ou un livrable de l'opération CODE."""
    operation = operation_or_fail(code)
    done = None
    if achieved is not None:
        answer = achieved.strip().lower()
        if answer not in YES + NO:
            fail([f"--achieved : « {achieved} » n'est ni oui ni non"])
        done = answer in YES
    record = services.record_units(operation, line_id, parse_day(delivered_on),
                                   quantity=parse_decimal(quantity) if quantity else None, achieved=done,
                                   description=description,
                                   period_start=parse_day(period_start) if period_start else None)
    if evidence_path:
        services.attach_evidence(record, Path(evidence_path).name, Path(evidence_path).read_bytes())
    click.echo(f"Relevé n° {record.id} : {_line_text(record)}")


@units_cli.command("evidence")
@click.argument("code")
@click.argument("record_id", type=int)
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@command_transaction
def evidence_command(code, record_id, path):
    """Joint la preuve PATH au relevé n° RECORD_ID de l'opération CODE."""
    record = _record(operation_or_fail(code), record_id)
    services.attach_evidence(record, Path(path).name, Path(path).read_bytes())
    click.echo(f"Preuve jointe au relevé n° {record.id} ({record.original_name}, SHA-256 {record.sha256}).")


@units_cli.command("withdraw")
@click.argument("code")
@click.argument("record_id", type=int)
@click.option("--reason", required=True, help="Pourquoi le relevé est retiré.")
@command_transaction
def withdraw_command(code, record_id, reason):
    """Retire le relevé n° RECORD_ID de l'opération CODE (saisi par erreur)."""
    record = _record(operation_or_fail(code), record_id)
    services.withdraw_record(record, reason)
    click.echo(f"Relevé n° {record.id} retiré.")


@units_cli.command("import")
@click.argument("code")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Vérifie le fichier et affiche ce qui serait importé, sans rien écrire.")
@click.option("--language", type=click.Choice(LANGUAGES), default="fr", show_default=True,
              help="Nombres et dates saisis en texte : fr (1 234,5 ; 15/03/2024) ou en (1,234.5 ; 2024-03-15).")
def import_command(code, file, dry_run, language):
    """Importe les relevés du fichier FILE (XLSX ou CSV) dans l'opération CODE.

    Colonnes : Ligne du plan ; Date de réalisation ; Début de la période ; Unités réalisées ;
    Livrable réalisé ; Commentaire. Tout ou rien : au moindre problème, rien n'est écrit,
    chaque problème est affiché (« ligne N, colonne X : message ») et la commande sort avec
    le code 1."""
    operation = operation_or_fail(code)
    content = file.read_bytes()
    try:
        if dry_run:
            result = check_file(operation, content, language)
            if result.problems:
                raise DomainError(problems=result.problems)
        else:
            result = import_file(operation, content, file.name, language)
    except DomainError as refused:
        problems = refused.problems or [refused]
        click.echo(f"Erreur : fichier refusé, rien n'a été importé ({len(problems)} problème(s)).", err=True)
        for problem in problems[:PROBLEMS_SHOWN]:
            click.echo(str(problem), err=True)
        if len(problems) > PROBLEMS_SHOWN:
            click.echo(f"… et {len(problems) - PROBLEMS_SHOWN} autre(s) problème(s).", err=True)
        fail([])
    for note in result.notes:
        click.echo(f"Note : {note}")
    for row in result.rows:
        if row.already_recorded is not None:
            click.echo(f"ligne {row.line} : déjà enregistré (relevé n° {row.already_recorded}), ignoré")
        else:
            click.echo(f"ligne {row.line} : ligne {row.record.line.id}, {_prepared_text(row.record)}")
    skipped = f"{len(result.skipped)} déjà enregistré(s) ignoré(s)"
    if dry_run:
        db.session.rollback()
        click.echo(f"Vérification seule (--dry-run), rien n'a été écrit : {len(result.to_import)} relevé(s) à "
                   f"importer, {format_money(result.amount)} ; {skipped}.")
        return
    db.session.commit()
    click.echo(f"Importé : {len(result.to_import)} relevé(s), {format_money(result.amount)} ; {skipped}."
               + (f" Preuves à joindre : flask units evidence {operation.code} N° FICHIER." if result.to_import else ""))


def _prepared_text(item) -> str:
    if item.quantity is not None:
        what = f"{format_number(item.quantity, places=None)} × {format_money(item.line.rate)}"
    else:
        what = "livrable réalisé" if item.achieved else "livrable non réalisé"
    return f"{format_day(item.delivered_on)}, {item.description} : {what} = {format_money(item.amount)}"


@units_cli.command("list")
@click.argument("code")
def list_command(code):
    """Les lignes du plan et les relevés de l'opération CODE."""
    operation = operation_or_fail(code)
    plan = operation.current_plan
    for line in (plan.unit_lines if plan is not None else []):
        click.echo(f"ligne {line.id}\t{line.year}\t{line.category}\t{UNIT_LINE_KINDS[line.kind]}\t{line.label}\t"
                   f"{format_money(line.rate)}{_planned(line)}\t"
                   f"{'dans' if line.in_flat_rate_base else 'hors'} assiette")
    for record in services.records_of(operation):
        click.echo(f"relevé {record.id}\tligne {record.plan_line_id}\t{_line_text(record)}")


def _record(operation, record_id):
    record = services.record_of(operation, record_id)
    if record is None:
        fail([f"relevé n° {record_id} introuvable dans l'opération {operation.code}"])
    return record


def _line_text(record) -> str:
    if record.quantity is not None:
        what = f"{format_number(record.quantity, places=None)} × {format_money(record.rate)}"
    else:
        what = "livrable réalisé" if record.achieved else "livrable non réalisé"
    codes = f", participants {record.participant_codes}" if record.participant_codes else ""
    evidence = "preuve jointe" if record.is_complete else "preuve manquante"
    return (f"{format_day(record.delivered_on)}, {record.description} : {what} = {format_money(record.amount)}"
            f"{codes} ({evidence})")


COMMANDS = (units_cli,)

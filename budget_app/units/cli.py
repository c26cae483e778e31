"""`flask --app budget_app units ...`: the plan's unit costs and lump sums, the units
delivered and deliverables achieved, their evidence (the same services as the operation's
pages: ``services``, ``operations.unit_lines``)."""
from pathlib import Path

import click
from flask.cli import AppGroup

from ..kernel.formatting import format_day, format_money, format_number
from ..kernel.money import parse_amount, parse_day, parse_decimal
from ..kernel.transactions import command_transaction, fail
from ..operations.commands import operation_or_fail
from ..operations.unit_lines import UNIT_LINE_KINDS, add_unit_line
from . import services

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

"""Command line of the operations domain: `flask --app budget_app operations ...`."""
import json

import click
from flask.cli import AppGroup

from ..kernel.formatting import format_day, format_money, format_percent
from ..kernel.transactions import command_transaction, fail
from .flat_rates import AppliedRate, applied_rate_text
from .fse_rates import rate_of
from .loader import load_operation_file
from .plans import plan_figures
from ..kernel.money import parse_amount
from .commands import operation_or_fail
from .services import find_operation, procurement_threshold, set_procurement_threshold

operations_cli = AppGroup("operations", help="Opérations, plans de financement, enveloppes.")


@operations_cli.command("load")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--amendment", "reason", help="Motif de l'avenant : enregistre le plan du fichier comme nouvelle version.")
@command_transaction
def load_command(path, reason):
    """Crée l'opération du fichier TOML, ou enregistre un avenant (--amendment)."""
    result = load_operation_file(path, amendment=reason)
    for line in result.messages:
        click.echo(line)


@operations_cli.command("show")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON (montants en chaînes à deux décimales).")
def show_command(code, as_json):
    """Affiche le plan de financement de la version en vigueur."""
    operation = find_operation(code)
    if operation is None or operation.current_plan is None:
        fail([f"opération inconnue ou sans plan : {code}"])
    version = operation.current_plan
    figures = plan_figures(version)
    if as_json:
        click.echo(json.dumps(figures.as_json(operation.code, version.number, rate_of(operation, figures.total_cost)),
                              ensure_ascii=False, indent=2))
        return
    click.echo(f"{operation.code} — {operation.title}")
    click.echo(f"Période : {format_day(operation.start_date)} - {format_day(operation.end_date)} · plan version {version.number}")
    click.echo("Dépenses :")
    for category, years in figures.costs.items():
        detail = ", ".join(f"{year} : {format_money(amount)}" for year, amount in years.items())
        click.echo(f"  {category:<16} {format_money(figures.category_totals[category]):>18}  ({detail})")
    for code_, flat in figures.flat_rates.items():
        applied = applied_rate_text(AppliedRate(code_, flat["rate"], flat["base"], flat["amount"]))
        click.echo(f"  {code_:<16} {format_money(flat['amount']):>18}  ({applied})")
    click.echo(f"  {'TOTAL':<16} {format_money(figures.total_cost):>18}")
    applied = rate_of(operation, figures.total_cost)
    click.echo(f"FSE+ : {format_money(figures.fse_amount)} au taux de {format_percent(figures.fse_rate)}"
               f" (plafond taux × coût total : {format_money(figures.fse_max)})")
    if applied.fixed_by_agreement:
        click.echo(f"Montant FSE+ fixé par la convention : taux appliqué par les bilans {format_percent(applied.percent, places=4)}"
                   f" ({format_money(figures.fse_amount)} / {format_money(figures.total_cost)}),"
                   f" FSE+ maximum {format_money(figures.bilans_maximum(applied))}")
    click.echo("Ressources :")
    for line in figures.resources:
        click.echo(f"  {line['name']:<50} {format_money(line['amount']):>18}  [{line['kind']}]")
    click.echo(f"  {'TOTAL':<50} {format_money(figures.resources_total):>18}")


@operations_cli.command("procurement-threshold")
@click.argument("code")
@click.argument("amount", required=False)
@click.option("--default", "reset", is_flag=True, help="Revient au seuil par défaut (40 000,00 € HT).")
@command_transaction
def procurement_threshold_command(code, amount, reset):
    """Affiche ou fixe le seuil (HT) au-delà duquel une dépense de l'opération CODE demande un
    dossier de mise en concurrence."""
    operation = operation_or_fail(code)
    if reset or amount is not None:
        set_procurement_threshold(operation, None if reset else parse_amount(amount))
    click.echo(f"{operation.code} : seuil de mise en concurrence {format_money(procurement_threshold(operation))} HT"
               + ("" if operation.procurement_threshold is not None else " (par défaut)") + ".")


# Registered by budget_app/__init__.py (COMMANDS).
COMMANDS = [operations_cli]

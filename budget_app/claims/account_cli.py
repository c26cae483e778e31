"""`flask bilans account CODE [--json]`: the operation's statement of account (claims.account),
what the bilans page shows under « Relevé de compte FSE+ »."""
import json

import click

from ..kernel.errors import DomainError
from ..kernel.formatting import format_day, format_money
from ..kernel.i18n import N_, translate
from ..kernel.money import cents
from ..kernel.transactions import command_transaction
from ..operations.services import find_operation
from .account import statement_of_account
from .bilans_cli import bilans_cli


def _money(value):
    return None if value is None else format(cents(value), "f")


def account_json(account) -> dict:
    """Amounts as strings with two decimals, dates ISO."""
    return {
        "rows": [{"kind": row.kind, "number": row.number, "label": row.label,
                  "paid_on": row.day.isoformat() if row.day and row.received is not None else None,
                  "fse_due": _money(row.due), "payment_expected": _money(row.expected),
                  "received": _money(row.received), "difference": _money(row.difference),
                  "balance": _money(row.balance)} for row in account.rows],
        "total_due": _money(account.total_due),
        "total_received": _money(account.total_received),
        "balance": _money(account.balance),
        "final_settlement": _money(account.settlement),
        "settled": account.settled,
    }


@bilans_cli.command("account")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON (montants en chaînes à deux décimales).")
@command_transaction
def account_command(code, as_json):
    """Relevé de compte FSE+ : avances, FSE+ dû, attendu et reçu par bilan, solde courant."""
    operation = find_operation(code.strip())
    if operation is None:
        raise DomainError(N_("Opération inconnue : %(code)s."), code=code)
    account = statement_of_account(operation)
    if as_json:
        click.echo(json.dumps(account_json(account), ensure_ascii=False, indent=2))
        return
    blank = ""
    click.echo(f"{translate(N_('Relevé de compte FSE+'))} : {operation.code}")
    click.echo(f"  {blank:<34}{translate(N_('FSE+ dû')):>16}{translate(N_('Attendu')):>16}"
               f"{translate(N_('Reçu')):>16}{translate(N_('Écart')):>16}{translate(N_('Solde')):>16}")
    for row in account.rows:
        def cell(value):
            return "" if value is None else format_money(value)
        label = row.label + (f" ({format_day(row.day)})" if row.day and row.received is not None else "")
        click.echo(f"  {label:<34}{cell(row.due):>16}{cell(row.expected):>16}{cell(row.received):>16}"
                   f"{cell(row.difference):>16}{cell(row.balance):>16}")
    click.echo(f"  {translate(N_('Total FSE+ dû')):<34}{format_money(account.total_due):>16}")
    click.echo(f"  {translate(N_('Total reçu (avances et paiements)')):<34}{format_money(account.total_received):>16}")
    if account.settlement is not None:
        click.echo(f"  {translate(N_('Solde du bilan final')):<34}{format_money(account.settlement):>16}")

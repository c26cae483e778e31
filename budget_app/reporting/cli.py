"""``flask reporting rebuild-figures [--verify] [--today YYYY-MM-DD]``: the figures the
operations table keeps per operation (``kept_figures``), computed again for every
operation and kept; with ``--verify``, compared with a full computation instead (nothing
written), exit status 1 on any difference. Run it after the upgrade that creates them
(else the first home page computes them) or to check them."""
import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..claims.figures import plan_context
from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.formatting import format_money, today_in_paris
from ..kernel.money import parse_day
from ..kernel.transactions import fail
from ..operations.models import Operation
from .kept_figures import differences, rebuild

reporting_cli = AppGroup("reporting", help="Tableaux de bord : chiffres conservés par opération.")


def _amount(value) -> str:
    return "—" if value is None else format_money(value)


@reporting_cli.command("rebuild-figures")
@click.option("--verify", is_flag=True, help="Compare les chiffres conservés au calcul complet, sans rien écrire.")
@click.option("--today", "today_text", help="Date du jour AAAA-MM-JJ (par défaut : aujourd'hui à Paris).")
def rebuild_figures_command(verify, today_text):
    """Recalcule (ou vérifie) les chiffres conservés de chaque opération."""
    try:
        today = parse_day(today_text) if today_text else today_in_paris()
    except DomainError as exc:
        fail(exc.lines())
    operations = db.session.scalars(select(Operation).order_by(Operation.code)).all()

    def rates_of(operation):
        return plan_context(operation)["rates"]

    if not verify:
        count = rebuild(operations, rates_of, today)
        db.session.commit()
        click.echo(f"Chiffres recalculés et conservés pour {count} opération(s), au {today.isoformat()}.")
        return
    found, checked = differences(operations, rates_of, today)
    db.session.rollback()
    for operation, category, kept, computed in found:
        click.echo(f"Écart : {operation.code}, {category} : conservé {_amount(kept)}, calculé {_amount(computed)}.")
    click.echo(f"{checked} opération(s) vérifiée(s) au {today.isoformat()} ({len(operations) - checked} à recalculer "
               f"à la prochaine lecture) : {len(found)} écart(s).")
    if found:
        raise SystemExit(1)


COMMANDS = (reporting_cli,)

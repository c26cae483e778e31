"""Command line of the état récapitulatif (statement of expenditure): `flask statements
export` for one operation and period, `flask statements export-all` for the monthly cron.
A period that a bilan covers exactly is exported as that bilan. The older names
`flask claims export` and `flask claims export-all` still work (``claims/cli.py``)."""
from contextlib import contextmanager
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from ..kernel.audit import services as audit
from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.formatting import format_money
from ..kernel.i18n import N_
from ..kernel.money import parse_day
from ..kernel.transactions import fail
from ..operations.models import Operation
from ..operations.services import find_operation
from . import exports, pdf
from .periods import month_period
from .report import ClaimReport, statement_report

statements_cli = AppGroup("statements", help="États récapitulatifs des dépenses : export d'une période, export mensuel.")


def _fail(message: str):
    fail([message])


def _period(month, start, end):
    try:
        if month:
            if start or end:
                raise DomainError(N_("Donnez --month, ou --from et --to, pas les deux."))
            return month_period(month)
        if not (start and end):
            raise DomainError(N_("Donnez --month AAAA-MM, ou --from AAAA-MM-JJ et --to AAAA-MM-JJ."))
        return parse_day(start), parse_day(end)
    except DomainError as exc:
        _fail(str(exc))


def _operation(code):
    operation = find_operation(code)
    if operation is None:
        _fail(f"Opération inconnue : {code}.")
    return operation


@contextmanager
def written(tmp: Path, path: Path):
    """Write to ``tmp``, then give it its final name: never a half-written file under the final
    name, nor a ``.part`` left behind. A refusal is said; anything else is logged by its kind
    only (a cell's text may be confidential) and said as a failure, exit 1."""
    try:
        yield
    except DomainError as exc:
        tmp.unlink(missing_ok=True)
        _fail(str(exc))
    except Exception as exc:  # noqa: BLE001 (said to the user, never a traceback)
        tmp.unlink(missing_ok=True)
        current_app.logger.error("export to %s failed: %s", path.name, type(exc).__name__)
        _fail(f"le fichier {path.name} n'a pas pu être écrit ({type(exc).__name__}) ; rien n'a été écrit.")
    tmp.replace(path)


def _export(operation, start, end, path: Path, fmt: str, dialect: str = "fr") -> ClaimReport:
    try:
        report = statement_report(operation, start, end)  # the page's buttons write the same
    except DomainError as exc:
        _fail(str(exc))
    claim = report.claim
    tmp = path.with_name(path.name + ".part")
    with written(tmp, path):
        if fmt == "csv":
            with open(tmp, "w", encoding="utf-8", newline="") as stream:
                exports.write_csv(report, stream, dialect)
        elif fmt == "pdf":
            pdf.write_pdf(report, tmp)
        else:
            exports.write_xlsx(report, tmp)
    audit.record("claim_export", "operations", operation.id, after={
        "format": fmt, "start": start, "end": end, "claim": getattr(claim, "number", None),
        "total": report.figures.total, "file": path.name,
    })
    db.session.commit()
    return report


@statements_cli.command("export")
@click.argument("code")
@click.option("--month", help="Mois AAAA-MM.")
@click.option("--from", "start", help="Début AAAA-MM-JJ.")
@click.option("--to", "end", help="Fin AAAA-MM-JJ.")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "pdf"]), default="xlsx", show_default=True)
@click.option("--dialect", type=click.Choice(sorted(exports.CSV_DIALECTS)), default="fr", show_default=True,
              help="CSV : fr (« ; », virgule décimale) ou excel-en (« , », point décimal).")
def export_command(code, month, start, end, output, fmt, dialect):
    """Exporte l'état récapitulatif de la période (le bilan de cette période s'il existe)."""
    operation = _operation(code)
    start, end = _period(month, start, end)
    report = _export(operation, start, end, output, fmt, dialect)
    click.echo(
        f"{output} : {operation.code} du {start:%d/%m/%Y} au {end:%d/%m/%Y}, "
        f"total {format_money(report.figures.total)}, FSE+ demandé {format_money(report.figures.fse_asked)}."
    )


@statements_cli.command("export-all")
@click.option("--month", required=True, help="Mois AAAA-MM.")
@click.option("--dir", "directory", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "pdf"]), default="xlsx", show_default=True)
def export_all_command(month, directory, fmt):
    """Un fichier par opération en cours dont la période d'éligibilité couvre le mois."""
    start, end = _period(month, None, None)
    directory.mkdir(parents=True, exist_ok=True)
    operations = db.session.scalars(
        select(Operation).where(
            Operation.status == "running", Operation.start_date <= end, Operation.end_date >= start
        ).order_by(Operation.code)
    ).all()
    for operation in operations:
        path = directory / f"{operation.code}-{month}.{fmt}"
        report = _export(operation, start, end, path, fmt)
        click.echo(f"{path} : total {format_money(report.figures.total)}, "
                   f"FSE+ demandé {format_money(report.figures.fse_asked)}.")
    if not operations:
        click.echo(f"Aucune opération en cours en {month}.")

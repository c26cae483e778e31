"""Command line of the expenses domain: `flask --app budget_app expenses ...`."""
import sys
from datetime import datetime
from pathlib import Path

import click
from flask.cli import AppGroup

from ..kernel.errors import DomainError
from ..kernel.extensions import db
from ..kernel.formatting import format_day, format_percent, today_in_paris
from ..kernel.i18n import N_
from ..kernel.money import parse_day, parse_decimal
from ..kernel.tabular import PROBLEMS_SHOWN
from ..kernel.transactions import command_transaction, fail
from ..operations.retention import lift_procedure, live_procedures, place_procedure, update_extensions
from ..operations.models import Operation
from ..operations.commands import operation_or_fail
from ..operations.services import find_operation
from ..kernel.uploads import check_document, too_large
from .credit_note_cli import credit_note_command
from .document_bundle import import_documents_command
from .imports import import_file
from .models import Expense
from .purge import delete_stored, personal_data_left_on, purge_candidates, purge_documents
from .services import add_document
from .vat import set_vat_prorata

expenses_cli = AppGroup("expenses", help="Dépenses : import de fichiers.")
retention_cli = AppGroup("retention", help="Conservation des pièces (RPDC art. 82).")

# Above this many rows a progress bar is drawn on the terminal.
PROGRESS_FROM = 200


@expenses_cli.command("import")
@click.argument("code")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(code, file):
    """Importe les dépenses du fichier FILE (XLSX ou CSV) dans l'opération CODE.

    Tout ou rien : au moindre problème, rien n'est écrit, chaque problème est affiché
    (« ligne N, colonne X : message ») et la commande sort avec le code 1."""
    operation = operation_or_fail(code)
    content = file.read_bytes()

    def progress(rows, length):
        if length < PROGRESS_FROM or not sys.stderr.isatty():
            return rows
        return _bar(rows, length)

    try:
        result = import_file(operation, content, file.name, progress=progress)
    except DomainError as refused:
        click.echo(f"Erreur : fichier refusé, rien n'a été importé ({len(refused.problems)} problème(s)).", err=True)
        for problem in refused.problems[:PROBLEMS_SHOWN]:
            click.echo(str(problem), err=True)
        if len(refused.problems) > PROBLEMS_SHOWN:
            click.echo(f"… et {len(refused.problems) - PROBLEMS_SHOWN} autre(s) problème(s).", err=True)
        fail([])
    db.session.commit()
    for row in result.skipped:
        click.echo(f"ligne {row.line} : déjà enregistrée (dépense n° {row.already_recorded.expense_id}), ignorée")
    for row in result.warnings:
        for match in row.warnings:
            where = f"ligne {match.file_line} du fichier" if match.file_line else f"{match.operation_code} n° {match.expense_id}"
            click.echo(f"ligne {row.line} : doublon possible, {match.reason} ({where})")
        if row.more_warnings:
            click.echo(f"ligne {row.line} : … et {row.more_warnings} autre(s) doublon(s) possible(s)")
    click.echo(f"{len(result.to_import)} dépense(s) importée(s), {len(result.skipped)} déjà enregistrée(s) ignorée(s).")


def _bar(rows, length):
    with click.progressbar(rows, length=length, label="Vérification", file=sys.stderr) as bar:
        yield from bar


@retention_cli.command("purge")
@click.option("--before", "before", required=True, help="Date (JJ/MM/AAAA ou AAAA-MM-JJ) : opérations dont la "
              "conservation a pris fin avant cette date.")
@click.option("--manifest", "manifest", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Manifeste CSV des pièces supprimées (par défaut retention-purge-AAAAMMJJ-HHMMSS.csv).")
@click.option("--yes", is_flag=True, help="Ne pas demander de confirmation.")
def purge_command(before, manifest, yes):
    """Supprime les pièces justificatives des opérations dont la conservation (5 ans à compter du
    31 décembre de l'année du paiement final, RPDC art. 82) a pris fin avant BEFORE, après
    confirmation ; le journal d'audit est conservé et un manifeste liste les pièces supprimées."""
    try:
        before = parse_day(before)
    except DomainError as error:
        fail(error.lines())
    today = today_in_paris()
    # The daily computation first: a cause under way since its last run is applied before
    # anything is listed (the deletion is refused at the flush anyway).
    update_extensions(today)
    db.session.commit()
    candidates = purge_candidates(before, today)
    if not candidates:
        click.echo(f"Aucune opération dont la conservation a pris fin avant le {format_day(before, 'fr')} "
                   "ne détient encore de pièces ni de données de participants.")
        return
    for item in candidates:
        click.echo(f"{item.operation.code} : conservation jusqu'au {format_day(item.retention.end, 'fr')}, "
                   f"{item.documents} pièce(s), {personal_data_left_on(item.operation.id)} participant(s) à effacer")
    total = sum(item.documents for item in candidates)
    manifest = manifest or Path(f"retention-purge-{datetime.now():%Y%m%d-%H%M%S}.csv")
    if manifest.exists():
        fail([f"le manifeste {manifest} existe déjà."])
    if not yes:
        answer = click.prompt(f"Supprimer définitivement ces {total} pièce(s) ? (oui/non)", default="non",
                              show_default=False)
        if answer.strip().lower() not in ("o", "oui", "y", "yes"):
            fail(["suppression abandonnée, rien n'a été supprimé."])
    try:
        files = purge_documents(candidates, manifest, today)
    except DomainError as error:
        fail(error.lines())
    db.session.commit()
    kept = delete_stored(files)
    click.echo(f"{total} pièce(s) supprimée(s) ; manifeste : {manifest}")
    for name in kept:
        click.echo(f"Erreur : fichier non supprimé du stockage : {name}", err=True)
    if kept:
        sys.exit(1)


def _operation(code):
    operation = find_operation(code)
    if operation is None:
        raise DomainError(N_("Opération inconnue : %(code)s."), code=code)
    return operation


@retention_cli.command("hold")
@click.argument("code")
@click.option("--reason", required=True, help="La procédure en cours (ex. « Procédure judiciaire n° … »).")
@command_transaction
def hold_command(code, reason):
    """Prolonge la conservation des pièces de l'opération CODE tant qu'une procédure est en
    cours (RPDC art. 82(2) : procédure judiciaire ou demande motivée de la Commission)."""
    operation = _operation(code)
    place_procedure(operation, reason)
    click.echo(f"{operation.code} : procédure enregistrée ; la conservation est prolongée au prochain calcul "
               "quotidien (`retention update`).")


@retention_cli.command("release")
@click.argument("code")
@command_transaction
def release_command(code):
    """Lève la procédure enregistrée par `retention hold` sur l'opération CODE."""
    operation = _operation(code)
    lift_procedure(operation)
    click.echo(f"{operation.code} : procédure levée ; au prochain calcul quotidien (`retention update`), la "
               "conservation suit de nouveau le paiement final si rien d'autre ne la prolonge.")


@retention_cli.command("procedures")
def procedures_command():
    """Liste les procédures enregistrées par `retention hold` et non levées, avec leur motif."""
    procedures = live_procedures()
    if not procedures:
        click.echo("Aucune procédure enregistrée.")
    for procedure in procedures:
        operation = db.session.get(Operation, procedure.operation_id)
        click.echo(f"{operation.code} : depuis le {format_day(procedure.placed_at, 'fr')} — {procedure.reason}")


@retention_cli.command("update")
@click.option("--today", "today", default=None, help="Comme si l'on était ce jour (JJ/MM/AAAA ou AAAA-MM-JJ).")
@command_transaction
def update_command(today):
    """Le calcul quotidien de la conservation (cron, chaque nuit) : prolonge la conservation des
    opérations concernées par une procédure en cours, quelle qu'en soit la cause, et lève les
    prolongations dont la cause a pris fin ; une entrée du journal d'audit pour chacune."""
    day = parse_day(today) if today else today_in_paris()
    opened, closed = update_extensions(day)
    click.echo(f"Conservation à jour au {format_day(day, 'fr')} : {opened} prolongation(s) ouverte(s), "
               f"{closed} levée(s).")


documents_cli = AppGroup("documents", help="Pièces justificatives d'une dépense.")
expenses_cli.add_command(documents_cli)


@documents_cli.command("attach")
@click.argument("code")
@click.argument("line", type=int)
@click.option("--invoice", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="La facture (ou pièce de valeur probante équivalente).")
@click.option("--proof", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="La preuve de paiement (relevé, mandat).")
@click.option("--other", type=click.Path(exists=True, dir_okay=False, path_type=Path), multiple=True,
              help="Une autre pièce (répétable).")
@command_transaction
def attach_command(code, line, invoice, proof, other):
    """Joint des pièces à la dépense n° LINE de l'opération CODE (son numéro sur sa page),
    avec les contrôles de la page : type du fichier lu dans son contenu, taille, SHA-256,
    fichier déjà joint ailleurs signalé. Tout ou rien."""
    operation = find_operation(code)
    if operation is None:
        raise DomainError(N_("Opération inconnue : %(code)s."), code=code)
    expense = db.session.get(Expense, line)
    if expense is None or expense.operation_id != operation.id or expense.deleted_at is not None:
        raise DomainError(N_("Aucune dépense n° %(line)s dans l'opération %(code)s."), line=line, code=code)
    files = [("invoice", invoice), ("payment", proof), *(("other", path) for path in other)]
    files = [(kind, path) for kind, path in files if path is not None]
    if not files:
        raise DomainError(N_("Indiquez au moins un fichier : --invoice, --proof ou --other."))
    contents = []
    for kind, path in files:  # every file checked before any is stored: all or nothing
        data = path.read_bytes()
        try:
            if too_large(data):
                raise DomainError(N_("fichier trop volumineux."))
            check_document(path.name, data)
        except DomainError as error:
            raise DomainError(N_("%(name)s : %(error)s"), name=path.name, error=str(error)) from error
        contents.append((kind, path.name, data))
    said = []
    for kind, name, data in contents:
        _document, same = add_document(expense, kind, name, data)
        said.append(f"{name} joint à la dépense n° {line}.")
        said.extend(f"Attention : {name} est déjà joint ailleurs (même contenu, dépense n° {twin.expense_id})."
                    for twin in same)
    click.echo("\n".join(said))
    state = "complète" if expense.is_complete else "incomplète"
    click.echo(f"Dépense n° {line} : {state}.")


expenses_cli.add_command(credit_note_command)
documents_cli.add_command(import_documents_command)

COMMANDS = [expenses_cli, retention_cli]


@expenses_cli.command("vat-prorata")
@click.argument("code")
@click.argument("year", type=int)
@click.argument("percent")
@command_transaction
def vat_prorata_command(code, year, percent):
    """Enregistre le prorata de TVA (PERCENT, en %) de l'opération CODE pour l'année YEAR ;
    recalcule les dépenses à TVA partiellement récupérable de cette année qui ne sont ni
    déclarées dans un bilan ni en attente (les autres gardent leur montant)."""
    operation = operation_or_fail(code)
    outcome = set_vat_prorata(operation, year, parse_decimal(percent.strip().rstrip("%").strip(), places=4))
    click.echo(f"Prorata de TVA {year} de {operation.code} : {format_percent(outcome.percent, 'fr', places=None)} ; "
               f"{outcome.recomputed} dépense(s) recalculée(s), {outcome.kept} déclarée(s) ou en attente inchangée(s).")

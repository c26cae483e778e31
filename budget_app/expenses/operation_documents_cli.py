"""`flask --app budget_app operations documents ...`: the operation's documents (agreement,
amendments, publicity evidence, procurement files), attached and listed as the operation page
does (``operation_documents``). The group is added to ``operations`` by ``create_app``'s
composition root (``budget_app.SUBCOMMANDS``)."""
from pathlib import Path

import click
from flask.cli import AppGroup

from ..kernel.formatting import format_day, format_money
from ..kernel.transactions import command_transaction
from ..operations.commands import operation_or_fail
from . import operation_documents as documents
from .models import OPERATION_DOCUMENT_KINDS

documents_cli = AppGroup("documents", help="Documents de l'opération : convention, avenants, publicité, "
                                           "mise en concurrence.")


@documents_cli.command("attach")
@click.argument("code")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--kind", required=True, help="agreement (convention), amendment (avenant), publicity (publicité, "
                                            "RPDC art. 50), procurement (mise en concurrence).")
@click.option("--amendment", help="Avenant signé : son numéro (n° d'avenant).")
@click.option("--expense", "expense_ids", type=int, multiple=True,
              help="Mise en concurrence : n° d'une dépense couverte (répétable).")
@click.option("--description", help="Ce que montre le document (ex. « affiche à l'accueil »).")
@command_transaction
def attach_command(code, path, kind, amendment, expense_ids, description):
    """Joint le fichier PATH aux documents de l'opération CODE."""
    operation = operation_or_fail(code)
    document, same = documents.attach_document(operation, kind.strip(), Path(path).name, Path(path).read_bytes(),
                                               amendment=amendment, expense_ids=expense_ids,
                                               description=description)
    click.echo(f"{document.original_name} joint (document n° {document.id}) : {OPERATION_DOCUMENT_KINDS[kind]}"
               f"{_what(document)}, SHA-256 {document.sha256}.")
    for other in same:
        click.echo(f"Attention : le même fichier est déjà joint ({other.original_name}).")


@documents_cli.command("remove")
@click.argument("code")
@click.argument("document_id", type=int)
@click.option("--reason", required=True, help="Pourquoi le document est retiré.")
@command_transaction
def remove_command(code, document_id, reason):
    """Retire le document n° DOCUMENT_ID de l'opération CODE (joint par erreur) ; il reste
    conservé jusqu'à la purge de fin de conservation."""
    operation = operation_or_fail(code)
    document = documents.find_document(operation, document_id)
    documents.remove_document(document, reason)
    click.echo(f"Document n° {document.id} ({document.original_name}) retiré.")


def _what(document) -> str:
    if document.kind == "amendment":
        return f" n° {document.plan_version.amendment_number} (version {document.plan_version.number})"
    if document.kind == "procurement":
        return ", dépense(s) " + ", ".join(f"n° {cover.expense_id}" for cover in document.covers)
    return ""


def _expected_label(item) -> str:
    label = OPERATION_DOCUMENT_KINDS[item.kind]
    if item.version is not None:
        return f"{label} n° {item.version.amendment_number} (version {item.version.number})"
    if item.expense is not None:
        expense = item.expense
        return (f"Mise en concurrence, dépense n° {expense.id} : {expense.supplier_name}, {expense.label}, "
                f"{format_money(expense.amount_excl_vat)} HT")
    return label


@documents_cli.command("list")
@click.argument("code")
def list_command(code):
    """Ce que le prochain bilan demande (attendu → présent → manquant), puis les documents retirés."""
    operation = operation_or_fail(code)
    dossier = documents.expectations(operation)
    click.echo(f"{operation.code} — documents de l'opération (mise en concurrence exigée à partir de "
               f"{format_money(dossier.threshold)} HT)")
    for item in dossier.items:
        state = "présent" if item.present else ("manquant" if item.required else "non exigé")
        click.echo(f"[{state}] {_expected_label(item)}")
        for document in item.documents:
            described = f" — {document.description}" if document.description else ""
            click.echo(f"    n° {document.id} {document.original_name}{described} (SHA-256 {document.sha256}, "
                       f"joint le {format_day(document.uploaded_at)})")
    click.echo(f"Manquants : {len(dossier.missing)}.")
    for document in dossier.documents:
        if document.removed_at is not None:
            click.echo(f"Retiré le {format_day(document.removed_at)} : n° {document.id} {document.original_name} "
                       f"({OPERATION_DOCUMENT_KINDS[document.kind]}) — {document.removal_reason}")

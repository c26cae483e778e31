"""`flask expenses documents import CODE FILE.zip`: the documents of many expenses at once,
the import variant of `expenses documents attach` (same service, same checks).

The ZIP holds the documents and, at its root, a spreadsheet `pieces.csv` or `pieces.xlsx`
naming, for each expense (its number as its page shows it), the files of the archive to
attach: « Dépense n° », « Facture », « Preuve de paiement », « Autre pièce » (paths inside
the archive, e.g. `factures/FA-1042.pdf`). Every row and every file is checked first (the
expense exists in the operation and is not declared in a bilan, each file is in the
archive, of an accepted type read from its content, not too large); one problem anywhere
and nothing is attached: each problem names its row and column. Nothing is extracted to
disk: the files are read from the archive by name.
"""
import io
import zipfile

import click

from ..kernel.errors import DomainError, Problem
from ..kernel.extensions import db
from ..kernel.i18n import N_
from ..kernel.integers import parse_id
from ..kernel.tabular import RowReader, cell_text, read_table
from ..kernel.transactions import command_transaction
from ..kernel.uploads import MAX_ZIP_ENTRIES, MAX_ZIP_RATIO, MAX_ZIP_UNCOMPRESSED, check_document, too_large
from ..operations.services import find_operation
from .models import Expense
from .services import add_document, frozen_reason

COLUMNS = {"line": "Dépense n°", "invoice": "Facture", "payment": "Preuve de paiement", "other": "Autre pièce"}
REQUIRED = frozenset({"line"})
INDEXES = ("pieces.csv", "pieces.xlsx")
KINDS = ("invoice", "payment", "other")


def _open(content: bytes) -> zipfile.ZipFile:
    """The archive, refused before anything is read when it is not one or would unpack too
    much (ASVS 12.1.2, as for spreadsheets)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise DomainError(N_("Archive ZIP illisible.")) from None
    total = sum(entry.file_size for entry in entries)
    if len(entries) > MAX_ZIP_ENTRIES or total > MAX_ZIP_UNCOMPRESSED or total > MAX_ZIP_RATIO * max(len(content), 1):
        raise DomainError(N_("Archive refusée : trop de fichiers ou contenu décompressé trop volumineux."))
    return archive


def _read(archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, NotImplementedError):
        raise DomainError(N_("« %(name)s » est illisible dans l'archive."), name=name) from None


def check_bundle(operation, content: bytes) -> tuple[list, list[Problem]]:
    """([(expense, kind, name in the archive)], problems); nothing is written."""
    archive = _open(content)
    names = {info.filename for info in archive.infolist() if not info.is_dir()}
    index = next((name for name in INDEXES if name in names), None)
    if index is None:
        raise DomainError(N_("L'archive ne contient pas, à sa racine, de tableau pieces.csv ou pieces.xlsx."))
    table = read_table(_read(archive, index), COLUMNS, REQUIRED)
    problems = list(table.problems)
    if problems:
        return [], problems
    if not table.rows:
        raise DomainError(N_("Le tableau %(index)s ne contient aucune ligne."), index=index)
    planned, seen = [], {}
    for row in table.rows:
        read = RowReader(row, COLUMNS, problems)
        text = read("line", cell_text, max_length=20)
        files = [(kind, read(kind, cell_text, required=False, max_length=500)) for kind in KINDS]
        if not read.ok:
            continue
        number = parse_id((text or "").lstrip("#").strip())
        expense = db.session.get(Expense, number) if number is not None else None
        if expense is None or expense.operation_id != operation.id or expense.deleted_at is not None:
            read.fail("line", DomainError(N_("aucune dépense n° %(line)s dans l'opération %(code)s"),
                                          line=text, code=operation.code))
            continue
        frozen = frozen_reason(expense, kinds=("declared",))
        if frozen is not None:
            read.fail("line", frozen)
            continue
        files = [(kind, name.replace("\\", "/")) for kind, name in files if name]
        if not files:
            read.fail("line", DomainError(N_("aucune pièce indiquée (Facture, Preuve de paiement ou Autre pièce)")))
        for kind, name in files:
            if name in seen:
                read.fail(kind, DomainError(N_("« %(name)s » est déjà nommé ligne %(line)s"), name=name, line=seen[name]))
                continue
            seen[name] = row.line
            if name not in names or name in INDEXES:
                read.fail(kind, DomainError(N_("« %(name)s » n'est pas dans l'archive"), name=name))
                continue
            try:
                data = _read(archive, name)
                if too_large(data):
                    raise DomainError(N_("« %(name)s » : fichier trop volumineux."), name=name)
                check_document(name, data)
            except DomainError as error:
                read.fail(kind, error)
                continue
            planned.append((expense, kind, name))
    return planned, problems


def import_bundle(operation, content: bytes) -> list:
    """Check everything, then attach every file (``services.add_document``, the page's
    service); raises DomainError listing every problem, nothing attached."""
    planned, problems = check_bundle(operation, content)
    if problems:
        raise DomainError(problems=problems)
    archive = _open(content)
    done = []
    for expense, kind, name in planned:
        _document, same = add_document(expense, kind, name.rsplit("/", 1)[-1], _read(archive, name))
        done.append((expense, name, same))
    return done


@click.command("import")
@click.argument("code")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@command_transaction
def import_documents_command(code, file):
    """Joint les pièces d'une archive ZIP (fichiers + tableau pieces.csv ou pieces.xlsx : Dépense n°,
    Facture, Preuve de paiement, Autre pièce) aux dépenses de l'opération CODE. Tout ou rien."""
    operation = find_operation(code.strip())
    if operation is None:
        raise DomainError(N_("Opération inconnue : %(code)s."), code=code)
    with open(file, "rb") as handle:
        content = handle.read()
    done = import_bundle(operation, content)
    for expense, name, same in done:
        click.echo(f"{name} joint à la dépense n° {expense.id}.")
        for twin in same:
            click.echo(f"Attention : {name} est déjà joint ailleurs (même contenu, dépense n° {twin.expense_id}).")
    expenses = {expense.id: expense for expense, _name, _same in done}
    complete = sum(1 for expense in expenses.values() if expense.is_complete)
    click.echo(f"{len(done)} pièce(s) jointe(s) à {len(expenses)} dépense(s), dont {complete} désormais complète(s).")

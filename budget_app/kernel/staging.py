"""Import files waiting for confirmation: preview → confirm, one way for every import.

The first POST checks the file and, when it can be imported, stages it: kept in the storage
(kernel.storage: 0600 under ``<uploads>/imports/<random token>``, or that key of the bucket,
so that any app server can confirm it), its SHA-256 and owner kept in the user's
session. The confirmation takes it back only with the same token, for the same import
and operation, and only if the bytes are those that were previewed (SHA-256). Files are
removed once taken (confirmed, or refused for a wrong token), discarded (cancel: the
import page opened again; a new file staged for the same import), and every staging
removes files older than a day; ``flask imports cleanup`` does too (e.g. from cron).
"""
import os
import secrets
import time
from dataclasses import dataclass

import click
from flask import request, session
from flask.cli import with_appcontext

from . import storage

MAX_AGE_SECONDS = 24 * 3600
# A folder of the storage (kernel.storage); `backup create` leaves it out.
DIRECTORY_NAME = "imports"


@dataclass
class Staged:
    token: str
    filename: str
    content: bytes


def _key(token: str) -> str:
    if not token or not token.isalnum():
        raise FileNotFoundError(token)
    return f"{DIRECTORY_NAME}/{token}"


def remove_stale(max_age: int = MAX_AGE_SECONDS) -> int:
    """Remove staged files older than ``max_age`` seconds; returns how many."""
    limit = time.time() - max_age
    removed = 0
    for entry in list(storage.iterate(DIRECTORY_NAME + "/")):
        if entry.modified < limit:
            storage.delete(entry.key)
            removed += 1
    return removed


def stage(kind: str, scope: str, content: bytes, filename: str) -> str:
    """Keep ``content`` for the confirmation of import ``kind`` on ``scope`` (an operation
    code); returns the token the confirmation form carries."""
    remove_stale()
    discard(kind)  # a file staged earlier for the same import is never confirmed now
    token = secrets.token_hex(16)
    stored = storage.put(content, _key(token))
    session[f"import:{kind}"] = {
        "token": token,
        "scope": scope,
        "filename": os.path.basename(filename or "")[:255] or "import",
        "sha256": stored.sha256,
    }
    return token


def _read(pending: dict) -> bytes | None:
    """The staged bytes, only while they are those previewed (SHA-256), else None."""
    try:
        return storage.read(_key(str(pending.get("token", ""))), sha256=str(pending.get("sha256", "")))
    except (OSError, storage.StorageError):
        return None


def take(kind: str, scope: str, token: str | None) -> Staged | None:
    """The staged file of this session, import and scope, or None (expired, another
    user's, changed in the storage). The session entry is dropped either way."""
    pending = session.pop(f"import:{kind}", None) or {}
    content = _read(pending)
    try:
        storage.delete(_key(str(pending.get("token", ""))))  # taken or refused: never left behind
    except FileNotFoundError:
        pass
    if content is None:
        return None
    if not token or not secrets.compare_digest(str(pending.get("token", "")), str(token)):
        return None
    if pending.get("scope") != scope:
        return None
    return Staged(str(pending["token"]), pending.get("filename") or "import", content)


def peek(kind: str, scope: str) -> Staged | None:
    """The staged file of this session, import and scope, left staged (another page of its
    preview); None when there is none or it changed in the storage."""
    pending = session.get(f"import:{kind}") or {}
    if pending.get("scope") != scope:
        return None
    content = _read(pending)
    if content is None:
        return None
    return Staged(str(pending["token"]), pending.get("filename") or "import", content)


def discard(kind: str) -> None:
    pending = session.pop(f"import:{kind}", None) or {}
    try:
        storage.delete(_key(pending.get("token", "")))
    except FileNotFoundError:
        pass


def preview(kind: str, scope: str, form, check, missing_file: str) -> tuple:
    """One request of an import page with preview (expenses, unit records): another page of
    the staged file's preview (GET ``?page=``: the file is checked again, nothing but the file
    is kept between requests); the empty form (GET: a staged file is dropped, « Annuler »
    comes back here); or a file sent (POST: checked with ``check(content)``, which writes
    nothing, and staged when it can be imported). Returns (result, token, error): ``error``
    is ``missing_file`` when no file came with a valid form."""
    if request.method == "GET":
        staged = peek(kind, scope) if "page" in request.args else None
        if staged is not None:
            return check(staged.content), staged.token, None
        discard(kind)
        return None, None, None
    upload = request.files.get("file")
    if not form.validate() or upload is None or not upload.filename:
        return None, None, missing_file
    content = upload.read()
    result = check(content)
    token = stage(kind, scope, content, upload.filename) if not result.problems and result.to_import else None
    return result, token, None


@click.command("imports")
@click.argument("action", type=click.Choice(["cleanup"]))
@click.option("--hours", type=click.IntRange(min=0), default=24, show_default=True,
              help="remove staged files older than this")
@with_appcontext
def imports_command(action, hours):
    """`flask imports cleanup`: removes staged import files never confirmed."""
    removed = remove_stale(hours * 3600)
    click.echo(f"{removed} fichier(s) d'import en attente supprimé(s).")

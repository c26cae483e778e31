"""Import files waiting for confirmation: preview → confirm, one way for every import.

The first POST checks the file and, when it can be imported, stages it: written 0600
under ``<uploads>/imports/<random token>``, its SHA-256 and owner kept in the user's
session. The confirmation takes it back only with the same token, for the same import
and operation, and only if the bytes are those that were previewed (SHA-256). Files are
removed once taken (confirmed, or refused for a wrong token), discarded (cancel: the
import page opened again; a new file staged for the same import), and every staging
removes files older than a day; ``flask imports cleanup`` does too (e.g. from cron).
"""
import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import click
from flask import session
from flask.cli import with_appcontext

from .uploads import upload_dir

MAX_AGE_SECONDS = 24 * 3600
# Under the upload folder; `backup create` leaves it out.
DIRECTORY_NAME = "imports"


@dataclass
class Staged:
    token: str
    filename: str
    content: bytes


def _directory() -> Path:
    path = upload_dir() / DIRECTORY_NAME
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _path(token: str) -> Path:
    if not token or not token.isalnum():
        raise FileNotFoundError(token)
    return _directory() / token


def remove_stale(max_age: int = MAX_AGE_SECONDS) -> int:
    """Remove staged files older than ``max_age`` seconds; returns how many."""
    limit = time.time() - max_age
    removed = 0
    for path in _directory().iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


def stage(kind: str, scope: str, content: bytes, filename: str) -> str:
    """Keep ``content`` for the confirmation of import ``kind`` on ``scope`` (an operation
    code); returns the token the confirmation form carries."""
    remove_stale()
    discard(kind)  # a file staged earlier for the same import is never confirmed now
    token = secrets.token_hex(16)
    fd = os.open(_path(token), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    session[f"import:{kind}"] = {
        "token": token,
        "scope": scope,
        "filename": os.path.basename(filename or "")[:255] or "import",
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    return token


def take(kind: str, scope: str, token: str | None) -> Staged | None:
    """The staged file of this session, import and scope, or None (expired, another
    user's, changed on disk). The session entry is dropped either way."""
    pending = session.pop(f"import:{kind}", None) or {}
    try:
        path = _path(str(pending.get("token", "")))
        content = path.read_bytes()
    except OSError:
        return None
    path.unlink(missing_ok=True)  # taken or refused: never left behind
    if not token or not secrets.compare_digest(str(pending.get("token", "")), str(token)):
        return None
    if pending.get("scope") != scope:
        return None
    if hashlib.sha256(content).hexdigest() != pending.get("sha256"):
        return None
    return Staged(token, pending.get("filename") or "import", content)


def peek(kind: str, scope: str) -> Staged | None:
    """The staged file of this session, import and scope, left staged (another page of its
    preview); None when there is none or it changed on disk."""
    pending = session.get(f"import:{kind}") or {}
    if pending.get("scope") != scope:
        return None
    try:
        content = _path(str(pending.get("token", ""))).read_bytes()
    except OSError:
        return None
    if hashlib.sha256(content).hexdigest() != pending.get("sha256"):
        return None
    return Staged(str(pending["token"]), pending.get("filename") or "import", content)


def discard(kind: str) -> None:
    pending = session.pop(f"import:{kind}", None) or {}
    try:
        _path(pending.get("token", "")).unlink(missing_ok=True)
    except FileNotFoundError:
        pass


@click.command("imports")
@click.argument("action", type=click.Choice(["cleanup"]))
@click.option("--hours", type=click.IntRange(min=0), default=24, show_default=True,
              help="remove staged files older than this")
@with_appcontext
def imports_command(action, hours):
    """`flask imports cleanup`: removes staged import files never confirmed."""
    removed = remove_stale(hours * 3600)
    click.echo(f"{removed} fichier(s) d'import en attente supprimé(s).")

"""`backup create DIR` and `backup restore DIR` (README, "Backup and restore").

A backup is a directory: the database (PostgreSQL: ``pg_dump`` custom format; SQLite: a copy
made with the online backup API, consistent while the app runs), the stored files (supporting
documents and the encrypted alert attachments; from the upload folder or the bucket,
kernel.storage; staged imports left out) under ``uploads/<key>``, and
``manifest.json`` listing every file with its size and SHA-256. The secret key and the alert
encryption key are never in it, even when they sit in the upload folder: they are kept
apart (README says how), so that a stolen backup does not decrypt the alerts.

A restore goes into an empty database and an empty storage (folder or bucket) only, after checking every
file against the manifest (nothing missing, altered or added).
"""
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from . import staging, storage
from .extensions import db
from .transactions import fail

log = logging.getLogger("budget_app.backup")

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE_FILES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
UPLOADS = "uploads"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A refusal, said in French to the operator."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)


def key_files(app) -> set[Path]:
    """Files that must never be copied: the secret key and the alert key file."""
    instance = Path(app.instance_path)
    alert_key = app.config.get("ALERT_KEY_FILE") or instance / "alert_key"
    return {(instance / "secret_key").resolve(), Path(alert_key).resolve()}


def _libpq(url) -> tuple[str, dict]:
    """A libpq address for pg_dump/pg_restore; the password goes in the environment, never
    on a command line that `ps` shows."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    dsn = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return dsn, env


def _run(argv: list[str], env: dict) -> None:
    result = subprocess.run(argv, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{argv[0]} a échoué : {result.stderr.strip()[-2000:]}")


def _dialect() -> str:
    name = db.engine.dialect.name
    if name not in DATABASE_FILES:
        raise BackupError(f"base de données {name} non prise en charge (PostgreSQL ou SQLite)")
    return name


def _revision() -> str | None:
    try:
        with db.engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return None


def _key_file_keys(app, root: Path) -> set[str]:
    """The storage keys of key files misplaced in the upload folder ``root`` (local storage)."""
    root = root.resolve()
    keys = set()
    for path in key_files(app):
        try:
            keys.add(path.relative_to(root).as_posix())
        except ValueError:
            continue
    return keys


def kept_entries(store=None):
    """What the storage (or ``store``) keeps, but staged imports (files previewed, never
    confirmed, removed within a day: no data) and key files."""
    store = store or storage.store()
    root = store.root if isinstance(store, storage.LocalStore) else None
    skipped = _key_file_keys(current_app, root) if root is not None else set()
    for entry in store.iterate():
        if entry.key.startswith(staging.DIRECTORY_NAME + "/"):
            continue
        if entry.key in skipped:
            log.warning("event=backup_key_file_skipped")
            continue
        yield entry


def _copy_out(key: str, target: Path) -> None:
    _private_dir(target.parent)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with storage.open(key) as reader, os.fdopen(fd, "wb") as writer:
        shutil.copyfileobj(reader, writer, CHUNK)


def create_backup(target: Path) -> dict:
    """Write the backup into ``target`` (new, or empty and private); returns the manifest."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} existe et n'est pas un dossier vide")
    if target.exists() and target.stat().st_mode & 0o077:
        # A backup holds every supporting document and the database: an existing folder that
        # others may read or enter would hand them over (issue 21).
        raise BackupError(f"{target} est accessible à d'autres utilisateurs "
                          f"(droits {target.stat().st_mode & 0o777:04o}) : chmod 700 {target}, ou un dossier neuf")
    dialect = _dialect()
    _private_dir(target)
    database_file = target / DATABASE_FILES[dialect]
    db.session.commit()
    if dialect == "postgresql":
        dsn, env = _libpq(db.engine.url)
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-acl", "--file", str(database_file), dsn], env)
    else:
        source = sqlite3.connect(db.engine.url.database)
        copy = sqlite3.connect(database_file)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
    os.chmod(database_file, 0o600)
    # The documents, streamed from the storage (the upload folder or the bucket).
    for entry in kept_entries():
        _copy_out(entry.key, target / UPLOADS / entry.key)
    files = [
        {"path": path.relative_to(target).as_posix(), "size": path.stat().st_size, "sha256": sha256_of(path)}
        for path in sorted(target.rglob("*")) if path.is_file()
    ]
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "database": dialect,
        "revision": _revision(),
        "files": files,
    }
    fd = os.open(target / MANIFEST, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=1, ensure_ascii=False)
    log.info("event=backup_created files=%s", len(files))
    return manifest


def verify_backup(source: Path) -> dict:
    """The manifest, once every file matches it; BackupError listing every difference."""
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{source / MANIFEST} illisible ou absent") from exc
    if manifest.get("format") != FORMAT or manifest.get("database") not in DATABASE_FILES:
        raise BackupError(f"{source / MANIFEST} : format de sauvegarde inconnu")
    problems = []
    listed = set()
    for entry in manifest["files"]:
        relative = entry["path"]
        path = source / relative
        listed.add(relative)
        if Path(relative).is_absolute() or ".." in Path(relative).parts:
            problems.append(f"{relative} : chemin refusé")
        elif not path.is_file():
            problems.append(f"{relative} : absent")
        elif path.stat().st_size != entry["size"] or sha256_of(path) != entry["sha256"]:
            problems.append(f"{relative} : contenu différent du manifeste (SHA-256)")
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source).as_posix()
        if path.is_file() and relative != MANIFEST and relative not in listed:
            problems.append(f"{relative} : absent du manifeste")
    if DATABASE_FILES[manifest["database"]] not in listed:
        problems.append(f"{DATABASE_FILES[manifest['database']]} : absent du manifeste")
    if problems:
        raise BackupError("sauvegarde refusée : " + " ; ".join(problems))
    return manifest


def restore_backup(source: Path) -> dict:
    """Restore ``source`` into the configured (empty) database and (empty) upload folder."""
    manifest = verify_backup(source)
    dialect = _dialect()
    if manifest["database"] != dialect:
        raise BackupError(f"sauvegarde {manifest['database']} : la base configurée est {dialect}")
    tables = inspect(db.engine).get_table_names()
    if tables:
        raise BackupError(f"la base de destination n'est pas vide ({len(tables)} tables) : restaurez dans une base neuve")
    if next(iter(storage.iterate()), None) is not None:
        where = (current_app.config["BUDGET_APP_UPLOAD_DIR"] if storage.store().name == "local"
                 else f"compartiment {current_app.config['S3_BUCKET']}")
        raise BackupError(f"le dossier des fichiers ({where}) n'est pas vide")
    db.session.remove()
    db.engine.dispose()
    database_file = source / DATABASE_FILES[dialect]
    if dialect == "postgresql":
        dsn, env = _libpq(db.engine.url)
        _run(["pg_restore", "--no-owner", "--no-acl", "--exit-on-error", "--single-transaction",
              "--dbname", dsn, str(database_file)], env)
    else:
        copy = sqlite3.connect(database_file)
        target = sqlite3.connect(db.engine.url.database)
        try:
            copy.backup(target)
        finally:
            target.close()
            copy.close()
    uploads = source / UPLOADS
    for entry in manifest["files"]:
        path = source / entry["path"]
        if path.parent == uploads or uploads in path.parents:
            key = path.relative_to(uploads).as_posix()
            storage.put(path, key)
            if storage.sha256_of(key)[0] != entry["sha256"]:
                raise BackupError(f"{key} : copie différente de la sauvegarde")
    log.info("event=backup_restored files=%s", len(manifest["files"]))
    return manifest


backup_cli = AppGroup("backup", help="Sauvegarde et restauration (base, fichiers, manifeste SHA-256).")


@backup_cli.command("create")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def create_command(directory: Path):
    """Sauvegarde la base et les fichiers dans DIRECTORY (nouveau ou vide), sans les clés."""
    try:
        manifest = create_backup(directory)
    except BackupError as error:
        fail([str(error)])
    click.echo(f"Sauvegarde écrite dans {directory} : {len(manifest['files'])} fichiers, "
               f"révision {manifest['revision']}. Les clés (SECRET_KEY, clé des signalements) n'y sont pas : "
               "conservez-les à part.")


@backup_cli.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore_command(directory: Path):
    """Restaure DIRECTORY dans une base vide et un dossier de fichiers vide, après contrôle du manifeste."""
    try:
        manifest = restore_backup(directory)
    except BackupError as error:
        fail([str(error)])
    click.echo(f"Sauvegarde du {manifest['created_at']} restaurée : {len(manifest['files'])} fichiers vérifiés, "
               f"révision {manifest['revision']}. Si le code est plus récent : flask --app budget_app db upgrade.")


COMMANDS = [backup_cli]

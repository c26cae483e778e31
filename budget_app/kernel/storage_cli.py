"""`flask storage copy-local`: an existing upload folder copied into the bucket (README,
« Stockage des fichiers »), every object read back and its SHA-256 compared with the file's."""
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from . import storage
from .backup import kept_entries
from .transactions import fail

storage_cli = AppGroup("storage", help="Stockage des fichiers : dossier local ou compartiment S3.")


def copy_local(source: Path, target) -> tuple[int, int, list[str]]:
    """Copy every kept file of ``source`` into ``target`` and verify it: (copied, already
    there, problems). An object already there with the same SHA-256 is left as it is; one
    with other bytes is never overwritten (listed)."""
    local = storage.LocalStore(source)
    copied, present, problems = 0, 0, []
    for entry in kept_entries(local):
        digest, _size = storage.sha256_of(entry.key, local)
        if target.exists(entry.key):
            if storage.sha256_of(entry.key, target)[0] == digest:
                present += 1
            else:
                problems.append(f"{entry.key} : un objet différent existe déjà dans le compartiment (non remplacé)")
            continue
        target.put(local.path(entry.key), entry.key)
        if storage.sha256_of(entry.key, target)[0] != digest:
            problems.append(f"{entry.key} : l'objet relu diffère du fichier (SHA-256)")
            continue
        copied += 1
    return copied, present, problems


@storage_cli.command("copy-local")
@click.option("--from", "source", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Dossier des fichiers à copier (par défaut BUDGET_APP_UPLOAD_DIR).")
def copy_local_command(source):
    """Copie le dossier des fichiers local dans le compartiment configuré (STORAGE=s3), puis
    relit chaque objet et vérifie son SHA-256. Les imports en attente ne sont pas copiés. Sans
    danger à relancer : ce qui est déjà copié à l'identique est laissé."""
    target = storage.store()
    if target.name != "s3":
        fail(["le stockage configuré est le dossier local : réglez BUDGET_APP_STORAGE=s3 et le compartiment "
              "(BUDGET_APP_S3_BUCKET, …) avant de copier."])
    source = source or Path(current_app.config["BUDGET_APP_UPLOAD_DIR"])
    copied, present, problems = copy_local(source, target)
    click.echo(f"{copied} fichier(s) copié(s) de {source} vers le compartiment {current_app.config['S3_BUCKET']}, "
               f"{present} déjà présent(s) à l'identique ; SHA-256 vérifiés.")
    if problems:
        fail(problems)


COMMANDS = [storage_cli]

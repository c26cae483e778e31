"""Attachments of alerts: checked by content (not by name), size-limited like supporting
documents (``UPLOAD_MAX_BYTES``), stored encrypted under a random name outside the web
root (ASVS 12.2.1, 12.3.1, 12.4.1). The original name is kept only, encrypted, as metadata."""
import io
import zipfile

from flask import current_app

from ..kernel import storage
from ..kernel.errors import DomainError
from ..kernel.i18n import N_
from ..kernel.uploads import JPEG, PDF, PNG, XLSX, sniff
from . import crypto

# extension -> (content type, check on the bytes)
MAX_ZIP_ENTRIES = 2000
MAX_ZIP_UNCOMPRESSED = 100 * 1024 * 1024


def _sniffed(content_type: str):
    """PDF, images and workbooks: the application's one content check (kernel.uploads)."""
    return lambda data: sniff(data) == content_type


def _zip_names(data: bytes) -> set[str] | None:
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ZIP_ENTRIES or sum(i.file_size for i in infos) > MAX_ZIP_UNCOMPRESSED:
                return None
            return {info.filename for info in infos}
    except zipfile.BadZipFile:
        return None


def _is_docx(data: bytes) -> bool:
    names = _zip_names(data)
    if names is None or "[Content_Types].xml" not in names:
        return False
    if any(name.endswith("vbaProject.bin") for name in names):  # macros
        return False
    return any(name.startswith("word/") for name in names)


def _is_odt(data: bytes) -> bool:
    names = _zip_names(data)
    return names is not None and "mimetype" in names and data[30:38] == b"mimetype" and b"opendocument.text" in data[:100]


ALLOWED = {
    "pdf": (PDF, _sniffed(PDF)),
    "png": (PNG, _sniffed(PNG)),
    "jpg": (JPEG, _sniffed(JPEG)),
    "jpeg": (JPEG, _sniffed(JPEG)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _is_docx),
    "xlsx": (XLSX, _sniffed(XLSX)),
    "odt": ("application/vnd.oasis.opendocument.text", _is_odt),
}


def check_attachment(filename: str, data: bytes) -> str:
    """The content type of an accepted file, or DomainError naming the file."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    if not data:
        raise DomainError(N_("« %(name)s » est vide."), name=name)
    if len(data) > limit:
        raise DomainError(
            N_("« %(name)s » dépasse la taille maximale de %(limit)s Mo."), name=name, limit=limit // (1024 * 1024)
        )
    if extension not in ALLOWED:
        raise DomainError(N_("« %(name)s » : seuls les fichiers PDF, PNG, JPEG, DOCX, XLSX et ODT sont acceptés."), name=name)
    content_type, looks_right = ALLOWED[extension]
    if not looks_right(data):
        raise DomainError(
            N_("« %(name)s » n'est pas un fichier %(kind)s valide (contenu vérifié)."), name=name, kind=extension.upper()
        )
    return content_type


def safe_display_name(filename: str) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>')
    return name[:200] or "piece"


# Attachments are kept under this folder of the storage (kernel.storage), encrypted.
AREA = "alerts"


def _key(stored_name: str) -> str:
    return f"{AREA}/{stored_name}"


def store_encrypted(content_key: bytes, data: bytes) -> str:
    """Stores the bytes encrypted under the alert's content key (and the server layer)
    under a random name; returns that name. Only ciphertext leaves the application."""
    key = storage.new_key(area=AREA)
    storage.put(crypto.encrypt_for(content_key, data), key)
    return key.rsplit("/", 1)[1]


def read_encrypted(stored_name: str) -> bytes | None:
    """The stored ciphertext, or None when the file is gone."""
    try:
        return storage.read(_key(stored_name))
    except FileNotFoundError:
        return None


def replace_encrypted(stored_name: str, ciphertext: bytes) -> None:
    """Replaces a stored file's bytes (re-encryption)."""
    storage.put(ciphertext, _key(stored_name))


def read_decrypted(content_key: bytes, stored_name: str) -> bytes:
    return crypto.decrypt_for(content_key, storage.read(_key(stored_name)))


def remove_file(stored_name: str) -> None:
    # Local files are overwritten before unlinking, so the ciphertext does not linger.
    storage.delete(_key(stored_name), shred=True)

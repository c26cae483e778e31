"""Uploaded files checked by their content, not by their name (ASVS 12.2.1), and stored
outside ``static/`` under random names (ASVS 12.3.1, 12.4.1).

``check_document(filename, data)`` is the one content check of the application: the
supporting documents of expenses use it, and alert attachments use ``sniff``.
Accepted: PDF, JPEG, PNG, XLSX (without macros), ODS. The extension of the name must
agree with the content: a PDF renamed ``.png`` is refused, as is HTML renamed ``.pdf``.
"""
import hashlib
import io
import logging
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask import abort, current_app, send_file

from . import storage
from .errors import DomainError
from .i18n import N_

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODS = "application/vnd.oasis.opendocument.spreadsheet"

EXTENSIONS = {
    ".pdf": PDF,
    ".jpg": JPEG,
    ".jpeg": JPEG,
    ".png": PNG,
    ".xlsx": XLSX,
    ".ods": ODS,
}
SUFFIX = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png", XLSX: ".xlsx", ODS: ".ods"}

log = logging.getLogger("budget_app.uploads")

# A spreadsheet is a zip: refuse zip bombs before anything opens it (ASVS 12.1.2).
MAX_ZIP_ENTRIES = 2000
MAX_ZIP_UNCOMPRESSED = 200 * 1024 * 1024
MAX_ZIP_RATIO = 200


def _refuse(message: str, **values) -> DomainError:
    return DomainError(message, **values)


def sniff(data: bytes) -> str | None:
    """The content type recognised from the bytes themselves, or None."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"PK\x03\x04"):
        return _sniff_zip(data)
    return None


def _sniff_zip(data: bytes) -> str | None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if not infos or len(infos) > MAX_ZIP_ENTRIES:
        return None
    total = sum(info.file_size for info in infos)
    if total > MAX_ZIP_UNCOMPRESSED or total > MAX_ZIP_RATIO * max(len(data), 1):
        return None
    names = {info.filename for info in infos}
    try:
        # ODF: the first entry is "mimetype", stored, holding the media type (ODF 1.2 §3.3).
        if infos[0].filename == "mimetype":
            media_type = archive.read(infos[0]).strip().decode("ascii", "replace")
            return ODS if media_type == ODS else None
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            content_types = archive.read("[Content_Types].xml")
            # An .xlsm renamed .xlsx: macro-enabled workbooks are refused.
            if b"macroEnabled" in content_types or any(name.lower().endswith("vbaproject.bin") for name in names):
                return None
            return XLSX if b"spreadsheetml.sheet.main+xml" in content_types else None
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, NotImplementedError):
        return None
    return None


def check_document(filename: str, data: bytes, max_bytes: int | None = None) -> tuple[str, str]:
    """Return ``(content_type, sha256)`` of an accepted file, else raise DomainError naming the file.

    ``max_bytes`` defaults to the application's ``UPLOAD_MAX_BYTES``; callers that want
    the 413 page check ``len(data)`` themselves first (see ``too_large``)."""
    name = os.path.basename((filename or "").replace("\\", "/"))
    if max_bytes is None:
        max_bytes = current_app.config["UPLOAD_MAX_BYTES"]
    if not data:
        raise _refuse(N_("Le fichier « %(name)s » est vide."), name=name)
    if len(data) > max_bytes:
        raise _refuse(
            N_("Le fichier « %(name)s » dépasse la taille maximale de %(limit)s Mo."),
            name=name,
            limit=max_bytes // (1024 * 1024),
        )
    expected = EXTENSIONS.get(Path(name).suffix.lower())
    if expected is None:
        raise _refuse(
            N_("Le fichier « %(name)s » n'est pas d'un type accepté (PDF, JPEG, PNG, XLSX, ODS)."), name=name
        )
    found = sniff(data)
    if found != expected:
        raise _refuse(
            N_("Le contenu du fichier « %(name)s » ne correspond pas à son extension, ou n'est pas un fichier PDF, JPEG, PNG, XLSX ou ODS valide."),
            name=name,
        )
    return found, hashlib.sha256(data).hexdigest()


def too_large(data: bytes) -> bool:
    return len(data) > current_app.config["UPLOAD_MAX_BYTES"]


def store_file(data: bytes, content_type: str) -> str:
    """Keep ``data`` in the storage (kernel.storage) under a random name (never the user's)
    and return that name."""
    return storage.put(data, storage.new_key(SUFFIX.get(content_type, ""))).key


def send_document(document):
    """The download of a stored document (``stored_name``, ``sha256``, ``content_type``,
    ``original_name``): its SHA-256 checked before the first byte is sent; 404 when the file
    is missing, and when it no longer has its recorded digest (logged)."""
    if "/" in document.stored_name:  # documents sit at the top: never an alert's or an import's key
        abort(404)
    try:
        handle = storage.open_checked(document.stored_name, document.sha256)
    except storage.Altered:
        log.error("event=document_digest_mismatch key=%s", document.stored_name)
        abort(404)
    except OSError:
        abort(404)
    response = send_file(handle, mimetype=document.content_type, as_attachment=True,
                         download_name=document.original_name, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Cache-Control"] = "no-store"
    return response


def safe_filename(filename: str) -> str:
    """The original name kept as metadata only: no directory part, no control characters."""
    name = os.path.basename((filename or "").replace("\\", "/"))
    name = "".join(char for char in name if char.isprintable())
    return (name or "document")[:255]


@dataclass(frozen=True)
class Received:
    """A file accepted and stored: what a document row records of it."""

    original_name: str
    stored_name: str
    content_type: str
    size: int
    sha256: str


def receive(filename: str, data: bytes) -> Received:
    """The house's upload checks, in one place for every kind of document: content sniffed
    and agreeing with the extension, size, SHA-256; then stored under a random name."""
    content_type, sha256 = check_document(filename, data)
    stored_name = store_file(data, content_type)
    return Received(safe_filename(filename), stored_name, content_type, len(data), sha256)

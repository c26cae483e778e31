"""Where the application keeps its files (README, « Stockage des fichiers »).

``STORAGE = "local"`` (the default): the upload folder, ``BUDGET_APP_UPLOAD_DIR``.
``STORAGE = "s3"``: a bucket of any S3-compatible service (``S3_ENDPOINT_URL``, ``S3_BUCKET``,
``S3_REGION``, ``S3_PREFIX``; the credentials from the environment, as boto3 reads them:
``AWS_ACCESS_KEY_ID`` and ``AWS_SECRET_ACCESS_KEY``). boto3 is imported only then.

Every file goes through the five functions below, under a key (``<hex>.pdf`` for documents,
``alerts/<hex>`` for encrypted alert attachments, ``imports/<token>`` for staged imports):

- ``put(source, key)`` writes bytes, a path or a binary stream, returns its SHA-256 and size;
- ``open(key, sha256=None)`` streams it back; with ``sha256`` the bytes are hashed on the way
  and ``Altered`` is raised at the end when they are no longer those recorded;
  ``open_checked`` checks the digest before the first byte is handed out (downloads);
- ``delete(key, shred=False)``, ``exists(key)``, ``iterate(prefix)`` (keys, sizes, dates).
"""
import builtins
import hashlib
import io
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

CHUNK = 1024 * 1024
KINDS = ("local", "s3")
_PART = ".part-"


class StorageError(Exception):
    """The storage could not do what was asked (said in French to the operator)."""


class Altered(StorageError):
    """The stored bytes no longer have the SHA-256 recorded when they were received."""

    def __init__(self, key: str):
        super().__init__(f"{key} : contenu différent de l'empreinte SHA-256 enregistrée")
        self.key = key


@dataclass(frozen=True)
class Stored:
    key: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Entry:
    key: str
    size: int
    modified: float  # seconds since the epoch


# Parts joined by "/", each of letters, digits, ".", "_" or "-" (``\w`` is ``str.isalnum`` or
# "_"), none empty or starting with ".": one match per key (a pack checks hundreds).
_KEY_RE = re.compile(r"(?!\.)[\w.-]+(?:/(?!\.)[\w.-]+)*")


def check_key(key: str) -> str:
    """Keys are ours (hex names, ``alerts/``, ``imports/``): anything else is refused rather
    than joined to a path or sent to a bucket."""
    if not key or _KEY_RE.fullmatch(key) is None:
        raise FileNotFoundError(key)
    return key


def new_key(suffix: str = "", area: str = "") -> str:
    """A random key (never the user's file name), e.g. ``3f…9a.pdf`` or ``alerts/3f…9a``."""
    return check_key(f"{area}/" * bool(area) + secrets.token_hex(16) + suffix)


class _Hashing(io.RawIOBase):
    """A read-only stream that hashes what goes through it; ``expected`` checked at the end."""

    def __init__(self, raw, key: str = "", expected: str | None = None):
        self.raw, self.key, self.expected = raw, key, expected
        self.digest = hashlib.sha256()
        self.size = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.raw.read(len(buffer))
        if not data:
            if self.expected is not None and self.digest.hexdigest() != self.expected:
                raise Altered(self.key)
            return 0
        self.digest.update(data)
        self.size += len(data)
        buffer[:len(data)] = data
        return len(data)

    def read(self, size=-1):
        if size is None or size < 0:
            return self.readall()
        buffer = bytearray(size)
        count = self.readinto(buffer)
        return bytes(buffer[:count])

    def readall(self):
        chunks = []
        while chunk := self.read(CHUNK):
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self):
        try:
            self.raw.close()
        finally:
            super().close()


def _spooled(source) -> tuple[io.IOBase, str, int]:
    """``source`` (bytes, a path, a stream) as a rewound file with its SHA-256 and size."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        return io.BytesIO(data), hashlib.sha256(data).hexdigest(), len(data)
    if isinstance(source, (str, Path)):
        source = builtins.open(source, "rb")  # noqa: SIM115 (the caller's put closes it)
    spool = tempfile.SpooledTemporaryFile(max_size=CHUNK)  # noqa: SIM115 (returned)
    hashing = _Hashing(source)
    while chunk := hashing.read(CHUNK):
        spool.write(chunk)
    spool.seek(0)
    return spool, hashing.digest.hexdigest(), hashing.size


class LocalStore:
    """The upload folder: files 0600 under their key, directories 0700."""

    name = "local"

    def __init__(self, root):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, source, key: str) -> Stored:
        target = self.path(key)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = target.with_name(target.name + _PART + secrets.token_hex(4))
        reader = _Hashing(builtins.open(source, "rb") if isinstance(source, (str, Path))
                          else io.BytesIO(bytes(source)) if isinstance(source, (bytes, bytearray, memoryview))
                          else source)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                while chunk := reader.read(CHUNK):
                    handle.write(chunk)
            partial.replace(target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return Stored(key, reader.digest.hexdigest(), reader.size)

    def open(self, key: str):
        return builtins.open(self.path(key), "rb")

    def delete(self, key: str, shred: bool = False) -> None:
        path = self.path(key)
        if shred and path.exists():
            # Overwritten before unlinking, so that ciphertext does not linger on disk blocks.
            size = path.stat().st_size
            with builtins.open(path, "r+b") as handle:
                handle.write(secrets.token_bytes(size))
                handle.flush()
                os.fsync(handle.fileno())
        path.unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def iterate(self, prefix: str = ""):
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("*")):
            if path.is_symlink() or not path.is_file() or _PART in path.name:
                continue
            key = path.relative_to(self.root).as_posix()
            if key.startswith(prefix):
                status = path.stat()
                yield Entry(key, status.st_size, status.st_mtime)


class S3Store:
    """A bucket (or a prefix of one) of an S3-compatible service."""

    name = "s3"

    def __init__(self, client, bucket: str, prefix: str = ""):
        self.client, self.bucket = client, bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _missing(self, error) -> bool:
        code = str(error.response.get("Error", {}).get("Code", ""))
        return code in ("404", "NoSuchKey", "NotFound")

    def put(self, source, key: str) -> Stored:
        body, sha256, size = _spooled(source)
        with body:
            self.client.upload_fileobj(body, self.bucket, self.prefix + check_key(key),
                                       ExtraArgs={"Metadata": {"sha256": sha256}})
        return Stored(key, sha256, size)

    def open(self, key: str):
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.prefix + check_key(key))["Body"]
        except ClientError as error:
            if self._missing(error):
                raise FileNotFoundError(key) from error
            raise

    def delete(self, key: str, shred: bool = False) -> None:
        # shred: a bucket has no disk blocks of ours; with versioning on, README says how old
        # versions of alert attachments expire (a lifecycle rule).
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.prefix + check_key(key))
        except (BotoCoreError, ClientError) as error:
            raise StorageError(f"{key} : suppression refusée par le compartiment ({error})") from error

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.prefix + check_key(key))
        except ClientError as error:
            if self._missing(error):
                return False
            raise
        return True

    def iterate(self, prefix: str = ""):
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            for item in page.get("Contents", ()):
                yield Entry(item["Key"][len(self.prefix):], item["Size"], item["LastModified"].timestamp())


def check_settings(config) -> None:
    """Refuse a wrong setting at start (create_app), without importing boto3."""
    kind = str(config.get("STORAGE") or "local").strip().lower()
    if kind not in KINDS:
        raise RuntimeError(f"STORAGE must be one of {', '.join(KINDS)}, got {config.get('STORAGE')!r}")
    if kind == "s3" and not config.get("S3_BUCKET"):
        raise RuntimeError("STORAGE=s3 needs S3_BUCKET (BUDGET_APP_S3_BUCKET)")
    config["STORAGE"] = kind


def s3_client(config):
    import boto3
    from botocore.config import Config

    session = boto3.session.Session()
    return session.client(
        "s3", endpoint_url=config.get("S3_ENDPOINT_URL") or None, region_name=config.get("S3_REGION") or None,
        config=Config(s3={"addressing_style": config.get("S3_ADDRESSING_STYLE") or "path"},
                      retries={"max_attempts": 3, "mode": "standard"}),
    )


def build(config):
    if config.get("STORAGE") == "s3":
        return S3Store(s3_client(config), config["S3_BUCKET"], config.get("S3_PREFIX") or "")
    return LocalStore(config["BUDGET_APP_UPLOAD_DIR"])


def store(app=None):
    """The application's store, made once per process (a boto3 client is not shared across
    a fork)."""
    app = app or current_app._get_current_object()
    cached = app.extensions.get("budget_storage")
    if cached is None or cached[0] != os.getpid():
        cached = app.extensions["budget_storage"] = (os.getpid(), build(app.config))
    return cached[1]


def put(source, key: str) -> Stored:
    return store().put(source, key)


def open(key: str, sha256: str | None = None):  # noqa: A001 (the storage's own open)
    """A binary stream of ``key`` (FileNotFoundError when absent); with ``sha256``, ``Altered``
    is raised when its end is read and the bytes differ."""
    raw = store().open(key)
    return raw if sha256 is None else io.BufferedReader(_Hashing(raw, key, sha256), CHUNK)


def read(key: str, sha256: str | None = None) -> bytes:
    with open(key, sha256) as stream:
        return stream.read()


def open_checked(key: str, sha256: str):
    """A rewound file of ``key`` whose SHA-256 was checked before anything is sent (a download
    never ends short): the local file itself, or the object spooled (1 MiB in memory, the rest
    on disk). ``Altered`` or FileNotFoundError."""
    current = store()
    if isinstance(current, LocalStore):
        handle = current.open(key)
        digest = hashlib.sha256()
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
        if digest.hexdigest() != sha256:
            handle.close()
            raise Altered(key)
        handle.seek(0)
        return handle
    with current.open(key) as raw:
        spool, digest, _size = _spooled(raw)
    if digest != sha256:
        spool.close()
        raise Altered(key)
    return spool


def delete(key: str, shred: bool = False) -> None:
    store().delete(key, shred=shred)


def exists(key: str) -> bool:
    return store().exists(key)


def iterate(prefix: str = ""):
    return store().iterate(prefix)


def sha256_of(key: str, store_=None) -> tuple[str, int]:
    """The SHA-256 and size of what is stored under ``key`` (in ``store_``, by default the
    application's), read in chunks."""
    with (store_ or store()).open(key) as stream:
        hashing = _Hashing(stream, key)
        while hashing.read(CHUNK):
            pass
    return hashing.digest.hexdigest(), hashing.size

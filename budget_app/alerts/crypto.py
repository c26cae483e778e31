"""Encryption at rest of alert contents (directive 2019/1937 art. 16: confidentiality).

Two layers, both Fernet (AES-128-CBC + HMAC-SHA256, authenticated) from the
``cryptography`` package:

- inside, the alert's own **content key** (``keyring.py``): random per alert, wrapped for
  each referent granted access, the recovery key and the reporter, never for the server;
- outside, the **server key**, through ``MultiFernet`` so that a rotation can decrypt the
  outer layer with the old key and re-encrypt it with the new one without opening any
  alert (no referent's password needed). The server key alone opens nothing.

The server key is kept outside the database:
``BUDGET_APP_ALERT_KEY`` (config ``ALERT_KEY``, comma-separated, newest first) or the
file ``instance/alert_key`` (one key a line, newest first, mode 0600, generated on
first use).
"""
import json
import os
from pathlib import Path

from flask import current_app

KEY_FILE = "alert_key"


def _fernet():
    """cryptography's OpenSSL bindings (about 9 MB): loaded only by the processes that
    encrypt or decrypt, not by every command and worker at start."""
    from cryptography import fernet

    return fernet


def generate_key() -> bytes:
    return _fernet().Fernet.generate_key()


def multi_fernet(keys: list[bytes]):
    module = _fernet()
    return module.MultiFernet([module.Fernet(key) for key in keys])


def invalid_token() -> type[Exception]:
    """The exception raised for data that no configured key decrypts."""
    return _fernet().InvalidToken


class AlertKeyError(RuntimeError):
    pass


def key_file_path(app=None) -> Path:
    """``ALERT_KEY_FILE`` if set (instance/config.py), else ``instance/alert_key``."""
    app = app or current_app
    return Path(app.config.get("ALERT_KEY_FILE") or Path(app.instance_path) / KEY_FILE)


def write_key_file(path: Path, keys: list[bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(b"\n".join(keys) + b"\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def configured_keys(app=None) -> list[bytes]:
    """The keys, newest first; a key file is created on first use when no key is set."""
    app = app or current_app
    configured = app.config.get("ALERT_KEY")
    if configured:
        keys = [part.strip().encode("ascii") for part in str(configured).split(",") if part.strip()]
    else:
        path = key_file_path(app)
        if not path.exists():
            write_key_file(path, [generate_key()])
        keys = [line.strip() for line in path.read_bytes().splitlines() if line.strip()]
    if not keys:
        raise AlertKeyError("no alert encryption key")
    try:
        for key in keys:
            _fernet().Fernet(key)
    except (ValueError, TypeError) as exc:
        raise AlertKeyError("the alert encryption key is not a valid Fernet key") from exc
    return keys


def cipher(app=None):
    return multi_fernet(configured_keys(app))


def encrypt_bytes(data: bytes) -> bytes:
    return cipher().encrypt(data)


def decrypt_bytes(token: bytes | None) -> bytes | None:
    if token is None:
        return None
    try:
        return cipher().decrypt(bytes(token))
    except invalid_token() as exc:
        raise AlertKeyError("alert data cannot be decrypted with the configured key") from exc


def encrypt_for(content_key: bytes, data: bytes) -> bytes:
    """``data`` under the alert's content key, then under the server key."""
    return encrypt_bytes(_fernet().Fernet(content_key).encrypt(data))


def decrypt_for(content_key: bytes, token: bytes | None) -> bytes | None:
    inner = decrypt_bytes(token)
    if inner is None:
        return None
    try:
        return _fernet().Fernet(content_key).decrypt(inner)
    except invalid_token() as exc:
        raise AlertKeyError("alert data cannot be decrypted with this alert's key") from exc


def encrypt_text(content_key: bytes, text: str | None) -> bytes | None:
    if text is None:
        return None
    return encrypt_for(content_key, text.encode("utf-8"))


def decrypt_text(content_key: bytes, token: bytes | None) -> str | None:
    data = decrypt_for(content_key, token)
    return None if data is None else data.decode("utf-8")


def encrypt_json(content_key: bytes, value) -> bytes:
    return encrypt_for(content_key, json.dumps(value, ensure_ascii=False).encode("utf-8"))


def decrypt_json(content_key: bytes, token: bytes | None, default=None):
    data = decrypt_for(content_key, token)
    return default if data is None else json.loads(data.decode("utf-8"))

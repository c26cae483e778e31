"""Encryption at rest of participants' identities (participants §5; ASVS 6.1.1).

AES-256-GCM (authenticated) from ``cryptography``, with a key of its own, never the
alert keys: ``BUDGET_APP_PARTICIPANT_KEY`` (setting ``PARTICIPANT_KEY``: 32 bytes in
URL-safe base64) or the file ``instance/participant_key`` (setting
``PARTICIPANT_KEY_FILE``), created 0600 on first use. The participant's code is the
associated data: a ciphertext copied onto another participant does not decrypt.

Stored form: version byte 1, 12-byte random nonce, ciphertext and tag.
"""
import base64
import hashlib
import hmac
import json
import os
from pathlib import Path

from flask import current_app

from ..kernel.errors import DomainError
from ..kernel.i18n import N_
from ..kernel.tabular import normalise_header

KEY_FILE = "participant_key"
VERSION = b"\x01"
NONCE_BYTES = 12


class ParticipantKeyError(RuntimeError):
    pass


def _aesgcm():
    """cryptography's OpenSSL bindings: loaded by the processes that need them only."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM


def key_file_path(app=None) -> Path:
    app = app or current_app
    return Path(app.config.get("PARTICIPANT_KEY_FILE") or Path(app.instance_path) / KEY_FILE)


def _decode(text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (ValueError, UnicodeEncodeError) as error:
        raise ParticipantKeyError("the participant key is not URL-safe base64") from error
    if len(key) != 32:
        raise ParticipantKeyError("the participant key must be 32 bytes (AES-256)")
    return key


# (setting, key file) -> key: read once per process, not once per participant.
_KEYS: dict = {}


def participant_key(app=None) -> bytes:
    app = app or current_app
    configured = app.config.get("PARTICIPANT_KEY")
    where = (configured, app.config.get("PARTICIPANT_KEY_FILE") or app.instance_path)
    cached = _KEYS.get(where)
    if cached is None:
        cached = _KEYS[where] = _load_key(configured, key_file_path(app))
    return cached


def _load_key(configured, path: Path) -> bytes:
    if configured:
        return _decode(str(configured))
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(base64.urlsafe_b64encode(os.urandom(32)) + b"\n")
    return _decode(path.read_text(encoding="ascii"))


def identity_digest(last_name: str, first_name: str, birth_date) -> str:
    """A keyed hash of who the person is (names compared like headers: case, accents, spaces)."""
    text = "|".join(("v1", normalise_header(last_name), normalise_header(first_name), birth_date.isoformat()))
    return hmac.new(participant_key(), text.encode("utf-8"), hashlib.sha256).hexdigest()


def _cipher():
    key = participant_key()
    cached = _KEYS.get(("cipher", key))
    if cached is None:
        cached = _KEYS[("cipher", key)] = _aesgcm()(key)
    return cached


def encrypt_identity(code: str, identity: dict) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    data = json.dumps(identity, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return VERSION + nonce + _cipher().encrypt(nonce, data, code.encode("ascii"))


def encrypt_identities(items: list[tuple[str, dict]]) -> list[bytes]:
    """``encrypt_identity`` of many (code, identity) pairs (an import): the same stored form,
    one AES-GCM object for all, each its own random nonce (drawn together)."""
    cipher = _cipher()
    nonces = os.urandom(NONCE_BYTES * len(items))
    blobs = []
    for index, (code, identity) in enumerate(items):
        nonce = nonces[index * NONCE_BYTES:(index + 1) * NONCE_BYTES]
        data = json.dumps(identity, ensure_ascii=False, sort_keys=True).encode("utf-8")
        blobs.append(VERSION + nonce + cipher.encrypt(nonce, data, code.encode("ascii")))
    return blobs


def decrypt_identity(code: str, blob: bytes) -> dict:
    from cryptography.exceptions import InvalidTag

    blob = bytes(blob)
    if blob[:1] != VERSION:
        raise DomainError(N_("Identité illisible : format de chiffrement inconnu."))
    nonce, data = blob[1:1 + NONCE_BYTES], blob[1 + NONCE_BYTES:]
    try:
        plain = _cipher().decrypt(nonce, data, code.encode("ascii"))
    except InvalidTag:
        raise DomainError(N_("Identité illisible : la clé des participants ne l'ouvre pas (clé changée ?).")) from None
    return json.loads(plain.decode("utf-8"))

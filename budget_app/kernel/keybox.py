"""Key wrapping primitives (``cryptography``), shared by the session vault (accounts) and the
alerts' keys per referent (GlobaLeaks' model, CHECKLIST §5 « The admin is not a referent »).

- ``seal``/``unseal``: a value sealed to an X25519 public key (an ephemeral key pair, ECDH,
  HKDF-SHA256, AES-256-GCM): whoever holds only the public key (the server) can seal, only
  the private key opens.
- ``lock``/``unlock``: AES-256-GCM under a 32-byte key, with a random nonce and associated
  data naming what the value is for (a value moved to another purpose fails to open).
- ``password_key``: a 32-byte key derived from a password with argon2id (argon2-cffi's
  low-level API), stronger than the login hash (GlobaLeaks does the same).
- ``derived_key``: HKDF-SHA256 of a high-entropy secret (a session token, a follow-up secret).

The OpenSSL bindings are loaded on first use, not when a worker starts.
"""
import os

NONCE = 12
KEY = 32
# argon2id for a private key: 3 passes, 64 MiB (the login hash has its own settings).
PASSWORD_KDF = {"time_cost": 3, "memory_cost": 64 * 1024, "parallelism": 1}
TESTING_KDF = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


class KeyboxError(ValueError):
    """A value that this key does not open (wrong key, altered bytes, other purpose)."""


def _aead():
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM


def _x25519():
    from cryptography.hazmat.primitives.asymmetric import x25519

    return x25519


def random_key() -> bytes:
    return os.urandom(KEY)


def derived_key(material: bytes, purpose: str, salt: bytes | None = None) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=KEY, salt=salt, info=purpose.encode()).derive(material)


def password_key(password: str, salt: bytes, testing: bool = False) -> bytes:
    from argon2.low_level import Type, hash_secret_raw

    parameters = TESTING_KDF if testing else PASSWORD_KDF
    return hash_secret_raw(password.encode("utf-8"), salt, hash_len=KEY, type=Type.ID, **parameters)


def lock(key: bytes, data: bytes, purpose: str) -> bytes:
    nonce = os.urandom(NONCE)
    return nonce + _aead()(key).encrypt(nonce, data, purpose.encode())


def unlock(key: bytes, blob: bytes, purpose: str) -> bytes:
    from cryptography.exceptions import InvalidTag

    blob = bytes(blob)
    try:
        return _aead()(key).decrypt(blob[:NONCE], blob[NONCE:], purpose.encode())
    except (InvalidTag, ValueError) as exc:
        raise KeyboxError("this key does not open this value") from exc


def new_keypair() -> tuple[bytes, bytes]:
    """(private, public), 32 raw bytes each."""
    from cryptography.hazmat.primitives import serialization

    private = _x25519().X25519PrivateKey.generate()
    raw = serialization.Encoding.Raw
    private_bytes = private.private_bytes(raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return private_bytes, private.public_key().public_bytes(raw, serialization.PublicFormat.Raw)


def public_of(private_bytes: bytes) -> bytes:
    from cryptography.hazmat.primitives import serialization

    private = _x25519().X25519PrivateKey.from_private_bytes(bytes(private_bytes))
    raw = serialization.Encoding.Raw
    return private.public_key().public_bytes(raw, serialization.PublicFormat.Raw)


def seal(public_bytes: bytes, data: bytes, purpose: str) -> bytes:
    """ephemeral public (32) + nonce (12) + AES-GCM(HKDF(ECDH)) of ``data``."""
    from cryptography.hazmat.primitives import serialization

    x25519 = _x25519()
    ephemeral = x25519.X25519PrivateKey.generate()
    shared = ephemeral.exchange(x25519.X25519PublicKey.from_public_bytes(bytes(public_bytes)))
    ephemeral_public = ephemeral.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key = derived_key(shared, "seal:" + purpose, salt=ephemeral_public + bytes(public_bytes))
    return ephemeral_public + lock(key, data, purpose)


def unseal(private_bytes: bytes, blob: bytes, purpose: str) -> bytes:
    x25519 = _x25519()
    blob = bytes(blob)
    try:
        private = x25519.X25519PrivateKey.from_private_bytes(bytes(private_bytes))
        ephemeral_public = blob[:KEY]
        shared = private.exchange(x25519.X25519PublicKey.from_public_bytes(ephemeral_public))
    except ValueError as exc:
        raise KeyboxError("this key does not open this value") from exc
    key = derived_key(shared, "seal:" + purpose, salt=ephemeral_public + public_of(private_bytes))
    return unlock(key, blob[KEY:], purpose)

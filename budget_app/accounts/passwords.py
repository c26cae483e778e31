"""Passwords: argon2id hashes with a random salt per hash (ASVS 2.4), the length and
common-password rules (ASVS 2.1). Nothing is hashed when the application starts: the
dummy hash used for unknown e-mails (so that both paths take the same time) is made on
first use. Tests use cheap parameters (``TESTING``); stored hashes carry their own."""
import base64
import hmac
import os
from functools import lru_cache
from pathlib import Path

from flask import current_app

from . import hooks
from ..kernel import keybox
from ..kernel.errors import DomainError
from ..kernel.i18n import N_


def _parameters() -> tuple[int, int, int]:
    config = current_app.config
    if config.get("TESTING"):
        return 1, 8, 1
    return config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_COST_KIB"], config["ARGON2_PARALLELISM"]


@lru_cache(maxsize=4)
def _hasher_for(time_cost: int, memory_cost: int, parallelism: int):
    from argon2 import PasswordHasher  # loaded by the processes that hash or verify, not at start

    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


@lru_cache(maxsize=4)
def _dummy_hash(time_cost: int, memory_cost: int, parallelism: int) -> str:
    return _hasher_for(time_cost, memory_cost, parallelism).hash("not-a-password-of-anyone")


def hasher():
    return _hasher_for(*_parameters())


# The second factor's recovery codes (and the alert channel's follow-up secrets before issue
# 27, see ``hash_random_secret``): argon2id at a light cost (1 pass, 8 MiB; a password's hash
# costs 64 MiB). Stored hashes carry their parameters: older ones still verify.
SECRET_PARAMETERS = (1, 8 * 1024, 1)


def secret_hasher():
    if current_app.config.get("TESTING"):
        return _hasher_for(1, 8, 1)
    return _hasher_for(*SECRET_PARAMETERS)


# A secret of 128 bits or more drawn at random by the server (the alert channel's follow-up
# secret, ≈ 157 bits) needs no stretching: nobody can try 2^128 guesses, slow or fast. It is
# kept as a salted HKDF-SHA256 (a KDF, CHECKLIST 2.6.3: ``$hkdf-sha256$salt$digest``), so
# that filing a report costs no argon2 (issue 27); argon2 hashes made earlier still verify.
RANDOM_SECRET_PREFIX = "$hkdf-sha256$"
RANDOM_SECRET_PURPOSE = "random-secret-hash"


def _random_secret_digest(salt: bytes, secret: str) -> bytes:
    return keybox.derived_key(secret.encode("utf-8"), RANDOM_SECRET_PURPOSE, salt=salt)


def hash_random_secret(secret: str) -> str:
    """The stored form of a random secret of at least 128 bits (never a password)."""
    salt = os.urandom(16)
    return RANDOM_SECRET_PREFIX + _b64(salt) + "$" + _b64(_random_secret_digest(salt, secret))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _verify_random_secret(stored: str, secret: str) -> bool:
    try:
        salt_text, digest_text = stored[len(RANDOM_SECRET_PREFIX):].split("$")
        salt, digest = (base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
                        for text in (salt_text, digest_text))
    except ValueError:
        return False
    return hmac.compare_digest(_random_secret_digest(salt, secret), digest)


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(user, password: str) -> bool:
    """True when ``user`` exists and the password is theirs; an unknown user costs the same.
    A referent's password is checked by opening their private key (``hooks.password_check``):
    one argon2id derivation at the same cost, not two."""
    if user is not None and hooks.password_check(user, password):
        return True
    stored = user.password_hash if user is not None else _dummy_hash(*_parameters())
    return verify_hash(stored, password) and user is not None


def verify_hash(stored: str, secret: str) -> bool:
    """True when ``secret`` matches the argon2 hash ``stored`` (or the salted HKDF of a random
    secret, ``hash_random_secret``); False for a mismatch or a hash that is not one."""
    from argon2.exceptions import InvalidHashError, VerificationError

    if stored.startswith(RANDOM_SECRET_PREFIX):
        return _verify_random_secret(stored, secret)
    try:
        return hasher().verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset:
    path = Path(__file__).with_name("common_passwords.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def password_problems(password: str, email: str | None = None) -> list[DomainError]:
    """ASVS 2.1: at least 12 characters, at most 128, not a common password."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    maximum = current_app.config["PASSWORD_MAX_LENGTH"]
    problems = []
    if len(password) < minimum:
        problems.append(DomainError(N_("Le mot de passe doit contenir au moins %(n)s caractères."), n=minimum))
    if len(password) > maximum:
        problems.append(DomainError(N_("Le mot de passe doit contenir au plus %(n)s caractères."), n=maximum))
    if password.lower() in _common_passwords():
        problems.append(DomainError(N_("Ce mot de passe est trop courant : choisissez-en un autre.")))
    local_part = (email or "").split("@")[0].lower()
    if len(local_part) >= 4 and local_part in password.lower():
        problems.append(DomainError(N_("Le mot de passe ne doit pas contenir votre identifiant.")))
    return problems

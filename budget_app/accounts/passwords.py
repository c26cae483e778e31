"""Passwords: argon2id hashes with a random salt per hash (ASVS 2.4), the length and
common-password rules (ASVS 2.1). Nothing is hashed when the application starts: the
dummy hash used for unknown e-mails (so that both paths take the same time) is made on
first use. Tests use cheap parameters (``TESTING``); stored hashes carry their own."""
from functools import lru_cache
from pathlib import Path

from flask import current_app

from . import hooks
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


# A random secret of 128 bits or more (the alert channel's follow-up secret, ≈ 157 bits)
# cannot be guessed whatever the cost of its hash: argon2id keeps it one-way with a light
# cost (1 pass, 8 MiB), so that a public filing stays fast under load (a password's hash
# costs 64 MiB). Stored hashes carry their parameters: older ones still verify.
SECRET_PARAMETERS = (1, 8 * 1024, 1)


def secret_hasher():
    if current_app.config.get("TESTING"):
        return _hasher_for(1, 8, 1)
    return _hasher_for(*SECRET_PARAMETERS)


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
    """True when ``secret`` matches the argon2 hash ``stored``; False for a mismatch or a hash
    that is not one."""
    from argon2.exceptions import InvalidHashError, VerificationError

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

"""The follow-up secret (≈ 157 random bits) is hashed with argon2id at a light cost (a
filing stays fast under load); hashes made earlier at a password's cost still verify."""
from argon2 import PasswordHasher

from budget_app.accounts.passwords import SECRET_PARAMETERS, secret_hasher, verify_hash


def test_outside_tests_the_secret_hash_is_light_and_older_hashes_verify(app):
    app.config["TESTING"] = False
    try:
        encoded = secret_hasher().hash("S3CRET")
    finally:
        app.config["TESTING"] = True
    time_cost, memory_kib, lanes = SECRET_PARAMETERS
    assert encoded.startswith(f"$argon2id$v=19$m={memory_kib},t={time_cost},p={lanes}$")
    assert verify_hash(encoded, "S3CRET") and not verify_hash(encoded, "S3CRET ")
    older = PasswordHasher(time_cost=2, memory_cost=65536, parallelism=2).hash("ANCIEN")
    assert verify_hash(older, "ANCIEN") and not verify_hash(older, "ancien")

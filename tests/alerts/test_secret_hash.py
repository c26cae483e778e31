"""The follow-up secret (≈ 157 random bits) is kept as a salted HKDF-SHA256 (no password
stretching: a filing costs no argon2, issue 27); the argon2id hashes of before (light, or at
a password's cost) still verify."""
import re

from argon2 import PasswordHasher

from budget_app.accounts.passwords import SECRET_PARAMETERS, hash_random_secret, secret_hasher, verify_hash
from budget_app.alerts import filing
from budget_app.kernel.extensions import db
from tests.alerts.factories import file_alert


def test_a_random_secret_is_kept_as_a_salted_kdf_and_only_its_own_secret_matches(app):
    first, second = hash_random_secret("S3CRET"), hash_random_secret("S3CRET")
    assert re.fullmatch(r"\$hkdf-sha256\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}", first)
    assert first != second and "S3CRET" not in first  # a salt of its own
    assert verify_hash(first, "S3CRET") and verify_hash(second, "S3CRET")
    assert not verify_hash(first, "S3CRET ") and not verify_hash(first, "s3cret")
    salt, digest = first.split("$")[2:]
    for broken in (f"$hkdf-sha256${salt}", f"$hkdf-sha256${salt}${digest}$x", f"$hkdf-sha256$!!${digest}",
                   f"$hkdf-sha256${digest}${salt}"):
        assert not verify_hash(broken, "S3CRET")


def test_an_alert_filed_with_an_argon2_secret_hash_still_opens(app):
    alert, secret = file_alert(facts="Avant le numéro 27")
    alert.secret_hash = secret_hasher().hash(secret)  # as filed before
    db.session.commit()
    assert filing.verify_follow_up(alert.reference, secret).id == alert.id
    assert filing.verify_follow_up(alert.reference, secret[:-1]) is None


def test_outside_tests_the_argon2_secret_hash_is_light_and_older_hashes_verify(app):
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

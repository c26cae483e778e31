"""The reporting tests reuse the claims tests' world (the seed operation, its controller)."""
from tests.claims.conftest import claims_world  # noqa: F401

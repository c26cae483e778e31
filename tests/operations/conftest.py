from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture
def seed_text():
    return (FIXTURES / "hl-rsa-2023.toml").read_text(encoding="utf-8")


@pytest.fixture
def lot_text():
    return (FIXTURES / "lot-2019-aci.toml").read_text(encoding="utf-8")


@pytest.fixture
def seeded(app):
    """Both fixtures loaded through the seed service."""
    from budget_app.kernel.extensions import db
    from budget_app.seed import load_seed_operations

    result = load_seed_operations()
    db.session.commit()
    return result

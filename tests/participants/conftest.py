from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "examples" / "participants-exemple.csv"


@pytest.fixture
def hl_operation(make_operation):
    """The Haute-Loire action of participants §7: 2023-2024."""
    return make_operation("HL-RSA-2023", title="Accompagnement socioprofessionnel renforcé rSa")


@pytest.fixture
def worked_example(hl_operation):
    """The five participants of participants §7, imported through the one service."""
    from budget_app.kernel.extensions import db
    from budget_app.participants.imports import import_participants

    import_participants(hl_operation, EXAMPLE.read_bytes(), filename=EXAMPLE.name)
    db.session.commit()
    return hl_operation

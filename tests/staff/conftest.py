from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "examples"


@pytest.fixture
def example():
    def read(name):
        return (EXAMPLES / name).read_bytes()

    return read


@pytest.fixture
def hl_operation(make_operation):
    """The seed operation's settings: 2023-2024, divisor 1 720, 60 %."""
    return make_operation("HL-RSA-2023", title="Accompagnement socio-professionnel renforcé rSa")

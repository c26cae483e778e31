"""The claims tests' world: the seed operation with its plan, a finance officer, a
controller holding a DACI, an admin (objects come from each domain's factories)."""
from decimal import Decimal

import pytest

from tests.operations.factories import make_plan

from .factories import declare


@pytest.fixture
def claims_world(app, make_user, make_operation):
    officer = make_user("finance_officer", email="fo@example.org")
    controller = make_user("controller", email="ctrl@example.org")
    admin = make_user("admin", email="admin@example.org")
    operation = make_operation(
        "HL-RSA-2023", title="Accompagnement socioprofessionnel renforcé des entrants au rSa",
        members=[officer, controller], fse_amount=Decimal("500250.00"),
    )
    make_plan(operation)
    # The controller's conflict-of-interest declaration (DACI), needed for the CSF.
    declare(controller, operation, recorded_by=admin)
    return {"operation": operation, "officer": officer, "controller": controller, "admin": admin}

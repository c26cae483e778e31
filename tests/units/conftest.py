"""The units tests' world: an operation 2023-2024 at 60 % FSE+, its plan (direct staff costs
100 000,00 € in 2023, indirect costs at 7 % of the direct costs, RPDC 54(a), so that a base
shows what it holds), a finance officer, a controller holding a DACI, an admin."""
from datetime import date
from decimal import Decimal as D

import pytest

from budget_app.kernel.extensions import db
from budget_app.operations.unit_lines import add_unit_line
from tests.claims.factories import declare
from tests.operations.factories import make_plan

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def units_world(app, make_user, make_operation):
    officer = make_user("finance_officer", email="fo@example.org")
    controller = make_user("controller", email="ctrl@example.org")
    admin = make_user("admin", email="admin@example.org")
    operation = make_operation("UC-2023", title="Accompagnement à coûts unitaires", members=[officer, controller])
    make_plan(operation, costs={("PERSONNEL", 2023): "100000.00"}, flat_rates={"INDIRECTS_7": "7"})
    declare(controller, operation, recorded_by=admin)
    return {"operation": operation, "officer": officer, "controller": controller, "admin": admin}


def unit_line(operation, in_base=False, rate="37.50", planned="200", category="PRESTATIONS", **extra):
    line = add_unit_line(operation, "unit", 2023, category, extra.pop("label", "heure d'atelier collectif"), D(rate),
                         D(planned), "feuille d'émargement signée", in_flat_rate_base=in_base, **extra)
    db.session.commit()
    return line


def lump_sum(operation, amount="5000.00", category="FONCTIONNEMENT", in_base=False):
    line = add_unit_line(operation, "lump_sum", 2023, category, "diagnostic territorial remis", D(amount), None,
                         "le diagnostic et son accusé de réception", in_flat_rate_base=in_base)
    db.session.commit()
    return line


JANUARY = (date(2023, 1, 1), date(2023, 1, 31))


@pytest.fixture
def worked_example(make_operation):
    """The five participants of participants §7 (imported through the one service)."""
    from budget_app.participants.imports import import_participants
    from tests.participants.conftest import EXAMPLE

    operation = make_operation("HL-RSA-2023", title="Accompagnement socioprofessionnel renforcé rSa")
    import_participants(operation, EXAMPLE.read_bytes(), filename=EXAMPLE.name)
    db.session.commit()
    return operation

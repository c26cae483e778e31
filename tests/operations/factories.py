"""Test objects of the operations domain."""
from datetime import date
from decimal import Decimal

from budget_app.extensions import db
from budget_app.operations.models import Envelope, Organisation, PlanCost, PlanFlatRate, PlanResource, PlanVersion

D = Decimal


def add_seed_plan(operation):
    """The Haute-Loire plan (primer §2) as version 1 of ``operation``."""
    version = PlanVersion(operation=operation, number=1, signed_on=date(2023, 1, 1))
    version.costs = [PlanCost(category="PERSONNEL", year=2023, amount=D("362500.00")),
                     PlanCost(category="PERSONNEL", year=2024, amount=D("362500.00"))]
    version.flat_rates = [PlanFlatRate(code="INDIRECTS_15", rate=D("15"))]
    version.resources = [PlanResource(position=0, kind="fse", name="FSE+", amount=D("500250.00")),
                         PlanResource(position=1, kind="self", name="Autofinancement", amount=D("333500.00"))]
    db.session.add(version)
    return version


def access_setup(users, operation_in):
    """Objects the route x role walk refers to: a plan version 1 and envelope ENV-TEST."""
    from budget_app.operations.models import Operation

    add_seed_plan(operation_in)
    add_seed_plan(db.session.scalar(db.select(Operation).filter_by(code="OP-OUT")))
    organisation = Organisation(name="Organisme intermédiaire de test", kind="collectivite")
    db.session.add(Envelope(code="ENV-TEST", name="Enveloppe de test", organisation=organisation,
                            start_date=date(2018, 1, 1), end_date=date(2020, 12, 31), fse_amount=D("1900000.00")))
    db.session.commit()

"""Test objects of the operations domain, built with the models."""
from datetime import date
from decimal import Decimal

from budget_app.kernel.extensions import db
from budget_app.operations.models import (
    Envelope,
    Organisation,
    PlanCost,
    PlanFlatRate,
    PlanResource,
    PlanVersion,
)

D = Decimal

SEED_COSTS = {("PERSONNEL", 2023): "362500.00", ("PERSONNEL", 2024): "362500.00"}
SEED_RESOURCES = (("fse", "FSE+", "500250.00"), ("self", "Autofinancement", "333500.00"))


def make_plan(operation, costs=None, flat_rates=None, resources=(), signed_on=None):
    """A new plan version of ``operation``; by default the Haute-Loire plan (primer §2):
    725 000 € of staff costs over 2023-2024 and indirect costs at 15 %."""
    version = PlanVersion(operation=operation, number=len(operation.plan_versions) + 1, signed_on=signed_on)
    for (category, year), amount in (costs if costs is not None else SEED_COSTS).items():
        version.costs.append(PlanCost(category=category, year=year, amount=D(amount)))
    for code, rate in (flat_rates if flat_rates is not None else {"INDIRECTS_15": "15"}).items():
        version.flat_rates.append(PlanFlatRate(code=code, rate=D(rate)))
    for position, (kind, name, amount) in enumerate(resources):
        version.resources.append(PlanResource(position=position, kind=kind, name=name, amount=D(amount)))
    db.session.add(version)
    db.session.commit()
    return version


def add_seed_plan(operation):
    """The Haute-Loire plan with its resources, as the agreement (version 1)."""
    return make_plan(operation, resources=SEED_RESOURCES, signed_on=date(2023, 1, 1))


def make_envelope(code="ENV-TEST", fse_amount="1900000.00"):
    organisation = Organisation(name="Organisme intermédiaire de test", kind="collectivite")
    envelope = Envelope(code=code, name="Enveloppe de test", organisation=organisation,
                        start_date=date(2018, 1, 1), end_date=date(2020, 12, 31), fse_amount=D(fse_amount))
    db.session.add(envelope)
    db.session.commit()
    return envelope

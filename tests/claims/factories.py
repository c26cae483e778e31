"""Test objects of the claims domain: a controller's conflict-of-interest declaration."""
from datetime import date

from budget_app.claims.daci import record_declaration
from budget_app.kernel.extensions import db


def declare(controller, operation=None, recorded_by=None, year=None, signed_on=date(2023, 1, 2), interest=False,
            valid_until=None):
    """A DACI of ``controller`` for ``operation`` (or for every operation of ``year``)."""
    declaration = record_declaration(
        user=controller, operation=operation, programme_year=year, signed_on=signed_on, valid_until=valid_until,
        has_interest=interest, interest_description="Conjoint salarié du porteur" if interest else "",
        recorded_by=recorded_by,
    )
    db.session.commit()
    return declaration

"""The service-done check's settings of an operation (primer §8; claims.sampling): a sample
rate in (0, 100] % and extrapolation only with a sample; read from the operation file."""
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from budget_app.kernel.errors import DomainError
from budget_app.kernel.extensions import db
from budget_app.operations.loader import load_operation
from budget_app.operations.models import Operation


def refused(text):
    with pytest.raises(DomainError) as caught:
        load_operation(text)
    db.session.rollback()
    return "\n".join(caught.value.lines())


def test_sample_settings_from_the_operation_file(app, seed_text):
    load_operation(seed_text)
    db.session.commit()
    operation = db.session.scalar(select(Operation))
    assert (operation.csf_sample_percent, operation.csf_extrapolation) == (None, False)  # exhaustive by default
    db.session.delete(operation)
    db.session.commit()
    load_operation(seed_text.replace("fse_rate = 60", "fse_rate = 60\ncsf_sample_percent = 20\ncsf_extrapolation = true"))
    db.session.commit()
    operation = db.session.scalar(select(Operation))
    assert (operation.csf_sample_percent, operation.csf_extrapolation) == (D("20"), True)


def test_bad_sample_settings_are_refused_by_name(app, seed_text):
    assert "operation.csf_sample_percent" in refused(seed_text.replace("fse_rate = 60", "fse_rate = 60\ncsf_sample_percent = 0"))
    lines = refused(seed_text.replace("fse_rate = 60", "fse_rate = 60\ncsf_extrapolation = true"))
    assert "operation.csf_extrapolation : l'extrapolation suppose un contrôle par échantillon" in lines
    assert db.session.scalar(select(Operation)) is None

"""Envelope totals under concurrency (issue 21): operations attached at the same moment
never take the envelope past its FSE+ amount."""
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from budget_app.kernel.extensions import db
from budget_app.operations.models import Envelope, Operation, Organisation
from tests.races import in_parallel, postgres_only


@postgres_only
def test_four_parallel_attachments_never_exceed_the_envelope(app, make_user, make_operation):
    """Envelope 1 900 000,00 €; four operations of 522 500,00 € each attached at once:
    today all four (2 090 000,00 €). Three fit (1 567 500,00 €), the fourth is refused."""
    admin = make_user("admin")
    envelope = Envelope(code="ENV-1", name="Subvention globale", fse_amount=Decimal("1900000.00"),
                        start_date=date(2023, 1, 1), end_date=date(2027, 12, 31),
                        organisation=Organisation(name="Département du Lot", kind="collectivite"))
    codes = [f"OP-{n}" for n in range(4)]
    for code in codes:
        make_operation(code, fse_amount=Decimal("522500.00"))
    db.session.add(envelope)
    db.session.commit()

    def attach(code):
        return lambda client: client.post("/enveloppes/rattachement", data={"operation": code, "envelope": "ENV-1"})

    responses = in_parallel(app, admin, [attach(code) for code in codes])
    assert all(response.status_code == 302 for response in responses)
    attached = select(Operation).where(Operation.envelope_id == envelope.id)
    assert len(db.session.scalars(attached).all()) == 3
    assert db.session.scalar(select(func.sum(Operation.fse_amount)).where(Operation.envelope_id == envelope.id)) \
        == Decimal("1567500.00")

"""An administrator's decision on an amendment request is a move of its table
(``operations/amendments.AMENDMENTS``): guarded, so two decisions at once cannot both win."""
import pytest
from sqlalchemy import select, update

from budget_app.kernel.errors import Conflict, DomainError
from budget_app.kernel.extensions import db
from budget_app.operations.amendments import AMENDMENTS, reject_request
from budget_app.operations.models import AmendmentRequest


@pytest.fixture
def pending(make_operation, make_user):
    officer = make_user("finance_officer")
    operation = make_operation("OP-AV")
    request = AmendmentRequest(operation_id=operation.id, state="pending", requested_by_id=officer.id, payload="{}")
    db.session.add(request)
    db.session.commit()
    return request


def test_a_decision_taken_meanwhile_by_another_administrator_is_not_overwritten(pending, make_user):
    """The page was read while the request was pending; another administrator approved it
    since: rejecting it now is a Conflict and the approval stands. (Before: the state read
    in memory said « pending », the rejection overwrote the approval.)"""
    admin = make_user("admin")
    db.session.execute(update(AmendmentRequest).where(AmendmentRequest.id == pending.id).values(state="approved")
                       .execution_options(synchronize_session=False))
    with pytest.raises(Conflict):
        with db.session.begin_nested():
            reject_request(pending, admin, "Taux non prévu par la convention")
    db.session.commit()
    assert db.session.scalar(select(AmendmentRequest.state).where(AmendmentRequest.id == pending.id)) == "approved"


def test_the_table_allows_a_decision_only_on_a_pending_request(pending, make_user):
    admin = make_user("admin")
    assert [move.action for move in AMENDMENTS.allowed("pending")] == ["approve", "reject"]
    assert AMENDMENTS.allowed("approved") == () and AMENDMENTS.allowed("rejected") == ()
    reject_request(pending, admin, "Hors convention")
    db.session.commit()
    assert (pending.state, pending.decision_reason, pending.decided_by_id) == ("rejected", "Hors convention", admin.id)
    with pytest.raises(DomainError, match="déjà été traité"):
        reject_request(pending, admin, "encore")

"""Double funding under concurrency (issue 21, CPR 63(9)): six requests entering the same
invoice at 100 % at the same moment store it once."""
from sqlalchemy import func, select

from budget_app.expenses.models import Expense
from budget_app.kernel.extensions import db
from tests.races import in_parallel, postgres_only

from .conftest import form_values


@postgres_only
def test_six_parallel_entries_of_one_invoice_store_it_once(app, officer, lot):
    """Today 4 of 6 were stored (400 % of the invoice). One is stored at 100 %; the five
    others see the form again with the rule's message, none a 500."""
    def post(client):
        return client.post("/operations/LOT-2019-ACI/depenses/nouvelle", data=form_values(),
                           content_type="multipart/form-data")

    responses = in_parallel(app, officer, [post] * 6)
    assert db.session.scalar(select(func.count(Expense.id))) == 1
    assert sorted(response.status_code for response in responses) == [200] * 5 + [302]
    refused = [response.get_data(as_text=True) for response in responses if response.status_code == 200]
    assert all("double financement : la pièce FA-2019-0311 est déjà affectée à 100 %" in page for page in refused)

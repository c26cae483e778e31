import pytest

from tests.alerts.conftest import operation, own_alert_key, referent  # noqa: F401  (fixtures)
from tests.test_access import world  # noqa: F401  (fixture)


@pytest.fixture
def staff_client(app, login):
    def make(user):
        client = app.test_client()
        login(client, user)
        return client

    return make

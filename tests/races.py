"""Parallel requests for the concurrency tests (issue 21): each runs in a thread of its
own, with its own application context, test client and database connection, and all
start together (a barrier). On SQLite a request's transaction is BEGIN IMMEDIATE, so
writers take turns and there is no race to show: these tests run on PostgreSQL."""
import threading

import pytest

from budget_app.accounts.sessions import start_session
from budget_app.kernel.extensions import db
from tests.conftest import ON_POSTGRES

postgres_only = pytest.mark.skipif(
    not ON_POSTGRES, reason="SQLite serialises writers (BEGIN IMMEDIATE): the race needs PostgreSQL")


def in_parallel(app, user, requests) -> list:
    """Send ``requests`` (each a function of a logged-in test client) at the same moment;
    return their responses in order. An exception in any request fails the test."""
    clients = []
    for _request in requests:
        client = app.test_client()
        token = start_session(user)
        db.session.commit()
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"], session["sid"] = str(user.id), True, token
        clients.append(client)
    barrier = threading.Barrier(len(requests))
    responses, errors = [None] * len(requests), []

    def run(index):
        try:
            with app.app_context():
                barrier.wait(timeout=60)
                responses[index] = requests[index](clients[index])
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert not errors, errors
    assert all(response is not None for response in responses)
    db.session.expire_all()
    return responses

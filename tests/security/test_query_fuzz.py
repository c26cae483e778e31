"""Finding 8 of issue 13: no 500 from user input. Crafted values (NaN, Infinity, 1e308
cursors with sort=montant, an id of 10^30 in a cursor, mois=0000-01, huge page numbers)
and a hypothesis fuzz of the query strings of every GET endpoint, for every role."""
import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from budget_app.accounts.roles import ROLES
from tests.test_access import _url, rules

NAMES = ["page", "mois", "month", "apres", "avant", "fin", "sort", "dialect", "de", "a", "start", "end",
         "category", "supplier", "state", "q", "object_type", "object_id", "actor", "next", "secret", "code"]


def cursor(value, expense_id) -> str:
    raw = json.dumps([value, expense_id], separators=(",", ":"), allow_nan=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


CRAFTED = [
    "NaN", "Infinity", "-Infinity", "1e308", "-1e308", "1e-400", str(10**30), "-1", "0", "99999999999999999999",
    "0000-01", "9999-12", "2023-13", "0001-01-01", "9999-12-31", "2023-02-30", "\x00", "\u2028", "%", "'", "",
    "montant", "date", "fournisseur", "excel-en", "xx", "1", "a" * 300, "é" * 10,
    cursor("NaN", 1), cursor("Infinity", 1), cursor("1e308", 1), cursor("1", 10**30), cursor("2023-01-01", -1),
    cursor("9999-12-31", 1), cursor([1], 1), cursor(None, None), cursor("x", "1e400"), "!!!", "AAAA",
]
VALUES = st.one_of(st.sampled_from(CRAFTED), st.text(max_size=12), st.integers().map(str))
QUERIES = st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=4)


@pytest.fixture
def clients(app, world, login):
    made = {None: app.test_client()}
    for role in ROLES:
        made[role] = login(app.test_client(), world["users"][role])
    return made


@pytest.mark.parametrize("query", [
    {"sort": "montant", "apres": cursor("NaN", 1)},
    {"sort": "montant", "apres": cursor("Infinity", 1)},
    {"sort": "montant", "avant": cursor("1e308", 1)},
    {"sort": "date", "apres": cursor("2023-01-01", 10**30)},
    {"mois": "0000-01"},
    {"month": "0000-01"},
    {"mois": "9999-12"},
    {"page": "99999999999999999999"},
    {"start": "0001-01-01", "end": "9999-12-31"},
    {"sort": "fournisseur", "apres": cursor("a\x00b", 1)},
    {"q": "a\x00b", "supplier": "\x00", "actor": "\x00", "object_type": "\x00", "object_id": "\x00"},
    {"mois": "\x00", "month": "\x00", "next": "/\x00", "dialect": "\x00", "page": "\x00"},
])
def test_crafted_query_values_never_answer_500(app, world, clients, query):
    failures = []
    for rule in rules(app):
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        url = _url(rule, world["values"]["OP-IN"])
        for role in ("admin", "finance_officer", "antifraud_referent", "auditor"):
            status = clients[role].get(url, query_string=query).status_code
            if status >= 500:
                failures.append(f"{url} {query} as {role}: {status}")
    assert failures == []


def test_fuzzed_query_strings_of_every_get_endpoint_never_answer_500(app, world, clients):
    urls = [_url(rule, world["values"]["OP-IN"]) for rule in rules(app)
            if "GET" in rule.methods and rule.endpoint != "static"]

    @settings(max_examples=400, deadline=None, database=None)
    @given(role=st.sampled_from([None, *ROLES]), url=st.sampled_from(urls), query=QUERIES)
    def check(role, url, query):
        status = clients[role].get(url, query_string=query).status_code
        assert status < 500, f"{url} {query} as {role}: {status}"

    check()

"""Point 7 of issue 21: no 5xx from any field of any form. Every page every role can open is
read once; each HTML form found there (its action, or the page itself, and its field names)
is then posted with hypothesis-drawn bodies: crafted values (« ² », 20-digit ids, « 1e23 »,
NUL, CR/LF, huge and signed numbers, control characters) in its own fields and in a few
fields it does not have. Runs on whichever database the suite runs on (SQLite and, with
TEST_DATABASE_URL, PostgreSQL).

Cost: each field alone with two crafted numbers, then FORM_FUZZ_EXAMPLES drawn bodies per
form (3 in the suite; `make bench` runs 40 and sweeps five values)."""
import os
from html.parser import HTMLParser
from urllib.parse import urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from budget_app.accounts.roles import ROLES
from tests.test_access import _url, rules

EXAMPLES = int(os.environ.get("FORM_FUZZ_EXAMPLES", "3"))
# Never posted: they end the session the next bodies need (the login form is fuzzed).
SKIPPED_ACTIONS = {"/deconnexion"}
CRAFTED = [
    "²", "¹²", "١٢", "1e23", "1E23", "-1", "+1", "0", "1_000", " 7 ", "12.5", "99999999999999999999",
    str(2**31), str(2**63), "9" * 400, "NaN", "Infinity", "\x00", "a\x00b", "\x0b", "/\r\nSet-Cookie: x=1",
    "/a\r\nLocation: https://evil.example", "expense:²", "expense:99999999999999999999", "staff_cost_line:1e23",
    "2023-13", "0000-01", "9999-12-31", "31/02/2023", "1 234,567", "-0", "'", "%", "", " ", "é" * 600,
]
# Each field of each form is posted alone with these (more under `make bench`).
SWEPT = ["²", "99999999999999999999"] + (["1e23", "/\r\nX: 1", "a\x00b"] if EXAMPLES > 3 else [])
VALUES = st.one_of(st.sampled_from(CRAFTED), st.text(max_size=20), st.integers().map(str))
EXTRA_NAMES = ["version", "next", "line", "fiche", "expense_ids", "staff_ids", "credit_note_of", "year",
               "programme_year", "operation_id", "id", "page"]


class _Forms(HTMLParser):
    """(action, field names) of every <form method="post"> of a page."""

    def __init__(self, page_path: str):
        super().__init__()
        self.page_path = page_path
        self.forms: list[tuple[str, set[str]]] = []
        self._current = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "get").lower() == "post":
            self._current = (urlsplit(attrs.get("action") or self.page_path).path, set())
        elif self._current is not None and tag in ("input", "select", "textarea", "button") and attrs.get("name"):
            if attrs.get("type") not in ("file",):
                self._current[1].add(attrs["name"])

    def handle_endtag(self, tag):
        if tag == "form" and self._current is not None:
            self.forms.append(self._current)
            self._current = None


def discovered_forms(app, world, login) -> list[tuple[object, str, tuple[str, ...]]]:
    """(role, action, names) for every form found on a page some role may open; one per
    (role, action) with the union of names."""
    found: dict[tuple, set[str]] = {}
    for role in (None, *ROLES):
        client = app.test_client()
        if role is not None:
            login(client, world["users"][role])
        for rule in rules(app):
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            url = _url(rule, world["values"]["OP-IN"])
            response = client.get(url)
            if response.status_code != 200 or not response.mimetype == "text/html":
                continue
            parser = _Forms(url)
            parser.feed(response.get_data(as_text=True))
            for action, names in parser.forms:
                if action not in SKIPPED_ACTIONS:
                    found.setdefault((role, action), set()).update(names)
    return [(role, action, tuple(sorted(names - {"csrf_token"}))) for (role, action), names in sorted(
        found.items(), key=lambda item: (str(item[0][0]), item[0][1]))]


def test_fuzzed_post_bodies_of_every_form_never_answer_5xx(app, world, login):
    forms = discovered_forms(app, world, login)
    # Every kind of form is reached: the login, the public report, an import, the referent's lines.
    actions = {action for _role, action, _names in forms}
    assert {"/connexion", "/signalement", "/admin/utilisateurs"} <= actions, sorted(actions)
    assert any(action.endswith("/lignes") for action in actions) and len(forms) >= 40, len(forms)
    failures = []
    for role, action, names in forms:
        client = app.test_client()
        if role is not None:
            login(client, world["users"][role])
        # Every field alone with each number that once gave a 500, then drawn bodies.
        for name in names:
            for value in SWEPT:
                status = client.post(action, data={name: value}).status_code
                if status >= 500:
                    failures.append(f"POST {action} {name}={value!r} as {role}: {status}")
        bodies = st.dictionaries(st.sampled_from(names + tuple(EXTRA_NAMES)) if names else st.sampled_from(EXTRA_NAMES),
                                 VALUES, max_size=max(3, len(names)))

        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(body=bodies)
        def post(body):
            response = client.post(action, data=body)
            if response.status_code >= 500:
                failures.append(f"POST {action} {body!r} as {role}: {response.status_code}")
            location = response.headers.get("Location", "")
            if "\r" in location or "\n" in location:
                failures.append(f"POST {action} {body!r} as {role}: Location {location!r}")

        post()
    assert failures == []

"""Nothing an auditor or an admin sees differs between a suspicion and an ordinary hold
(issue 21, point 3; loi 2022-401). In a fresh world each, an auditor and an admin capture
every page and export they may open (the URL map walked with the sample world's values, GET
only: pages, CSV/XLSX/PDF exports, the evidence pack) after (a) a filing that puts two lines
under suspicion -- one declared in a submitted bilan, one not -- and (b) the managing
authority's hold of the same two lines. Volatile parts (CSRF tokens, session ids, today's
date and times, PDF/ZIP stamps) normalised, the captures are identical."""
import io
import re
import shutil
import zipfile
import zlib
from datetime import date

from sqlalchemy.engine import make_url

from budget_app.kernel.formatting import today_in_paris
from budget_app.accounts.roles import ADMIN, AUDITOR
from budget_app.alerts import suspicions
from budget_app.claims import holds
from budget_app.claims.models import ClaimLine
from budget_app.kernel.extensions import db
from tests import conftest
from tests.expenses import factories as expense_factories
from tests.alerts.factories import file_alert
from tests.test_access import EXPECTED, PUBLIC, _operation_samples, rules, who

ROLES = {"A": ADMIN, "U": AUDITOR}
# Not pages: leaving the session, the language switch, static files.
SKIPPED = {"static", "accounts.logout", "accounts.language"}
VOLATILE = [
    (re.compile(rb'name="csrf_token"[^>]*value="[^"]*"|value="[^"]*"[^>]*name="csrf_token"'), b"CSRF"),
    (re.compile(rb'<meta name="csrf-token" content="[^"]*"'), b"CSRF-META"),
    (re.compile(rb"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(\s*\+\d{2}:?\d{2}|Z)?"), b"HH:MM"),
    (re.compile(rb"/(CreationDate|ModDate) *\([^)]*\)"), b"/DATE"),
    (re.compile(rb"/ID *\[<[0-9a-fA-F]+> *<[0-9a-fA-F]+>\]"), b"/ID"),
    (re.compile(rb"<dcterms:(created|modified)[^<]*</dcterms:\1>"), b"DCTERMS"),
    (re.compile(rb"[0-9a-f]{24,}"), b"HEX"),  # random stored file names (and digests, alike anyway)
    (re.compile(rb"/Length \d+"), b"/Length"),
    (re.compile(rb'"HEX";"\d+"'), b'"HEX";"SIZE"'),
    (re.compile(rb"P-[A-Z0-9]{8}"), b"P-CODE"),  # participants' random codes
    (re.compile(rb'data:image/svg\+xml[^"]*'), b"QR"),  # the reader's own second-factor set-up
    (re.compile(rb'"totp-secret">[A-Z2-7]+<'), b'"totp-secret">SECRET<'),  # a manifest's sizes of zipped, stamped files
]
STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)


def _inflate(match) -> bytes:
    try:
        return b"stream\n" + zlib.decompress(match.group(1)) + b"\nendstream"
    except zlib.error:
        return match.group(0)


def _today_patterns():
    days = {date.today(), today_in_paris()}  # the machine's day and the app's (Paris) day
    return [day.strftime(fmt).encode() for day in sorted(days)
            for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%Y%m%d", "%m/%d/%Y")]


def _normalise(body: bytes) -> bytes:
    if body[:2] == b"PK":  # XLSX, the pack: each member, in order
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return b"\n".join(info.filename.encode() + b":" + _normalise(archive.read(info))
                              for info in archive.infolist())
    if body[:4] == b"%PDF":
        body = STREAM.sub(_inflate, body)
        body = re.sub(rb"\n\d{10} \d{5} [nf]", b"\nXREF", body)
        body = re.sub(rb"startxref\s+\d+", b"startxref", body)
    for pattern, replacement in VOLATILE:
        body = pattern.sub(replacement, body)
    for today in _today_patterns():
        body = body.replace(today, b"TODAY")
    return body


def _reset(request):
    """A fresh, empty database (the tests' own reset, mid-test)."""
    url = str(db.engine.url.render_as_string(hide_password=False))
    db.session.remove()
    db.engine.dispose()
    if conftest.ON_POSTGRES:
        conftest._empty_postgres(url)
    else:
        shutil.copyfile(request.getfixturevalue("migrated_database"), make_url(url).database)


def _world(make_operation, make_user):
    expense_factories._counter["n"] = 0  # the same document numbers in each world
    users = {role: make_user(role, email=f"{role}@capture.example.org")
             for role in (ADMIN, AUDITOR, "antifraud_referent")}
    operation = make_operation("OP-IN")
    values = {"filename": "css/app.css", **_operation_samples(operation)}
    declared = db.session.scalars(db.select(ClaimLine.expense_id)).one()
    return users, operation, values, [("expense", values["expense_id"]), ("expense", declared)]


def _capture(app, login, users, values) -> dict:
    pages = {}
    for letter, role in ROLES.items():
        client = app.test_client()
        login(client, users[role])
        for rule in rules(app):
            spec = EXPECTED.get(rule.endpoint)
            if rule.endpoint in SKIPPED or "GET" not in rule.methods or spec is None or spec == PUBLIC \
                    or role not in who(spec[0]) or set(rule.arguments) - set(values):
                continue
            url = rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)[1]
            response = client.get(url)
            pages[(letter, url)] = (response.status_code, _normalise(response.get_data()))
    return pages


def _suspect(users, operation, lines):
    alert, _secret = file_alert(operation=operation)
    suspicions.link_cost_lines(alert, users["antifraud_referent"], lines)
    db.session.commit()


def _hold(_users, operation, lines):
    for line_type, line_id in lines:
        holds.place_hold(operation, line_type, line_id, "Justificatif demandé")
    db.session.commit()


def _dump(one, two):
    import difflib
    for key in sorted(one):
        if one[key] != two.get(key):
            a = one[key][1].decode(errors="replace").splitlines()
            b = two.get(key, (0, b""))[1].decode(errors="replace").splitlines()
            print(key, "\n".join(list(difflib.unified_diff(a, b, lineterm=""))[:40]))


def test_a_suspicion_and_an_authority_hold_read_the_same_to_auditors_and_admins(
        app, request, make_operation, make_user, login):
    captures = {}
    for name, act in (("suspicion", _suspect), ("hold", _hold)):
        _reset(request)
        users, operation, values, lines = _world(make_operation, make_user)
        before = _capture(app, login, users, values)
        act(users, operation, lines)
        captures[name] = (before, _capture(app, login, users, values))
    (before_a, after_a), (before_b, after_b) = captures["suspicion"], captures["hold"]
    assert len(after_a) > 40 and sum(status == 200 for status, _body in after_a.values()) > 40
    _dump(before_a, before_b)
    assert before_a == before_b  # the two fresh worlds are alike
    assert after_a != before_a  # the lines do read held
    _dump(after_a, after_b)
    differing = sorted(key for key in after_a if after_a[key] != after_b.get(key))
    assert differing == []

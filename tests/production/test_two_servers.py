"""Two app servers behind nginx (README « Production »): whichever server answers, a login
session, its CSRF tokens, the throttles, a reporter's follow-up session, a document uploaded
on one and downloaded from the other, an import previewed on one and confirmed on the other
all work. The servers share PostgreSQL, Redis and a bucket of moto's S3 server; each has its
own (empty) upload folder. Run once by .ci/run (TEST_TWO_SERVERS=1, on PostgreSQL)."""
import os
import re

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from budget_app.expenses.models import Expense, SupportingDocument
from budget_app.kernel import storage
from budget_app.kernel.extensions import db
from tests.conftest import ON_POSTGRES, PASSWORD, TEST_CONFIG
from tests.expenses.conftest import PDF_BYTES, lot, officer  # noqa: F401 (fixtures)
from tests.production.cluster import NGINX, Browser, Cluster
from tests.production.test_shared_throttles import REDIS_URL, redis_reachable
from tests.s3 import s3_settings
from tests.security.test_imports import GOOD, HEADER

pytestmark = [
    pytest.mark.two_servers,
    pytest.mark.skipif(os.environ.get("TEST_TWO_SERVERS") != "1",
                       reason="two servers behind nginx: TEST_TWO_SERVERS=1 (.ci/run runs it once)"),
]

ALERT_KEY = Fernet.generate_key().decode()
PARTICIPANT_KEY = Fernet.generate_key().decode()
OPS = "/operations/LOT-2019-ACI"


@pytest.fixture
def app_config(app_config, s3_endpoint):
    if not ON_POSTGRES:
        pytest.skip("the two servers share a PostgreSQL database (TEST_DATABASE_URL)")
    if not os.path.exists(NGINX):
        pytest.skip("nginx is not installed (.ci/run installs Debian's nginx-light)")
    if not redis_reachable():
        pytest.skip(f"Redis is not answering at {REDIS_URL}")
    return {**app_config, **s3_settings(s3_endpoint), "ALERT_KEY": ALERT_KEY, "PARTICIPANT_KEY": PARTICIPANT_KEY}


@pytest.fixture
def cluster(app, app_config, tmp_path, lot, make_user):  # noqa: F811 (lot)
    make_user("antifraud_referent", email="referent@example.org")
    db.session.commit()
    env = {
        **os.environ,
        "BUDGET_APP_ENV": "production",
        "DATABASE_URL": app_config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": TEST_CONFIG["SECRET_KEY"],
        "REDIS_URL": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": f"two-servers-{os.urandom(6).hex()}",
        "BUDGET_APP_PROXY_COUNT": "1",
        "BUDGET_APP_ALERT_KEY": ALERT_KEY,
        "BUDGET_APP_PARTICIPANT_KEY": PARTICIPANT_KEY,
        "BUDGET_APP_STORAGE": "s3",
        "BUDGET_APP_S3_ENDPOINT_URL": app_config["S3_ENDPOINT_URL"],
        "BUDGET_APP_S3_BUCKET": app_config["S3_BUCKET"],
        "BUDGET_APP_S3_REGION": app_config["S3_REGION"],
    }
    running = Cluster(tmp_path, env)
    try:
        yield running.start()
    finally:
        running.stop()


def login(browser, email, password=PASSWORD):
    first, second = browser.cluster.app_ports
    token = browser.on(first).csrf("/connexion")
    return browser.on(second).post("/connexion", {"csrf_token": token, "email": email, "password": password})


def test_session_csrf_upload_download_and_import_whichever_server_answers(cluster, officer):  # noqa: F811
    first, second = cluster.app_ports
    browser = Browser(cluster)
    status, location, _ = login(browser, officer.email)  # the form from one server, posted to the other
    assert status == 302 and "/connexion" not in location
    for port in (first, second):  # the session is known to both
        assert browser.on(port).get(f"{OPS}/depenses")[0] == 200
        assert browser.served_by[-1] == port

    # CSRF: a token from one server is good on the other; none is refused by both.
    token = browser.on(first).csrf(f"{OPS}/depenses/nouvelle")
    fields = {"csrf_token": token, "incurred_on": "2019-03-04", "paid_on": "2019-03-15",
              "supplier_name": "Papeterie du Lot", "supplier_siret": "", "document_number": "FA-2019-0311",
              "label": "Fournitures", "category": "FONCTIONNEMENT", "amount_excl_vat": "245,80", "vat": "49,16",
              "allocation_percent": "100"}
    invoice = PDF_BYTES + b"% uploaded through nginx\n"
    status, _, page = browser.on(second).post(f"{OPS}/depenses/nouvelle", fields,
                                             [("invoice", "facture.pdf", invoice, "application/pdf")])
    assert status == 302, page[:2000]
    for port in (first, second):
        assert browser.on(port).post(f"{OPS}/depenses/nouvelle", {**fields, "csrf_token": ""})[0] == 400

    # The document uploaded on the second server is downloaded from the first.
    db.session.expire_all()
    document = db.session.scalar(select(SupportingDocument).where(SupportingDocument.kind == "invoice"))
    assert storage.read(document.stored_name, sha256=document.sha256) == invoice  # in the bucket
    status, _, data = browser.on(first).get(f"{OPS}/pieces/{document.id}")
    assert (status, data) == (200, invoice)
    assert [path for index in (0, 1) for path in (cluster.workdir / f"uploads-{index}").rglob("*")
            if path.is_file()] == []  # nothing kept on either server's disk

    # An import previewed on one server is confirmed on the other.
    content = (HEADER + GOOD.format(n=1) + GOOD.format(n=2)).encode()
    token = browser.on(first).csrf(f"{OPS}/depenses/import")
    status, _, page = browser.on(second).post(f"{OPS}/depenses/import", {"csrf_token": token},
                                             [("file", "depenses.csv", content, "text/csv")])
    assert status == 200
    staged = re.search(rb'name="token"[^>]*value="([0-9a-f]+)"', page).group(1).decode()
    csrf = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
    status, location, _ = browser.on(first).post(f"{OPS}/depenses/import/confirmer",
                                                 {"csrf_token": csrf, "token": staged})
    assert status == 302 and location.endswith(f"{OPS}/depenses")
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Expense.id)).where(Expense.document_number.like("FA-_"))) == 2
    assert list(storage.iterate("imports/")) == []  # taken: gone from the bucket


def test_throttles_and_the_reporters_follow_up_whichever_server_answers(cluster, officer):  # noqa: F811
    first, second = cluster.app_ports
    browser = Browser(cluster)
    statuses = [login(browser, officer.email, "wrong password!!")[0] for _ in range(5)]
    assert statuses == [200] * 5 and set(browser.served_by) == {first, second}
    # Five failures counted across both servers (Redis): the right password is refused now.
    assert login(browser, officer.email)[0] == 429

    reporter = Browser(cluster)
    token = reporter.on(first).csrf("/signalement")
    fields = {"csrf_token": token, "kind": "fraud", "operation_id": "", "operation_text": "Chantier du Lot",
              "facts": "Factures gonflées", "persons": "", "dates": "", "identity": "anonymous"}
    status, _, receipt = reporter.on(second).post("/signalement", fields,
                                                  [("attachments", "preuve.pdf", PDF_BYTES, "application/pdf")])
    assert status == 200, receipt[:2000]
    assert reporter.previous_went_to() == second  # form from one server, filing on the other
    reference = re.search(rb'data-testid="reference">([^<]+)<', receipt).group(1).decode()
    secret = re.search(rb'data-testid="secret">([^<]+)<', receipt).group(1).decode()
    token = reporter.on(first).csrf("/signalement/suivi")
    status, location, _ = reporter.on(second).post(
        "/signalement/suivi", {"csrf_token": token, "reference": reference, "secret": secret})
    assert status == 302 and location.endswith("/signalement/suivi")
    for port in (first, second):  # the follow-up session (on the server side) is known to both
        status, _, thread = reporter.on(port).get("/signalement/suivi")
        assert status == 200 and b'data-testid="thread"' in thread and b"Factures gonfl" in thread
        assert reporter.previous_went_to() == port
    # nginx kept no line of the channel: nothing dates the filing or keeps the reporter's address.
    logged = cluster.log_lines()
    assert any(" /sante " in line for line in logged), logged  # the log is written…
    assert not [line for line in logged if "signalement" in line or "/referent/" in line], logged  # …but not of this
    [attachment] = storage.iterate("alerts/")
    assert PDF_BYTES not in storage.read(attachment.key)  # encrypted before it left the app

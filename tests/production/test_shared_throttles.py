"""Several workers share their throttle counters through Redis (RATELIMIT_STORAGE_URI or
REDIS_URL): failures counted by one instance are counted by the other. Each instance is a
process of its own (the limiter is one object per process, so two apps in one process would
share it whatever the storage); with memory:// the same steps are not shared."""
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis

from budget_app import create_app
from budget_app.kernel.extensions import db
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

INSTANCE = """
import json, sys
from budget_app import create_app
config, steps = json.loads(sys.argv[1]), json.loads(sys.argv[2])
client = create_app(config).test_client()
report = {"kind": "fraud", "operation_text": "Chantier", "facts": "Faits", "identity": "anonymous"}
codes = []
for step in steps:
    if step == "report":
        response = client.post("/signalement", data=report)
    else:
        response = client.post("/connexion", data={"email": "fo@example.org", "password": step})
    codes.append(response.status_code)
print(json.dumps(codes))
"""


def redis_reachable() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.exceptions.ConnectionError:
        return False


@pytest.fixture
def shared_config(app, app_config, tmp_path):
    if not redis_reachable():
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not answering at {REDIS_URL} (.ci/run starts it)")
        pytest.skip(f"Redis is not answering at {REDIS_URL}")
    return {
        **app_config,
        "RATELIMIT_STORAGE_URI": None,
        "REDIS_URL": REDIS_URL,
        # Counters of this test only (other tests, workers and checkouts share the server).
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        "ALERT_KEY_FILE": str(tmp_path / "alert_key"),
        "ALERT_REPORTS_PER_ADDRESS": "2 per hour",
    }


def instance(config: dict, steps: list[str]) -> list[int]:
    """Runs ``steps`` (a password to log in with, or "report") in a process of its own."""
    db.session.commit()
    result = subprocess.run(
        [sys.executable, "-c", INSTANCE, json.dumps(config), json.dumps(steps)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


WRONG = "wrong password!!"


def test_login_failures_are_counted_by_both_instances(shared_config, make_user):
    make_user(email="fo@example.org")
    assert instance(shared_config, [WRONG] * 3) == [200] * 3
    # 5 failures for the account across both instances: the right password is refused now.
    assert instance(shared_config, [WRONG] * 2 + [PASSWORD]) == [200, 200, 429]


def test_public_filings_are_counted_by_both_instances(shared_config):
    assert instance(shared_config, ["report"] * 2) == [200, 200]
    assert instance(shared_config, ["report"]) == [429]


def test_with_memory_storage_each_instance_counts_alone(shared_config, make_user):
    """The control: the same steps without Redis are not shared (so the tests above can fail)."""
    config = {**shared_config, "RATELIMIT_STORAGE_URI": "memory://", "REDIS_URL": None}
    make_user(email="fo@example.org")
    assert instance(config, [WRONG] * 3 + ["report"] * 2) == [200] * 5
    assert instance(config, [WRONG] * 2 + [PASSWORD, "report"]) == [200, 200, 302, 200]


def test_production_refuses_memory_storage_unless_single_process(app_config):
    production = {**app_config, "BUDGET_APP_ENV": "production", "RATELIMIT_STORAGE_URI": None}
    with pytest.raises(RuntimeError, match="memory://"):
        create_app(production)
    with pytest.raises(RuntimeError, match="memory://"):
        create_app({**production, "RATELIMIT_STORAGE_URI": "memory://"})
    assert create_app({**production, "BUDGET_APP_SINGLE_PROCESS": True}).config["RATELIMIT_STORAGE_URI"] == "memory://"
    app = create_app({**production, "REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


def test_single_process_flag_is_read_from_the_environment(app_config, monkeypatch):
    monkeypatch.setenv("BUDGET_APP_SINGLE_PROCESS", "1")
    app = create_app({**app_config, "BUDGET_APP_ENV": "production", "RATELIMIT_STORAGE_URI": None})
    assert app.config["BUDGET_APP_SINGLE_PROCESS"] is True


RESTING_SLOT = """
import json, sys
from budget_app import create_app
from budget_app.kernel import throttle
app = create_app(json.loads(sys.argv[1]))
with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}):  # the test client's
    throttle.note_failure("password")  # this address failed lately: its checks take a slot
    slot = throttle.acquire_slot("password", 1)
    throttle.release_slot(slot, rest=60)
    print(json.dumps([slot[0], throttle._slot_store().pttl(slot[0])]))
"""


def test_a_resting_password_slot_is_taken_for_every_worker_of_the_host(shared_config, make_user):
    """Issue 21, point 4: after a check, the host's slot rests in Redis (its token kept, an
    expiry set): a login in another process, from an address that failed lately (the mark is in
    Redis too), finds it taken and is answered 429 at once."""
    config = {**shared_config, "PASSWORD_CHECKS_AT_ONCE": 1}
    make_user(email="fo@example.org")
    db.session.commit()
    result = subprocess.run([sys.executable, "-c", RESTING_SLOT, json.dumps(config)], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, check=True)
    key, ttl = json.loads(result.stdout.strip().splitlines()[-1])
    assert config["RATELIMIT_KEY_PREFIX"] in key and 0 < ttl <= 60_000
    assert instance(config, [PASSWORD]) == [429]
    redis.Redis.from_url(REDIS_URL).delete(key)
    assert instance(config, [PASSWORD]) == [302]

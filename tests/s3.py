"""A real S3 endpoint for the tests: moto's server mode (PyPI ``moto[server]``), started as
its own process on 127.0.0.1 at a free port, once per test session (per xdist worker).

The S3 leg runs once in ``.ci/run`` (``TEST_S3=1``, beside the PostgreSQL leg), not in both
database legs: without it, the ``s3`` parameters are skipped with that reason. Modules run
over both storages import ``storage_config`` from here (it overrides conftest's): each s3
test gets a new, empty bucket."""
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

S3_LEG = os.environ.get("TEST_S3") == "1"
TWO_SERVERS_LEG = os.environ.get("TEST_TWO_SERVERS") == "1"  # its servers share a bucket
SKIP_REASON = "S3 leg: TEST_S3=1 (.ci/run runs it once, against moto's server on 127.0.0.1)"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(url: str, process) -> None:
    for _ in range(200):  # up to 20 s for the server to answer (a start-up poll, not a timed assertion)
        if process.poll() is not None:
            raise RuntimeError(f"moto_server stopped: {process.stderr.read().decode(errors='replace')[-2000:]}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("moto_server did not answer")


@pytest.fixture(scope="session")
def s3_endpoint():
    """The endpoint URL of a moto server started for this session (or TEST_S3_ENDPOINT)."""
    if not (S3_LEG or TWO_SERVERS_LEG):
        pytest.skip(SKIP_REASON)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    if os.environ.get("TEST_S3_ENDPOINT"):
        yield os.environ["TEST_S3_ENDPOINT"]
        return
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url + "/moto-api/", process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def new_bucket(endpoint: str) -> str:
    from budget_app.kernel.storage import s3_client

    name = f"budget-{secrets.token_hex(6)}"
    s3_client({"S3_ENDPOINT_URL": endpoint, "S3_REGION": "us-east-1"}).create_bucket(Bucket=name)
    return name


def s3_settings(endpoint: str) -> dict:
    return {"STORAGE": "s3", "S3_ENDPOINT_URL": endpoint, "S3_REGION": "us-east-1", "S3_BUCKET": new_bucket(endpoint)}


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def storage_config(request):
    """Settings of the storage: the upload folder, or a new bucket of the moto server."""
    if request.param == "local":
        return {}
    return s3_settings(request.getfixturevalue("s3_endpoint"))

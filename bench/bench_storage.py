"""The storage (kernel/storage.py): the upload folder against a bucket of moto's S3 server on
127.0.0.1 (a separate process, as in the tests), in the same run.

For each storage, a fresh process (the app as a worker has it) writes ``BENCH_DOCUMENTS``
documents (200 KB PDFs), reads each back with its SHA-256 checked, and prints its RSS, its
peak and whether boto3 was loaded: a worker in local mode must never load it (issue 27:
worker RSS <= 120 MB; boto3's cost reported). Times are ratios against the local folder.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = int(os.environ.get("BENCH_DOCUMENTS", "100"))

PROBE = """
import json, os, sys, time
from pathlib import Path

def rss():
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            values[line.split(":")[0]] = int(line.split()[1]) // 1024
    return values

from budget_app import create_app
from budget_app.kernel import storage
config, count = json.loads(sys.argv[1]), int(sys.argv[2])
app = create_app(config)
with app.app_context():
    storage.put(b"warm-up", "warm.pdf")
    after_start = rss()["VmRSS"]
    data = [b"%PDF-1.4\\n" + os.urandom(200 * 1024) for _ in range(count)]
    begin = time.perf_counter()
    stored = [storage.put(item, storage.new_key(".pdf")) for item in data]
    written = time.perf_counter() - begin
    del data  # the bench's own bytes: out of the figures below
    begin = time.perf_counter()
    for item in stored:
        with storage.open(item.key, sha256=item.sha256) as stream:
            while stream.read(1 << 20):
                pass
    read = time.perf_counter() - begin
print(json.dumps({"boto3": "boto3" in sys.modules, "rss_after_start": after_start, **rss(),
                  "write": written, "read": read}))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_moto():
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
            return process, url
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit("moto_server did not answer")


def probe(config: dict) -> dict:
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(config), str(DOCUMENTS)], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    if result.returncode:
        raise SystemExit(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    moto, endpoint = start_moto()
    try:
        sys.path.insert(0, str(ROOT))
        from budget_app.kernel.storage import s3_client

        s3_client({"S3_ENDPOINT_URL": endpoint, "S3_REGION": "us-east-1"}).create_bucket(Bucket="bench")
        with tempfile.TemporaryDirectory() as workdir:
            base = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir}/bench.sqlite3", "SECRET_KEY": "bench-" * 8,
                    "BUDGET_APP_UPLOAD_DIR": f"{workdir}/uploads"}
            local = probe(base)
            s3 = probe({**base, "STORAGE": "s3", "S3_ENDPOINT_URL": endpoint, "S3_REGION": "us-east-1",
                        "S3_BUCKET": "bench"})
    finally:
        moto.terminate()
        moto.wait(timeout=30)
    print(f"Storage: {DOCUMENTS} documents of 200 KB written, then read back with their SHA-256 checked "
          "(one process each, as a worker).")
    print("RSS after: once every document was read back (the bench's 20 MB of data, held while writing, is in the peak)")
    print(f"{'storage':<8} {'boto3':>6} {'RSS at start':>13} {'RSS after':>10} {'peak':>6} {'write':>9} {'read':>9}")
    for name, row in (("local", local), ("s3", s3)):
        print(f"{name:<8} {str(row['boto3']):>6} {row['rss_after_start']:>10} MB {row['VmRSS']:>7} MB "
              f"{row['VmHWM']:>3} MB {row['write']:>8.2f}s {row['read']:>8.2f}s")
    print(f"boto3 (s3 mode) adds {s3['rss_after_start'] - local['rss_after_start']} MB to a process at start; "
          f"local mode loads it: {'no (ok)' if not local['boto3'] else 'YES (MISSED)'}.")
    print(f"s3 / local: write {s3['write'] / local['write']:.1f}x, read {s3['read'] / local['read']:.1f}x "
          "(moto on the same machine: the HTTP and signing cost, not a network's).")


if __name__ == "__main__":
    main()

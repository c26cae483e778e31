"""Two gunicorn app servers behind Debian's nginx, on 127.0.0.1 at free ports, sharing the
test's PostgreSQL database, Redis and bucket; nginx reads deploy/nginx/budget-app.conf (the
site file README shows). Each server has its own upload folder: nothing local is shared.

``Browser`` is a person's client: its cookies (the Secure flag ignored, as a TLS proxy would
give), CSRF tokens read from forms, and ``on(port)`` to have the next request answered by one
server (nginx's round-robin, one worker: the servers take turns; nginx's access log says
which one answered each request, except the alert channel's and the referents', which the
site file never logs: ``UNLOGGED``)."""
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode

from tests.s3 import free_port

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "budget-app.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

# Paths the site file keeps out of nginx's logs (deploy/nginx/budget-app.conf).
UNLOGGED = ("/signalement", "/referent/")

MAIN_CONF = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
{user}
events {{ worker_connections 1024; }}
http {{
    log_format upstream '$upstream_addr $request_method $request_uri $status';
    access_log {tmp}/access.log upstream;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/budget-app.conf;
}}
"""


def _wait(port: int, process, what: str, log: Path) -> None:
    for _ in range(240):  # start-up poll (up to a minute), not a timed assertion
        if process.poll() is not None:
            raise RuntimeError(f"{what} stopped: {log.read_text(errors='replace')[-3000:]}")
        try:
            connection = HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/sante")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{what} did not answer on /sante")


class Cluster:
    """``workers`` gunicorn workers per server; ``shared_uploads`` (the load bench, both
    servers on one machine): one upload folder for both instead of one each."""

    def __init__(self, workdir: Path, env: dict, workers: int = 1, shared_uploads: Path | None = None):
        self.workdir, self.env = workdir, env
        self.workers, self.shared_uploads = workers, shared_uploads
        self.app_ports = [free_port(), free_port()]
        self.port = free_port()
        self.processes = []

    def start(self):
        for index, port in enumerate(self.app_ports):
            log = self.workdir / f"gunicorn-{port}.log"
            uploads = self.shared_uploads or self.workdir / f"uploads-{index}"
            env = {**self.env, "BUDGET_APP_UPLOAD_DIR": str(uploads)}
            process = subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), "-w", str(self.workers), "-b", f"127.0.0.1:{port}",
                 "--log-level", "warning", "budget_app.wsgi:app"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(log, "wb"))  # noqa: SIM115
            self.processes.append(process)
            _wait(port, process, f"gunicorn :{port}", log)
        site = SITE.read_text()
        for name, port in (("{listen}", self.port), ("{app_1}", self.app_ports[0]), ("{app_2}", self.app_ports[1])):
            site = site.replace(name, str(port))
        (self.workdir / "budget-app.conf").write_text(site)
        user = "user root root;" if os.geteuid() == 0 else ""  # nginx's workers write its temp folders
        (self.workdir / "nginx.conf").write_text(MAIN_CONF.format(tmp=self.workdir, user=user))
        (self.workdir / "access.log").touch()
        nginx = subprocess.Popen([NGINX, "-p", str(self.workdir), "-c", str(self.workdir / "nginx.conf")],
                                 stdout=subprocess.DEVNULL, stderr=open(self.workdir / "nginx.out", "wb"))  # noqa: SIM115
        self.processes.append(nginx)
        _wait(self.port, nginx, "nginx", self.workdir / "error.log")
        return self

    def stop(self):
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()

    def log_lines(self) -> list[str]:
        return (self.workdir / "access.log").read_text().splitlines()


class Browser:
    """One person's client through nginx."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.cookies: dict[str, str] = {}
        self.connection = HTTPConnection("127.0.0.1", cluster.port, timeout=120)
        self.served_by: list[int] = []

    def request(self, method, path, body=None, content_type=None):
        headers = {"Host": f"127.0.0.1:{self.cluster.port}", "Referer": f"http://127.0.0.1:{self.cluster.port}{path}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{key}={value}" for key, value in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        before = len(self.cluster.log_lines())
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        self.served_by.append(self._upstream(before, method, path))
        return response.status, response.getheader("Location", ""), data

    def _upstream(self, before: int, method: str, path: str) -> int | None:
        """The port of the server that answered (None for a path nginx does not log)."""
        if path.startswith(UNLOGGED):
            return None
        for _ in range(200):  # nginx writes its log line once the response is sent
            lines = self.cluster.log_lines()
            if len(lines) > before:
                upstream, logged_method, logged_path, _status = lines[-1].split(" ", 3)
                assert (logged_method, logged_path) == (method, path), lines[-1]
                return int(upstream.rsplit(":", 1)[1])
            time.sleep(0.025)
        raise AssertionError("nginx did not log the request")

    def on(self, port: int) -> "Browser":
        """Make the next request go to the server on ``port`` (a health check or two)."""
        for _ in range(4):
            self.request("GET", "/sante")
            if self.served_by[-1] != port:
                return self
        raise AssertionError("nginx is not taking turns between the servers")

    def previous_went_to(self) -> int:
        """The server that answered the previous request, unlogged or not: the servers take
        turns, so it is the one the next health check does not go to."""
        self.request("GET", "/sante")
        [other] = [port for port in self.cluster.app_ports if port != self.served_by[-1]]
        return other

    def get(self, path):
        return self.request("GET", path)

    def csrf(self, path) -> str:
        _status, _location, page = self.get(path)
        found = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert found, page[:500]
        return found.group(1).decode()

    def post(self, path, fields, files=()):
        if not files:
            return self.request("POST", path, urlencode(fields).encode(), "application/x-www-form-urlencoded")
        boundary = uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
                 for key, value in fields.items()]
        for key, filename, content, content_type in files:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; filename="{filename}"\r\n'
                         f'Content-Type: {content_type}\r\n\r\n'.encode() + content + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request("POST", path, b"".join(parts), f"multipart/form-data; boundary={boundary}")

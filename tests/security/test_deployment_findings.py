"""Point 8 of issue 21 (LOW findings): the new-account form preselects no role; `make run`
creates instance/ 0700; `backup create` refuses a folder others may read and leaves staged
imports out; with BUDGET_APP_PROXY_COUNT=1, X-Forwarded-For is read only from a trusted
proxy, so a client reaching gunicorn directly cannot forge its way past per-address limits."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from budget_app import create_app
from budget_app.accounts.services import find_user

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- new-account form

def test_the_new_account_form_preselects_no_role(client, login, make_user):
    login(client, make_user("admin"))
    page = client.get("/admin/utilisateurs").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="role".*?</select>', page, re.S).group(0)
    options = re.findall(r"<option[^>]*>", select)
    assert 'value=""' in options[0] and not any("selected" in option for option in options)
    response = client.post("/admin/utilisateurs", data={"email": "nouveau@example.org", "full_name": "", "role": "",
                                                        "operations": ""})
    assert response.status_code == 400 and "Choisissez le rôle de la personne." in response.get_data(as_text=True)
    assert find_user("nouveau@example.org") is None


# ---------------------------------------------------------------- instance folder

@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize("existing", [False, True])
def test_make_creates_the_instance_folder_private(tmp_path, existing):
    instance = tmp_path / "instance"
    if existing:
        instance.mkdir(mode=0o755)
        os.chmod(instance, 0o755)
    subprocess.run(["make", "-s", "instance-dir", f"INSTANCE={instance}"], cwd=ROOT, check=True,
                   preexec_fn=lambda: os.umask(0o022), capture_output=True, timeout=60)
    assert instance.stat().st_mode & 0o777 == 0o700


# ---------------------------------------------------------------- backups

@pytest.mark.parametrize("mode", [0o750, 0o705, 0o711])
def test_backup_refuses_a_folder_others_may_read(app, runner, tmp_path, mode):
    target = tmp_path / "backup"
    target.mkdir()
    os.chmod(target, mode)
    result = runner.invoke(args=["backup", "create", str(target)])
    assert result.exit_code == 1
    assert f"accessible à d'autres utilisateurs (droits {mode:04o}) : chmod 700" in result.output
    assert list(target.iterdir()) == []


def test_backup_into_a_private_folder_leaves_staged_imports_out(app, runner, tmp_path):
    uploads = Path(app.config["BUDGET_APP_UPLOAD_DIR"])
    (uploads / "imports").mkdir(parents=True, exist_ok=True)
    (uploads / "imports" / "staged-token").write_bytes(b"Date;Fournisseur\n")
    (uploads / "documents").mkdir(parents=True, exist_ok=True)
    (uploads / "documents" / "piece.pdf").write_bytes(b"%PDF-1.4 kept\n")
    target = tmp_path / "backup"
    target.mkdir(mode=0o700)
    os.chmod(target, 0o700)
    result = runner.invoke(args=["backup", "create", str(target)])
    assert result.exit_code == 0, result.output
    copied = {path.relative_to(target).as_posix() for path in target.rglob("*") if path.is_file()}
    assert "uploads/documents/piece.pdf" in copied
    assert not any(name.startswith("uploads/imports") for name in copied)


# ---------------------------------------------------------------- proxies

@pytest.fixture
def proxied(app_config, app):
    return create_app({**app_config, "PROXY_COUNT": 1, "ALERT_KEY_FILE": app.config["ALERT_KEY_FILE"]})


def _fail(client, forwarded, peer, number):
    return client.post("/connexion", data={"email": f"x{number}@example.org", "password": "wrong password!!"},
                       headers={"X-Forwarded-For": forwarded}, environ_base={"REMOTE_ADDR": peer}).status_code


def test_a_forged_forwarded_for_from_a_direct_client_does_not_escape_the_address_limit(proxied):
    """gunicorn reachable directly (peer 203.0.113.9, not a proxy): each request forges a new
    X-Forwarded-For (and names another account). 20 failures per address: the 21st is refused."""
    client = proxied.test_client()
    statuses = [_fail(client, f"198.51.100.{number}", "203.0.113.9", number) for number in range(21)]
    assert statuses == [200] * 20 + [429]


def test_behind_the_trusted_proxy_each_client_address_counts_alone(proxied):
    """The proxy on this machine (peer 127.0.0.1) writes each client's address: 25 clients
    failing once each are 25 addresses, none refused."""
    client = proxied.test_client()
    assert {_fail(client, f"198.51.100.{number}", "127.0.0.1", number) for number in range(25)} == {200}


def test_a_wrong_proxy_setting_stops_the_start(app_config):
    with pytest.raises(RuntimeError, match="BUDGET_APP_PROXY_COUNT"):
        create_app({**app_config, "PROXY_COUNT": "²"})
    with pytest.raises(RuntimeError, match="BUDGET_APP_TRUSTED_PROXIES"):
        create_app({**app_config, "PROXY_COUNT": 1, "TRUSTED_PROXIES": "nginx.local"})

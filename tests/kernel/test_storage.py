"""The storage (kernel/storage.py) over the upload folder and over a bucket of moto's S3
server (the S3 leg, TEST_S3=1): every file the app keeps goes through it, SHA-256 checked
on read, and `storage copy-local` moves an existing folder into a bucket, verified.

Golden example: SHA-256 of b"abc" is
ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad (FIPS 180-2, B.1)."""
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from budget_app import create_app
from budget_app.expenses.models import SupportingDocument
from budget_app.kernel import staging, storage
from tests.alerts.factories import PDF, file_alert
from tests.expenses.conftest import lot, officer  # noqa: F401 (fixtures)
from tests.expenses.test_views import post_expense
from tests.s3 import s3_settings, storage_config  # noqa: F401 (local folder and S3 bucket)

ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_put_open_delete_exists_iterate(app):
    assert storage.put(b"abc", "a1.pdf") == storage.Stored("a1.pdf", ABC, 3)
    assert storage.put(io.BytesIO(b"abc" * 400_000), "big/b2.pdf").size == 1_200_000  # a stream, in chunks
    assert storage.read("a1.pdf", sha256=ABC) == b"abc"
    with storage.open("big/b2.pdf", sha256=hashlib.sha256(b"abc" * 400_000).hexdigest()) as stream:
        assert len(stream.read()) == 1_200_000
    assert storage.sha256_of("a1.pdf") == (ABC, 3)
    assert storage.exists("a1.pdf") and not storage.exists("nothing.pdf")
    assert [(entry.key, entry.size) for entry in storage.iterate()] == [("a1.pdf", 3), ("big/b2.pdf", 1_200_000)]
    assert [entry.key for entry in storage.iterate("big/")] == ["big/b2.pdf"]
    storage.delete("a1.pdf")
    storage.delete("a1.pdf")  # already gone: nothing to do
    assert not storage.exists("a1.pdf")
    with pytest.raises(FileNotFoundError):
        storage.open("a1.pdf")


def test_the_digest_is_checked_on_read(app):
    storage.put(b"abd", "altered.pdf")  # the bytes recorded as b"abc" changed in the storage
    with pytest.raises(storage.Altered, match="altered.pdf"):
        storage.read("altered.pdf", sha256=ABC)
    with pytest.raises(storage.Altered):
        storage.open_checked("altered.pdf", ABC)
    storage.put(b"abc", "altered.pdf")  # put again under the same key: replaced
    assert storage.open_checked("altered.pdf", ABC).read() == b"abc"


@pytest.mark.parametrize("key", ["../secret_key", ".hidden", "a//b", "", "a/../../b", "x y.pdf", "/abs.pdf"])
def test_keys_are_ours_only(app, key):
    with pytest.raises(FileNotFoundError):
        storage.put(b"abc", key)


def test_upload_then_download_and_an_altered_document_is_not_sent(app, client, login, officer, lot, caplog):
    login(client, officer)
    post_expense(client)
    document = db_document()
    assert storage.exists(document.stored_name)
    url = f"/operations/LOT-2019-ACI/pieces/{document.id}"
    assert client.get(url).data == storage.read(document.stored_name, sha256=document.sha256)
    storage.put(b"%PDF-1.4 changed\n", document.stored_name)
    assert client.get(url).status_code == 404
    assert "event=document_digest_mismatch" in caplog.text
    storage.delete(document.stored_name)
    assert client.get(url).status_code == 404


def db_document():
    from budget_app.kernel.extensions import db

    return db.session.scalar(select(SupportingDocument).where(SupportingDocument.kind == "invoice"))


def test_staged_imports_live_in_the_storage(app):
    with app.test_request_context("/"):
        token = staging.stage("expenses", "OP-1", b"a;b\n1;2\n", "lignes.csv")
        assert [entry.key for entry in storage.iterate("imports/")] == [f"imports/{token}"]
        assert staging.peek("expenses", "OP-1").content == b"a;b\n1;2\n"
        storage.put(b"a;b\n1;3\n", f"imports/{token}")  # changed after the preview: refused and removed
        assert staging.take("expenses", "OP-1", token) is None
        assert list(storage.iterate("imports/")) == []
        token = staging.stage("expenses", "OP-1", b"a;b\n1;2\n", "lignes.csv")
        assert staging.take("expenses", "OP-1", token).content == b"a;b\n1;2\n"
        assert list(storage.iterate("imports/")) == []


def test_alert_attachments_leave_the_app_encrypted(app, make_operation):
    file_alert(operation=make_operation("OP-ALERT"), attachments=[("preuve.pdf", PDF + b"% canary 7f3a\n")])
    [entry] = storage.iterate("alerts/")
    stored = storage.read(entry.key)
    assert b"canary 7f3a" not in stored and b"%PDF" not in stored


def test_settings_are_checked_at_start(app_config):
    with pytest.raises(RuntimeError, match="STORAGE must be one of local, s3"):
        create_app({**app_config, "STORAGE": "ftp"})
    with pytest.raises(RuntimeError, match="S3_BUCKET"):
        create_app({**app_config, "STORAGE": "s3", "S3_BUCKET": None})


def _fill_local(folder: Path) -> None:
    (folder / "alerts").mkdir(parents=True)
    (folder / "imports").mkdir()
    (folder / "aa11.pdf").write_bytes(b"abc")
    (folder / "alerts" / "bb22").write_bytes(b"ciphertext")
    (folder / "imports" / "cc33").write_bytes(b"staged, never confirmed")


def test_copy_local_into_the_bucket_verifies_every_digest(app, runner, tmp_path):
    if app.config["STORAGE"] != "s3":
        refused = runner.invoke(args=["storage", "copy-local"])
        assert refused.exit_code == 1 and "BUDGET_APP_STORAGE=s3" in refused.output
        return
    _fill_local(tmp_path / "old-uploads")
    result = runner.invoke(args=["storage", "copy-local", "--from", str(tmp_path / "old-uploads")])
    assert result.exit_code == 0, result.output
    assert "2 fichier(s) copié(s)" in result.output and "0 déjà présent(s)" in result.output
    assert [entry.key for entry in storage.iterate()] == ["aa11.pdf", "alerts/bb22"]  # staged imports left out
    assert storage.read("aa11.pdf", sha256=ABC) == b"abc"
    again = runner.invoke(args=["storage", "copy-local", "--from", str(tmp_path / "old-uploads")])
    assert again.exit_code == 0 and "0 fichier(s) copié(s)" in again.output and "2 déjà présent(s)" in again.output
    storage.put(b"other bytes", "aa11.pdf")
    clash = runner.invoke(args=["storage", "copy-local", "--from", str(tmp_path / "old-uploads")])
    assert clash.exit_code == 1 and "aa11.pdf : un objet différent existe déjà" in clash.output
    assert storage.read("aa11.pdf") == b"other bytes"  # never overwritten


def test_boto3_is_loaded_only_for_a_bucket(app_config, tmp_path):
    """A worker in local mode never imports boto3 (its memory); in s3 mode it does, at first use."""
    script = (
        "import sys\nfrom budget_app import create_app\nfrom budget_app.kernel import storage\n"
        f"app = create_app({app_config!r})\n"
        "with app.app_context():\n    storage.put(b'abc', 'probe.pdf')\n"
        "print('boto3' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=dict(os.environ),
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == str(app_config.get("STORAGE") == "s3")


def test_a_second_bucket_sees_nothing_of_the_first(app, s3_bucket_app):
    """Two apps on two buckets of the same endpoint: each sees its own objects only."""
    storage.put(b"abc", "mine.pdf")
    with s3_bucket_app.app_context():
        assert list(storage.iterate()) == []


@pytest.fixture
def s3_bucket_app(app_config):
    if app_config.get("STORAGE") != "s3":
        pytest.skip("a bucket only")
    return create_app({**app_config, **s3_settings(app_config["S3_ENDPOINT_URL"])})


def test_a_purged_object_the_storage_refuses_to_delete_is_named(app, monkeypatch):
    from budget_app.expenses.purge import delete_stored

    storage.put(b"abc", "kept.pdf")
    storage.put(b"abc", "gone.pdf")
    refuse = storage.StorageError("kept.pdf : suppression refusée")
    real = storage.store().delete
    monkeypatch.setattr(storage.store(), "delete",
                        lambda key, shred=False: (_ for _ in ()).throw(refuse) if key == "kept.pdf" else real(key))
    assert delete_stored(["kept.pdf", "gone.pdf", "never-there.pdf"]) == ["kept.pdf"]
    assert storage.exists("kept.pdf") and not storage.exists("gone.pdf")


def test_a_backup_holds_the_stored_documents_with_their_digests_but_no_staged_import(app, runner, tmp_path):
    storage.put(b"abc", "aa11.pdf")
    storage.put(b"ciphertext", "alerts/bb22")
    with app.test_request_context("/"):
        staging.stage("expenses", "OP-1", b"a;b\n1;2\n", "lignes.csv")
    result = runner.invoke(args=["backup", "create", str(tmp_path / "backup")])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    files = {entry["path"]: entry["sha256"] for entry in manifest["files"]}
    assert files["uploads/aa11.pdf"] == ABC and "uploads/alerts/bb22" in files
    assert not any(path.startswith("uploads/imports/") for path in files)

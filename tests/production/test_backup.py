"""Backup and restore: the restore drill (an operation with expenses and documents, a
submitted claim, an alert with an attachment; backed up, restored into a fresh database and
upload folder: the claim's figures, the documents' SHA-256 and the decrypted alert are
identical), the keys never in a backup, and the refusals (non-empty target, altered backup).
On PostgreSQL (TEST_DATABASE_URL) the drill goes through pg_dump and pg_restore."""
import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from budget_app import create_app
from budget_app.accounts.services import find_user
from budget_app.alerts import filing
from budget_app.alerts.models import Alert
from budget_app.claims.models import Claim, ClaimLine
from budget_app.expenses.models import SupportingDocument
from budget_app.kernel.extensions import db
from budget_app.kernel import storage
from tests.alerts.factories import PDF, file_alert, open_as
from tests.conftest import ON_POSTGRES, create_postgres_database, drop_postgres_database
from tests.s3 import s3_settings, storage_config  # noqa: F401 (local folder and S3 bucket)
from tests.test_access import _operation_samples

ATTACHMENT = PDF + b"% alert attachment for the drill\n"


@pytest.fixture
def keyed_app(app, tmp_path):
    app.config["ALERT_KEY_FILE"] = str(tmp_path / "keys" / "alert_key")
    return app


@pytest.fixture
def fresh_target(app_config, keyed_app, tmp_path):
    """An app on a new empty database and a new empty upload folder (or bucket), with the
    same keys."""
    if ON_POSTGRES:
        url = make_url(app_config["SQLALCHEMY_DATABASE_URI"])
        target_url = url.set(database=f"{url.database}_restore").render_as_string(hide_password=False)
        create_postgres_database(target_url)
    else:
        target_url = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    bucket = s3_settings(app_config["S3_ENDPOINT_URL"]) if app_config.get("STORAGE") == "s3" else {}
    target = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": target_url,
                         "BUDGET_APP_UPLOAD_DIR": str(tmp_path / "restored-uploads"),
                         "ALERT_KEY_FILE": keyed_app.config["ALERT_KEY_FILE"], **bucket})
    yield target
    with target.app_context():
        db.engine.dispose()
    if ON_POSTGRES:
        drop_postgres_database(target_url)


def restore(target_app, directory):
    # The test's own app context is pushed: the command must run in the target's.
    with target_app.app_context():
        return target_app.test_cli_runner().invoke(args=["backup", "restore", str(directory)])


REFERENT = "referent@example.org"


def world(make_operation, make_user=None):
    if make_user is not None:  # the referent the alert is sealed for (keys per referent)
        make_user("antifraud_referent", email=REFERENT)
    operation = make_operation("OP-DRILL")
    _operation_samples(operation)
    alert, _secret = file_alert(operation=operation, attachments=[("preuve.pdf", ATTACHMENT)])
    return alert.reference


def snapshot(reference: str) -> dict:
    """What must survive: claim figures and lines, documents and their files, the alert."""
    claim = db.session.scalars(select(Claim)).one()
    lines = db.session.scalars(select(ClaimLine).order_by(ClaimLine.position)).all()
    documents = db.session.scalars(select(SupportingDocument).order_by(SupportingDocument.id)).all()
    # Read back as the referent reads it: their key, opened with their password.
    alert = open_as(find_user(REFERENT), db.session.scalar(select(Alert).where(Alert.reference == reference)))
    return {
        "claim": (claim.state, claim.total_eligible, claim.fse_asked, json.dumps(claim.figures, sort_keys=True)),
        "lines": [(line.position, line.category, line.declared_amount) for line in lines],
        "documents": [(d.original_name, d.sha256, hashlib.sha256(storage.read(d.stored_name)).hexdigest())
                      for d in documents],
        "alert": (filing.alert_content(alert), filing.alert_identity(alert),
                  [(filing.attachment_meta(a), filing.attachment_data(a)) for a in alert.attachments]),
    }


def test_restore_drill(keyed_app, runner, make_operation, make_user, fresh_target, tmp_path):
    reference = world(make_operation, make_user)
    before = snapshot(reference)
    assert before["alert"][2][0][1] == ATTACHMENT and before["documents"]
    assert all(recorded == actual for _name, recorded, actual in before["documents"])
    db.session.commit()
    result = runner.invoke(args=["backup", "create", str(tmp_path / "backup")])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["database"] == ("postgresql" if ON_POSTGRES else "sqlite")
    assert any(entry["path"].startswith("uploads/alerts/") for entry in manifest["files"])

    result = restore(fresh_target, tmp_path / "backup")
    assert result.exit_code == 0, result.output
    with fresh_target.app_context():
        after = snapshot(reference)
        revision = db.session.execute(db.text("SELECT version_num FROM alembic_version")).scalar()
        assert fresh_target.test_client().get("/sante").status_code == 200
    assert after == before
    assert revision == manifest["revision"]


def test_backup_never_holds_the_keys(keyed_app, runner, make_operation, tmp_path):
    # Even a key file misplaced in the upload folder stays out of the backup.
    keyed_app.config["ALERT_KEY_FILE"] = str(Path(keyed_app.config["BUDGET_APP_UPLOAD_DIR"]) / "alert_key")
    world(make_operation)
    alert_key = Path(keyed_app.config["ALERT_KEY_FILE"]).read_bytes().strip()
    secret_key = keyed_app.config["SECRET_KEY"].encode()
    db.session.commit()
    assert runner.invoke(args=["backup", "create", str(tmp_path / "backup")]).exit_code == 0
    files = [path for path in (tmp_path / "backup").rglob("*") if path.is_file()]
    assert len(files) >= 4
    for path in files:
        content = path.read_bytes()
        assert alert_key not in content and secret_key not in content, path
    assert not any(path.name == "alert_key" for path in files)


def test_restore_refuses_a_non_empty_target(keyed_app, runner, make_operation, fresh_target, tmp_path):
    world(make_operation)
    db.session.commit()
    assert runner.invoke(args=["backup", "create", str(tmp_path / "backup")]).exit_code == 0
    refused = runner.invoke(args=["backup", "restore", str(tmp_path / "backup")])  # the source itself
    assert refused.exit_code == 1 and "n'est pas vide" in refused.output
    with fresh_target.app_context():
        storage.put(PDF, "left-over.pdf")
    refused = restore(fresh_target, tmp_path / "backup")
    assert refused.exit_code == 1 and "dossier des fichiers" in refused.output
    with fresh_target.app_context():
        assert db.inspect(db.engine).get_table_names() == []
    # A backup goes into a new or empty directory only.
    again = runner.invoke(args=["backup", "create", str(tmp_path / "backup")])
    assert again.exit_code == 1 and "dossier vide" in again.output


def test_restore_refuses_an_altered_backup(keyed_app, runner, make_operation, fresh_target, tmp_path):
    world(make_operation)
    db.session.commit()
    backup = tmp_path / "backup"
    assert runner.invoke(args=["backup", "create", str(backup)]).exit_code == 0
    document = next(path for path in (backup / "uploads").iterdir() if path.is_file())
    document.write_bytes(document.read_bytes() + b"x")
    (backup / "uploads" / "added.pdf").write_bytes(PDF)
    refused = restore(fresh_target, backup)
    assert refused.exit_code == 1
    assert f"uploads/{document.name} : contenu différent" in refused.output
    assert "uploads/added.pdf : absent du manifeste" in refused.output
    with fresh_target.app_context():
        assert db.inspect(db.engine).get_table_names() == []
    with fresh_target.app_context():
        assert list(storage.iterate()) == []

"""The application log says nothing of an alert (issue 21): neither its id or reference, nor
the moment it was filed or purged (a log line's time could be matched with a hold's or a
retention extension's). The referent's own log keeps both."""
import logging
from datetime import timedelta

from budget_app.alerts import filing, handling
from budget_app.alerts.retention import purge_closed_alerts
from budget_app.kernel.extensions import db


def test_filing_and_purging_log_nothing(app, tmp_path, caplog, make_user):
    app.config["ALERT_KEY_FILE"] = str(tmp_path / "alert_key")
    referent = make_user("antifraud_referent", email="referent@example.org")
    with caplog.at_level(logging.DEBUG, logger="budget_app"):
        alert, _secret = filing.file_alert(filing.Report(kind="fraud", facts="faits", operation_text="Chantier du Lot"))
        handling.change_state(alert, "acknowledged", referent, "reçu", "Nous avons bien reçu votre signalement.")
        handling.change_state(alert, "closed_unfounded", referent, "sans suite", "Classé sans suite.")
        db.session.commit()
        purged = purge_closed_alerts(0, now=filing.utcnow() + timedelta(days=1))
    assert [item.id for item in purged] == [alert.id]
    assert [record.getMessage() for record in caplog.records if record.name.startswith("budget_app")] == []
    assert alert.reference not in caplog.text

"""The application log names no alert (issue 21): filing writes ``event=alert_received``
without an id or a reference, so the log cannot be matched with a hold's time and line."""
import logging

from budget_app.alerts import filing


def test_filing_logs_no_alert_id_nor_reference(app, tmp_path, caplog):
    app.config["ALERT_KEY_FILE"] = str(tmp_path / "alert_key")
    with caplog.at_level(logging.INFO, logger="budget_app.alerts"):
        alert, _secret = filing.file_alert(filing.Report(kind="fraud", facts="faits", operation_text="Chantier du Lot"))
    lines = [record.getMessage() for record in caplog.records if record.name.startswith("budget_app.alerts")]
    assert lines == ["event=alert_received"]
    assert alert.reference and alert.reference not in caplog.text

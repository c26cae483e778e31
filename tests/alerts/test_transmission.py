"""Transmission form (CPR art. 69, annex XII) as XLSX and printable HTML; purge."""
import io
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from budget_app.alerts import filing, handling, transmission
from budget_app.alerts.models import Alert, AlertAttachment, AlertMessage
from budget_app.kernel.extensions import db

from .factories import CANARY, PDF, file_alert

PAYLOADS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR", "#N/A"]


def _transmitted(referent, operation, **extra):
    alert, _ = file_alert(operation=operation, **extra)
    handling.change_state(alert, "acknowledged", referent, "ok", "Bien reçu.")
    handling.change_state(alert, "under_review", referent, "examen")
    handling.change_state(alert, "transmitted", referent, "fondé", "Transmis.", recipient="olaf")
    db.session.commit()
    return alert


def _details(alert, **values):
    defaults = dict(amount=None, eu_amount=None, detected_on=None, period_start=None, period_end=None,
                    detection="", measures="", persons="", reveal_persons=False)
    defaults.update(values)
    transmission.save_transmission_details(alert, **defaults)
    db.session.commit()


def test_xlsx_has_the_fields_and_no_formula(app, referent, login, operation):
    alert = _transmitted(referent, operation, persons="\n".join(PAYLOADS))
    _details(alert, amount=Decimal("25000.00"), eu_amount=Decimal("15000.00"), measures=PAYLOADS[0],
             detection=PAYLOADS[1], period_start=date(2025, 1, 1), period_end=date(2025, 6, 30), reveal_persons=True)
    client = login(app.test_client(), referent)
    response = client.get(f"/referent/signalements/{alert.reference}/transmission.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                xml = archive.read(name).decode()
                assert "<f>" not in xml and 't="e"' not in xml
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).worksheets[0]
    values = {sheet.cell(row, 1).value: sheet.cell(row, 2) for row in range(3, sheet.max_row + 1)}
    assert values["Opération"].value == "HL-RSA-2023 — Accompagnement socio-professionnel rSa"
    assert values["Type d'irrégularité"].value == "Fraude"
    amount = values["Montant concerné (dépenses)"]
    assert amount.data_type == "n" and Decimal(str(amount.value)) == Decimal("25000")
    assert Decimal(str(values["Part UE concernée"].value)) == Decimal("15000")
    assert values["À signaler à la Commission (part UE ≥ 10 000 €)"].value == "Oui"
    # Typed text with the quote-prefix style: no visible apostrophe, never a formula.
    assert values["Mesures prises"].value == PAYLOADS[0]
    assert values["Mesures prises"].data_type == "s" and values["Mesures prises"].quotePrefix
    rate = values["Taux FSE+"]
    assert rate.data_type == "n" and rate.value == pytest.approx(0.6) and rate.number_format == "0.00%"
    assert sheet.page_setup.paperSize == 9 and sheet.page_setup.fitToWidth == 1
    assert sheet.oddFooter.right.text == "Page &P / &N" and sheet.oddFooter.left.text == "HL-RSA-2023"
    lines = openpyxl.load_workbook(io.BytesIO(response.data)).worksheets[1]
    assert lines.print_title_rows == "$4:$4" and lines.freeze_panes == "A5"
    assert values["Mode de détection"].value.startswith("Signalement reçu par le canal d'alerte le ")
    persons = values["Personnes concernées"].value
    assert persons.startswith("=HYPERLINK") and "+1+1" in persons
    assert "OLAF" in values["État de la procédure"].value


@pytest.mark.parametrize("eu_amount, reportable", [("10000.00", "Oui"), ("9999.99", "Non")])
def test_commission_threshold(app, referent, operation, eu_amount, reportable):
    alert = _transmitted(referent, operation)
    _details(alert, amount=Decimal("20000.00"), eu_amount=Decimal(eu_amount))
    rows = {label: value for label, value, _kind in transmission.transmission_rows(alert)}
    assert rows["À signaler à la Commission (part UE ≥ 10 000 €)"] == reportable


def test_persons_pseudonymised_unless_chosen(app, referent, login, operation):
    alert = _transmitted(referent, operation, persons="Jean Dupont\nMarie Martin")
    client = login(app.test_client(), referent)
    page = client.get(f"/referent/signalements/{alert.reference}/transmission/impression").get_data(as_text=True)
    assert "Personne 1\nPersonne 2" in page and "Dupont" not in page
    _details(alert, reveal_persons=True, persons="Jean Dupont\nMarie Martin")
    page = client.get(f"/referent/signalements/{alert.reference}/transmission/impression").get_data(as_text=True)
    assert "Jean Dupont" in page


def test_transmission_form_page_validates_amounts(app, referent, login, operation):
    alert = _transmitted(referent, operation)
    client = login(app.test_client(), referent)
    assert client.get(f"/referent/signalements/{alert.reference}/transmission").status_code == 200
    response = client.post(f"/referent/signalements/{alert.reference}/transmission",
                           data={"amount": "12,345.678", "eu_amount": ""})
    assert response.status_code == 400
    response = client.post(f"/referent/signalements/{alert.reference}/transmission",
                           data={"amount": "20 000,00", "eu_amount": "12 000,00", "measures": "Suspension des paiements"})
    assert response.status_code == 302
    db.session.expire_all()
    alert = db.session.get(Alert, alert.id)
    assert (alert.amount_concerned, alert.eu_amount_concerned) == (Decimal("20000.00"), Decimal("12000.00"))
    assert filing.transmission_details(alert)["measures"] == "Suspension des paiements"
    page = client.get(f"/referent/signalements/{alert.reference}/transmission/impression").get_data(as_text=True)
    assert "20\u202f000,00\xa0€" in page or "20 000,00" in page


def test_purge_removes_personal_data_and_keeps_the_record(app, runner, referent, operation):
    alert = _transmitted(referent, operation, attachments=[("preuve.pdf", PDF)])
    handling.change_state(alert, "closed_founded", referent, "fondé", "Merci.")
    recent, secret = file_alert(operation=operation)
    handling.change_state(recent, "acknowledged", referent, "ok", "reçu")
    handling.change_state(recent, "closed_unfounded", referent, "hors champ", "Hors champ.")
    db.session.commit()
    alert.closed_on = handling.today() - timedelta(days=61)
    db.session.commit()
    stored = alert.attachments[0].stored_name
    from budget_app.alerts import files

    assert files.read_encrypted(stored) is not None
    result = runner.invoke(args=["alerts", "purge"])
    assert result.exit_code == 0, result.output
    assert alert.reference in result.output and recent.reference not in result.output
    db.session.expire_all()
    alert = db.session.get(Alert, alert.id)
    assert alert.purged_at is not None
    assert alert.content_enc is None and alert.identity_enc is None and alert.secret_hash is None
    assert db.session.scalar(db.select(db.func.count(AlertAttachment.id)).where(AlertAttachment.alert_id == alert.id)) == 0
    assert files.read_encrypted(stored) is None
    assert all(m.body_enc is None for m in db.session.scalars(db.select(AlertMessage).where(AlertMessage.alert_id == alert.id)))
    # The non-personal record stays.
    assert (alert.reference, alert.kind, alert.operation_id, alert.state, alert.transmitted_to) == (
        alert.reference, "fraud", operation.id, "closed_founded", "olaf")
    # The recent one is untouched; a second run purges nothing more.
    assert filing.alert_content(db.session.get(Alert, recent.id))["facts"].endswith(CANARY)
    assert "0 signalement(s)" in runner.invoke(args=["alerts", "purge"]).output
    from budget_app.alerts.models import AlertLogEntry
    from budget_app.kernel.audit.models import AuditEntry

    assert db.session.scalar(db.select(AlertLogEntry).where(AlertLogEntry.action == "purged")).alert_id == alert.id
    assert db.session.scalar(db.select(AuditEntry).where(AuditEntry.action.like("alert%"))) is None


def test_purge_dry_run_changes_nothing(app, runner, referent, operation):
    alert = _transmitted(referent, operation)
    handling.change_state(alert, "closed_founded", referent, "fondé", "Merci.")
    alert.closed_on = handling.today() - timedelta(days=400)
    db.session.commit()
    result = runner.invoke(args=["alerts", "purge", "--dry-run"])
    assert alert.reference in result.output
    db.session.expire_all()
    assert db.session.get(Alert, alert.id).purged_at is None

AMOUNTS = st.decimals(min_value=Decimal("0"), max_value=Decimal("99999999.99"), places=2)
RATES = st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=4)


@given(total=AMOUNTS, rate=RATES)
def test_eu_share_is_the_rounded_product_and_never_exceeds_the_total(total, rate):
    share = transmission.eu_share(total, rate)
    assert share == share.quantize(Decimal("0.01"))
    assert abs(share - total * rate / 100) <= Decimal("0.005")
    assert Decimal("0") <= share <= total


def test_eu_share_golden_values():
    # Seed operation rate 60 %: 833 750,00 -> 500 250,00 (FSE-PRIMER §2); half-up at the cent.
    assert transmission.eu_share(Decimal("833750.00"), Decimal("60")) == Decimal("500250.00")
    assert transmission.eu_share(Decimal("16666.78"), Decimal("60")) == Decimal("10000.07")
    assert transmission.eu_share(Decimal("0.01"), Decimal("50")) == Decimal("0.01")

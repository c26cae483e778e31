"""Findings 4 and 5 of issue 13: control characters never break an export, forms and
imports refuse them with a clear message, logs never hold field texts nor raw controls."""
import io
import logging
from datetime import date
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook

from budget_app.alerts import exports as alert_exports
from budget_app.alerts import handling, suspicions, transmission
from budget_app.claims import exports, pdf
from budget_app.claims.report import build_report
from budget_app.expenses.imports import check_file
from budget_app.expenses.models import Expense
from budget_app.kernel.extensions import db
from budget_app.kernel.log import OneLineFormatter
from tests.alerts.factories import file_alert
from tests.claims.conftest import claims_world  # noqa: F401  (fixture)
from tests.conftest import ON_POSTGRES
from tests.expenses.conftest import expense_data, form_values, lot, officer  # noqa: F401  (fixtures)
from tests.expenses.factories import make_expense
from tests.staff.factories import make_staff_line

CONTROLS = [chr(code) for code in range(0x20)] + ["\x7f", "\u2028", "\u2029"]
IDS = [f"U+{ord(char):04X}" for char in CONTROLS]


def _storable(char):
    if ON_POSTGRES and char == "\x00":
        pytest.skip("PostgreSQL text cannot hold NUL (the forms and imports refuse it)")


def _all_exports(operation, start, end):
    report = build_report(operation, start, end)
    load_workbook(io.BytesIO(exports.xlsx_bytes(report)))  # a valid workbook
    for dialect in exports.CSV_DIALECTS:
        exports.csv_bytes(build_report(operation, start, end), dialect).decode("utf-8")
    assert pdf.pdf_bytes(build_report(operation, start, end)).startswith(b"%PDF")


@pytest.mark.parametrize("char", CONTROLS, ids=IDS)
def test_a_control_character_in_stored_texts_never_breaks_the_claim_exports(app, claims_world, char):
    """Data stored before the border checks (or by any other path) is cleaned by every writer."""
    _storable(char)
    operation = claims_world["operation"]
    make_expense(operation, "10.00", incurred_on=date(2023, 1, 5), paid_on=date(2023, 1, 6),
                 label=f"Libellé{char}fin", supplier=f"ACME{char}SA")
    make_expense(operation, "20.00", incurred_on=date(2023, 1, 7), paid_on=None,  # left out: its reason too
                 label=f"{char}=1+2")
    make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00"), name=f"Martin{char}Claire")
    operation.title = f"Titre{char}opération"
    operation.organisation.name = f"Organisme{char}porteur"
    db.session.commit()
    _all_exports(operation, date(2023, 1, 1), date(2023, 1, 31))


@pytest.mark.parametrize("char", CONTROLS, ids=IDS)
def test_a_control_character_never_breaks_the_transmission_form(app, claims_world, make_user, login, char, tmp_path):
    _storable(char)
    app.config["ALERT_KEY_FILE"] = str(tmp_path / "alert_key")
    operation = claims_world["operation"]
    referent = make_user("antifraud_referent", email="referent@example.org")
    expense = make_expense(operation, "10.00", label=f"Suspect{char}ligne", supplier=f"X{char}Y")
    alert, _secret = file_alert(operation=operation, persons=f"Jean{char}Dupont")
    handling.change_state(alert, "acknowledged", referent, "reçu", "Reçu.")
    suspicions.link_cost_lines(alert, referent, [("expense", expense.id)])
    transmission.save_transmission_details(
        alert, amount=None, eu_amount=None, detected_on=None, period_start=None, period_end=None,
        detection=f"Word{char}coller", measures=f"Mesures{char}prises", persons=f"A{char}B", reveal_persons=True)
    db.session.commit()
    load_workbook(io.BytesIO(alert_exports.transmission_workbook(alert)))
    client = app.test_client()
    login(client, referent)  # the referent's key opened into the session, as at a real login
    assert client.get(f"/referent/signalements/{alert.reference}/transmission.xlsx").status_code == 200
    assert client.get(f"/referent/signalements/{alert.reference}/transmission/impression").status_code == 200


@pytest.mark.parametrize("char", ["\x0b", "\x00", "\x1f", "\x7f", "\x9b"])
def test_forms_refuse_control_characters_with_a_message(app, client, login, officer, lot, char):
    login(client, officer)
    response = client.post("/operations/LOT-2019-ACI/depenses/nouvelle",
                           data=form_values(label=f"Fournitures{char}bureau"), content_type="multipart/form-data")
    assert response.status_code in (200, 400)
    assert "Caractère de contrôle interdit" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Expense.id))) == 0


def test_forms_normalise_text_to_nfc_and_keep_tab_and_newline(app, client, login, officer, lot):
    login(client, officer)
    client.post("/operations/LOT-2019-ACI/depenses/nouvelle",
                data=form_values(label="Cafe\u0301\u2028ligne\tdeux"), content_type="multipart/form-data")
    expense = db.session.scalar(db.select(Expense))
    assert expense is not None and expense.label == "Caf\u00e9\nligne\tdeux"


def test_imports_refuse_control_characters_line_and_column(app, lot):
    header = "Date;Date de paiement;Fournisseur;SIRET;N° de pièce;Libellé;Catégorie;Montant HT;TVA;TVA récupérable;Affectation (%)\n"
    row = "04/03/2019;15/03/2019;Bureau;;FA-1;Fournitures\x0bbureau;FONCTIONNEMENT;245,80;49,16;non;100\n"
    result = check_file(lot, (header + row).encode("utf-8"))
    assert [str(problem) for problem in result.problems] == ["ligne 2, colonne Libellé : caractère de contrôle (U+000B)"]


def test_the_log_formatter_escapes_every_control_character():
    formatter = OneLineFormatter("%(message)s")
    for char in CONTROLS:
        record = logging.LogRecord("budget_app", logging.INFO, __file__, 1, f"a{char}b", None, None)
        line = formatter.format(record)
        assert char not in line and line.startswith("a\\") and line.endswith("b")


def test_an_unexpected_error_logs_no_field_text(app, client, login, officer, lot, monkeypatch, caplog):
    """Finding 4: the failing export logged the field's text in clear."""
    secret_text = "Mesures-CANARY-91c2"

    def explode(*args, **kwargs):
        raise ValueError(f"{secret_text} cannot be used in worksheets.")

    monkeypatch.setattr("budget_app.expenses.views.lines.render_template", explode, raising=False)
    login(client, officer)
    with caplog.at_level(logging.ERROR, logger="budget_app"):
        response = client.get("/operations/LOT-2019-ACI/depenses")
    assert response.status_code == 500
    logged = "\n".join(record.getMessage() + str(record.exc_info or "") + (record.exc_text or "")
                       for record in caplog.records)
    assert "event=unhandled_error" in logged and "ValueError" in logged
    assert secret_text not in logged


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-32-be"])
def test_utf16_and_utf32_csv_are_read_by_their_bom(app, lot, encoding):
    """Finding 8: UTF-16 CSV was read as Windows-1252 garbage."""
    header = "Date;Date de paiement;Fournisseur;SIRET;N° de pièce;Libellé;Catégorie;Montant HT;TVA;TVA récupérable;Affectation (%)\n"
    row = "04/03/2019;15/03/2019;Bureau Vallée;;FA-1;Fournitures à l'atelier;FONCTIONNEMENT;245,80;49,16;non;100\n"
    text = header + row
    content = text.encode(encoding)
    if encoding.endswith("-be"):
        content = ("\ufeff" + text).encode(encoding)
    result = check_file(lot, content)
    assert result.problems == []
    assert [row.data.label for row in result.rows] == ["Fournitures à l'atelier"]


def test_an_undecodable_csv_is_refused_with_a_message(app, lot):
    result = check_file(lot, b"Date;Libell\x81\n")
    assert [str(problem) for problem in result.problems] == ["Encodage du fichier non reconnu."]


def test_a_submitted_claim_with_a_control_character_still_exports(app, client, login, claims_world):
    """Finding 5: once the claim was submitted, its XLSX answered 500 for good."""
    operation = claims_world["operation"]
    make_expense(operation, "10.00", incurred_on=date(2023, 1, 5), paid_on=date(2023, 1, 6),
                 label="Libellé\x0bcollé depuis Word")
    login(client, claims_world["officer"])
    base = f"/operations/{operation.code}/demandes"
    assert client.post(f"{base}/nouvelle", data={"start": "2023-01-01", "end": "2023-01-31"}).status_code == 302
    assert client.post(f"{base}/1/deposer").status_code == 302
    response = client.get(f"{base}/1/export.xlsx")
    assert response.status_code == 200
    load_workbook(io.BytesIO(response.data))
    for url in (f"{base}/1/export.csv", f"{base}/1/export.pdf", f"{base}/1/imprimer", f"{base}/1"):
        assert client.get(url).status_code == 200, url

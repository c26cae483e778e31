"""One word per thing for the people who read it: *bilan* (intermédiaire / final) and *état
récapitulatif*, on pages, documents, file names and the menu, in both languages. (Before:
the PDF said « Demande de paiement FSE+ n° 1 » under a screen titled « Bilan intermédiaire
n° 1 », files were named ``…-demande-1-…``, English read "balance report" and "Claims and
bilans".)"""
import io
import re
from datetime import date
from decimal import Decimal as D
from pathlib import Path

from openpyxl import load_workbook

from budget_app.claims import lifecycle
from budget_app.kernel.extensions import db
from tests.staff.factories import make_staff_line

ROOT = Path(__file__).resolve().parents[2]
BASE = "/operations/HL-RSA-2023/demandes"  # URLs stay the same


def _submitted_bilan(claims_world):
    operation = claims_world["operation"]
    make_staff_line(operation, "2880.00", hours=D("120"), rate=D("24.00"))
    claim = lifecycle.create_draft(operation, date(2023, 1, 1), date(2023, 1, 31))
    lifecycle.submit_claim(claim, today=date(2023, 2, 15))
    db.session.commit()
    return claim


def test_the_screen_the_spreadsheet_and_the_file_name_say_the_same_bilan(client, login, claims_world):
    _submitted_bilan(claims_world)
    login(client, claims_world["officer"])
    page = client.get(f"{BASE}/1").get_data(as_text=True)
    assert "Bilan intermédiaire n° 1" in page
    response = client.get(f"{BASE}/1/export.xlsx")
    assert 'filename="HL-RSA-2023-bilan-1-20230101-20230131.xlsx"' in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data))["Récapitulatif"]
    title = sheet.cell(1, 1).value
    assert title.startswith("Bilan intermédiaire n° 1 — HL-RSA-2023 — "), title
    values = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert (values["Bilan n°"], values["Bilan"]) == (1, "Bilan intermédiaire")
    assert "Demande n°" not in values
    pdf = client.get(f"{BASE}/1/export.pdf")
    assert "-bilan-1-" in pdf.headers["Content-Disposition"]
    csv = client.get(f"{BASE}/1/export.csv")
    assert "-bilan-1-" in csv.headers["Content-Disposition"]
    for response in (pdf, csv):
        assert "demande" not in response.headers["Content-Disposition"]


def test_the_menu_and_the_operation_page_in_both_languages(client, login, claims_world):
    user = claims_world["officer"]
    login(client, user)
    french = client.get("/operations/HL-RSA-2023/").get_data(as_text=True)
    assert "Bilans et états récapitulatifs" in french and "Demandes et bilans" not in french
    user.locale = "en"
    db.session.commit()
    english = client.get("/operations/HL-RSA-2023/").get_data(as_text=True)
    assert "Bilans and statements of expenditure" in english
    assert "Claims and bilans" not in english and "Balance report" not in english
    assert re.search(r'<a[^>]*href="/demandes"[^>]*>\s*Bilans\s*</a>', english), "menu entry « Bilans »"


def test_no_english_text_calls_a_bilan_a_claim_or_a_balance_report():
    """Every English catalogue entry in use: "bilan", "interim bilan", "final bilan",
    "statement of expenditure"; never "balance report", "final report", "payment claim"
    nor "Claims" as a name (the verb "claimed" stays: « FSE+ demandé »)."""
    wrong = re.compile(r"balance.report|final report|payment claim|\bclaims?\b(?! \w+ed)", re.IGNORECASE)
    found = []
    for path in sorted(ROOT.glob("budget_app/**/translations/en/LC_MESSAGES/messages.po")):
        in_use = [block for block in path.read_text(encoding="utf-8").split("\n\n") if "#~" not in block]
        for block in in_use:
            english = " ".join(re.findall(r'"(.*)"', block.split("msgstr", 1)[-1])) if "msgstr" in block else ""
            if wrong.search(english):
                found.append(f"{path.relative_to(ROOT)}: {english}")
    assert found == []

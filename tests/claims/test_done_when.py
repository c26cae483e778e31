"""The primer's worked month end to end: the seed operation, a month of staff and
timesheets imported from the example files, then `statements export HL-RSA-2023 --month
2023-01 -o janvier.xlsx`; the screen shows the same figures."""
import csv
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook

from tests.claims.test_pdf import pdf_amount_of, pdf_text, xlsx_money_rows

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = ROOT / "fixtures" / "examples"


def test_january_from_the_example_files(app, runner, tmp_path, client, login, make_user):
    for args in (
        ["operations", "load", str(ROOT / "fixtures" / "hl-rsa-2023.toml")],
        ["staff", "import", "HL-RSA-2023", str(EXAMPLES / "personnel-exemple.csv")],
        ["timesheets", "import", "HL-RSA-2023", str(EXAMPLES / "temps-exemple.csv"), "--approved"],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, (args, result.output)
    target = tmp_path / "janvier.xlsx"
    result = runner.invoke(args=["statements", "export", "HL-RSA-2023", "--month", "2023-01", "-o", str(target)])
    assert result.exit_code == 0, result.output
    summary = {row[0]: row[1] for row in load_workbook(target)["Récapitulatif"].iter_rows(values_only=True)
               if row and row[0]}
    assert summary["Dépenses directes de personnel"] == 7280
    assert summary["Total des dépenses éligibles"] == 8372
    assert summary["FSE+ demandé"] == 5023.2
    assert summary["FSE+ restant"] == 495226.8
    officer = make_user("finance_officer", operations=["HL-RSA-2023"])
    login(client, officer)
    page = client.get("/operations/HL-RSA-2023/demandes/?month=2023-01").get_data(as_text=True)
    for shown in ("7\u202f280,00\u00a0€", "1\u202f092,00\u00a0€", "8\u202f372,00\u00a0€", "5\u202f023,20\u00a0€"):
        assert shown in page


def test_january_exports_agree_to_the_cent(app, runner, tmp_path):
    """README's worked example: XLSX, CSV and PDF of January 2023 give the same figures."""
    for args in (
        ["operations", "load", str(ROOT / "fixtures" / "hl-rsa-2023.toml")],
        ["staff", "import", "HL-RSA-2023", str(EXAMPLES / "personnel-exemple.csv")],
        ["timesheets", "import", "HL-RSA-2023", str(EXAMPLES / "temps-exemple.csv"), "--approved"],
    ):
        assert runner.invoke(args=args).exit_code == 0, args
    files = {}
    for fmt in ("xlsx", "csv", "pdf"):
        files[fmt] = tmp_path / f"janvier.{fmt}"
        result = runner.invoke(args=["statements", "export", "HL-RSA-2023", "--month", "2023-01", "-o", str(files[fmt]),
                                     "--format", fmt])
        assert result.exit_code == 0, result.output
    amounts = xlsx_money_rows(files["xlsx"].read_bytes())
    text = pdf_text(files["pdf"].read_bytes())
    for label, amount in amounts.items():
        assert pdf_amount_of(text, label) == amount, label
    with open(files["csv"], encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream, delimiter=";"))
    presented = sum(Decimal(row["Montant présenté"].replace(",", ".")) for row in rows)
    assert presented == amounts["Dépenses directes de personnel"] == Decimal("7280.00")
    assert amounts["Total des dépenses éligibles"] == Decimal("8372.00")
    assert amounts["FSE+ demandé"] == Decimal("5023.20")

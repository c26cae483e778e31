"""Every flat rate is printed with the rate applied, its base and its ceiling (pages, XLSX,
PDF, commands), and a fixed agreed FSE+ amount shows the rate the bilans apply. Hand
computations in each docstring."""
import io
import json
import re
from datetime import date
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook

from budget_app.claims import exports, lifecycle, pdf
from budget_app.claims.report import build_report
from budget_app.kernel.extensions import db
from budget_app.operations.flat_rates import AppliedRate, applied_rate_text, applied_rates
from tests.expenses.factories import make_expense
from tests.operations.factories import make_plan

from .test_pdf import pdf_text

JANUARY = (date(2023, 1, 1), date(2023, 1, 31))
# 10 614,73 × 22 % = 2 335,2406 -> 2 335,24 € (half-up, once).
EXPECTED = "22,00 % × 10 614,73 € (plafond RPDC 54 (c) : 25 %) = 2 335,24 €"


def plain(text: str) -> str:
    """Every kind of space as one plain space (the locale prints narrow no-break spaces)."""
    return re.sub(r"[\s\u00a0\u202f]+", " ", text or "")


def test_an_applied_rate_reads_rate_times_base_with_its_ceiling(app):
    """INDIRECTS_25 chosen at 22 % on 10 614,73 € of direct costs: 2 335,24 €; in English
    the same figures in English notation."""
    applied = applied_rates({"INDIRECTS_25": D("22")}, {"FONCTIONNEMENT": D("10614.73")})["INDIRECTS_25"]
    assert (applied.base, applied.amount, applied.ceiling) == (D("10614.73"), D("2335.24"), D("25"))
    with app.test_request_context():
        assert plain(applied_rate_text(applied)) == EXPECTED
        assert plain(applied_rate_text(applied, locale="en")).startswith("22.00% × €10,614.73")
    # A staff-cost base: 15 % × 7 280,00 € = 1 092,00 € (primer §5's month).
    with app.test_request_context():
        assert plain(applied_rate_text(AppliedRate("INDIRECTS_15", D("15"), D("7280.00"), D("1092.00")))) == (
            "15,00 % × 7 280,00 € (plafond RPDC 54 (b) : 15 %) = 1 092,00 €")


@pytest.fixture
def justified_rate(make_operation, make_user):
    """An operation whose plan chose INDIRECTS_25 at 22 % (RPDC 54 (c), justified rate);
    January 2023: one running cost of 10 614,73 €."""
    officer = make_user("finance_officer", email="finance-rates@example.org")
    operation = make_operation("RATE-22", members=[officer])
    make_plan(operation, costs={("FONCTIONNEMENT", 2023): "400000.00", ("FONCTIONNEMENT", 2024): "300000.00"},
              flat_rates={"INDIRECTS_25": "22"})
    make_expense(operation, "10614.73", incurred_on=date(2023, 1, 10), paid_on=date(2023, 1, 20))
    db.session.commit()
    return operation, officer


def test_the_applied_rate_is_printed_on_the_page_the_spreadsheet_the_pdf_and_bilans_show(
        justified_rate, client, login, runner):
    """Month of January: direct costs 10 614,73 €, indirect costs 22 % = 2 335,24 €, total
    12 949,97 €. Each output prints « 22,00 % × 10 614,73 € (plafond RPDC 54 (c) : 25 %) =
    2 335,24 € », not only the ceiling named in the rate's label."""
    operation, officer = justified_rate
    report = build_report(operation, *JANUARY)
    assert report.figures.total == D("12949.97")

    login(client, officer)
    page = client.get("/operations/RATE-22/demandes/?month=2023-01").get_data(as_text=True)
    shown = re.search(r'data-testid="applied-INDIRECTS_25">([^<]*)<', page)
    assert shown and plain(shown.group(1)) == EXPECTED

    summary = load_workbook(io.BytesIO(exports.xlsx_bytes(report)))["Récapitulatif"]
    texts = [plain(str(row[1].value)) for row in summary.iter_rows() if len(row) > 1 and row[1].value]
    assert EXPECTED in texts

    assert EXPECTED in plain(pdf_text(pdf.pdf_bytes(report)))

    claim = lifecycle.create_draft(operation, *JANUARY)
    lifecycle.submit_claim(claim, today=date(2023, 2, 15))
    db.session.commit()
    data = json.loads(runner.invoke(args=["bilans", "show", "RATE-22", "1", "--json"]).output)
    assert data["declared"]["flat_rates_applied"]["INDIRECTS_25"] == {
        "rate": "22.0000", "base": "10614.73", "ceiling": "25.0000", "amount": "2335.24", "text": data["declared"][
            "flat_rates_applied"]["INDIRECTS_25"]["text"]}
    assert plain(data["declared"]["flat_rates_applied"]["INDIRECTS_25"]["text"]) == EXPECTED
    text = plain(runner.invoke(args=["bilans", "show", "RATE-22", "1"]).output)
    assert EXPECTED in text


def test_a_fixed_agreed_amount_shows_the_rate_the_bilans_apply(make_operation, runner):
    """Stated rate 50 %, total eligible cost 51 360,00 €, the agreement fixes FSE+ at
    25 000,00 € (not 50 % × 51 360,00 = 25 680,00 €). The bilans apply 25 000 / 51 360 =
    0,4867601… -> 48,6760 % (four decimals), and at most 25 000,00 € of FSE+: ``operations
    show --json`` keeps ``fse_rate`` 50.00 and adds ``fse_rate_effective`` 48.6760 and
    ``fse_max`` 25000.00 (rate × total stays as ``fse_rate_times_total``: 25680.00)."""
    operation = make_operation("FIXED-25K", fse_rate=D("50"), fse_amount=D("25000.00"), fse_amount_fixed=True)
    make_plan(operation, costs={("FONCTIONNEMENT", 2023): "25680.00", ("FONCTIONNEMENT", 2024): "25680.00"},
              flat_rates={})
    result = runner.invoke(args=["operations", "show", "FIXED-25K", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["fse_rate"], data["fse_rate_effective"], data["fse_max"], data["fse_rate_times_total"]) == (
        "50.00", "48.6760", "25000.00", "25680.00")
    text = plain(runner.invoke(args=["operations", "show", "FIXED-25K"]).output)
    assert "taux appliqué par les bilans 48,6760 %" in text and "FSE+ maximum 25 000,00 €" in text


def test_a_stated_rate_keeps_its_maximum(make_operation, runner):
    """60 % stated, 10 000,00 € of costs, 6 000,00 € agreed: effective 60.0000, maximum 6 000,00 €."""
    operation = make_operation("STATED-60", fse_amount=D("6000.00"))
    make_plan(operation, costs={("FONCTIONNEMENT", 2023): "10000.00"}, flat_rates={})
    data = json.loads(runner.invoke(args=["operations", "show", "STATED-60", "--json"]).output)
    assert (data["fse_rate"], data["fse_rate_effective"], data["fse_max"]) == ("60.00", "60.0000", "6000.00")

"""Each bilan freezes its indicator table when submitted (participants §2-§3); its XLSX,
PDF and evidence pack carry it. A bilan on 2023 of the worked example: EECO01 3 / 2 / 5."""
import csv
import io
import zipfile
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook

from budget_app.claims import lifecycle
from budget_app.claims.exports import xlsx_bytes
from budget_app.claims.pack import write_pack
from budget_app.claims.participant_indicators import ClaimIndicatorTable
from budget_app.claims.pdf import pdf_bytes
from budget_app.claims.report import build_report
from budget_app.kernel.extensions import db
from budget_app.participants.imports import save_participant
from tests.expenses.factories import make_expense
from tests.operations.factories import add_seed_plan


def test_submitted_bilan_freezes_and_prints_the_table(worked_example, tmp_path):
    add_seed_plan(worked_example)
    make_expense(worked_example, "100.00", incurred_on=date(2023, 3, 1), paid_on=date(2023, 3, 2))
    claim = lifecycle.create_draft(worked_example, date(2023, 1, 1), date(2023, 12, 31))
    lifecycle.submit_claim(claim, today=date(2024, 1, 15))
    db.session.commit()
    frozen = db.session.get(ClaimIndicatorTable, claim.id)
    assert frozen.counts["EECO01"] == {"femmes": 3, "hommes": 2, "non_binaires": 0, "total": 5}
    # A participant entered later in 2023 (a late entry) does not change what was reported.
    save_participant(worked_example, {"last_name": "Tardif", "first_name": "Fictif", "birth_date": "01/01/1990",
                                      "sex": "H", "entry_date": "01/12/2023"})
    db.session.commit()
    report = build_report(worked_example, claim.period_start, claim.period_end, claim)
    sheet = load_workbook(io.BytesIO(xlsx_bytes(report)))["Participants"]
    rows = {row[0]: row[2:6] for row in sheet.iter_rows(values_only=True) if row and str(row[0]).startswith("EEC")}
    assert rows["EECO01"] == (3, 2, 0, 5) and rows["EECR04"] == (1, 0, 0, 1) and len(rows) == 23
    assert pdf_bytes(report).startswith(b"%PDF")  # the PDF prints the same rows (report_indicator_rows)
    target = tmp_path / "pack.zip"
    write_pack(claim, target)
    with zipfile.ZipFile(target) as archive:
        name = next(n for n in archive.namelist() if n.endswith("participants/indicateurs-communs.csv"))
        table = list(csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig")), delimiter=";"))
    assert table[0] == ["Code", "Indicateur", "Femmes", "Hommes", "Non binaires", "Total"]
    assert table[1][0] == "EECO01" and table[1][2:] == ["3", "2", "0", "5"]
    assert Decimal(claim.total_eligible) > 0

"""Finding 8 of issue 13: a CSV cell was neutralised only at its start, so
``ACME,=cmd|' /C calc'!A0,`` became a live formula when the file was read with a comma
separator. Every field is quoted and every place a separator could start a cell is
neutralised: whatever separator a reader uses, and even if it ignores quotes, no cell
starts with a formula character."""
import csv
import io
from datetime import date

import pytest

from budget_app.claims import exports
from budget_app.claims.report import build_report
from budget_app.kernel.spreadsheet import csv_text
from tests.claims.conftest import claims_world  # noqa: F401  (fixture)
from tests.expenses.factories import make_expense

PAYLOADS = ["ACME,=cmd|' /C calc'!A0,", "x;+1+1", "a\t@SUM(A1)", "b|-2+3", 'c,"=1+1"', "d, =HYPERLINK(1)"]
FORMULA = ("=", "+", "-", "@")


def _cells(text: str, delimiter: str, quoting: int):
    for row in csv.reader(io.StringIO(text), delimiter=delimiter, quoting=quoting):
        for cell in row:
            yield cell.strip().strip('"').strip()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_reading_of_a_csv_field_yields_a_formula(payload):
    field = csv_text(payload)
    for delimiter in (",", ";", "\t", "|"):
        for quoting in (csv.QUOTE_MINIMAL, csv.QUOTE_NONE):
            for cell in _cells(field, delimiter, quoting):
                assert not cell.startswith(FORMULA), (payload, delimiter, cell)


@pytest.mark.parametrize("dialect", ["fr", "excel-en"])
def test_the_claim_csv_holds_no_formula_whatever_the_separator(app, claims_world, dialect):
    operation = claims_world["operation"]
    for number, payload in enumerate(PAYLOADS):
        make_expense(operation, "10.00", incurred_on=date(2023, 1, 5), paid_on=date(2023, 1, 6),
                     label=payload, supplier=f"S{number} {payload}")
    text = exports.csv_bytes(build_report(operation, date(2023, 1, 1), date(2023, 1, 31)), dialect).decode("utf-8-sig")
    assert text.count("\n") > len(PAYLOADS)
    for delimiter in (",", ";", "\t", "|"):
        for quoting in (csv.QUOTE_MINIMAL, csv.QUOTE_NONE):
            for cell in _cells(text, delimiter, quoting):
                assert not cell.startswith(FORMULA), (dialect, delimiter, cell)

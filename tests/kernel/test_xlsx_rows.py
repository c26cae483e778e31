"""The lean sheet reader of imports (kernel/xlsx_rows) yields what openpyxl's read-only
``iter_rows(values_only=True)`` yields, cell for cell and type for type."""
import gc
import io
from datetime import date, datetime, time

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from budget_app.kernel.bulk import gc_paused
from budget_app.kernel.xlsx_rows import open_workbook, sheet_values


def _both(content: bytes, width: int):
    theirs = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    ours = open_workbook(content)
    for expected_sheet, sheet in zip(theirs.worksheets, ours.worksheets, strict=True):
        expected_sheet.reset_dimensions()
        sheet.reset_dimensions()
        yield list(expected_sheet.iter_rows(max_col=width, values_only=True)), list(sheet_values(sheet, width))


def _saved(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _typed(rows):
    return [[(type(value), value) for value in row] for row in rows]


def test_a_workbook_of_every_kind_of_cell_reads_the_same():
    """Shared strings, dates by style, times, booleans, a formula (its cached value: none),
    rich text, an empty string, gaps of rows and columns, a cell far to the right."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Date", "x", None, "y"])
    sheet.append([date(2020, 1, 2), 1.5, True, "=1+1"])
    sheet["F7"] = "loin"
    sheet["B9"] = datetime(2021, 3, 4, 5, 6)
    sheet["C10"] = CellRichText(["simple ", TextBlock(InlineFont(b=True), "gras")])
    sheet["A11"] = ""
    sheet["D12"] = time(3, 4)
    sheet["A13"] = -0.0
    sheet["A14"] = 10**20
    sheet["Z15"] = "au-delà"
    for width in (3, 6, 40):
        for expected, read in _both(_saved(workbook), width):
            assert _typed(read) == _typed(expected)
            assert len(read) == 15 and all(len(row) == width for row in read)
    expected, read = next(_both(_saved(workbook), 6))
    assert read[6] == (None, None, None, None, None, "loin")  # row 7: F7
    assert read[7] == (None,) * 6  # row 8: missing from the file


def test_inline_strings_of_a_write_only_workbook_read_the_same():
    """openpyxl's write-only output stores strings inline: plain runs are taken as their
    text; rich runs and spaces come out as openpyxl reads them."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Feuille")
    sheet.append(["a", "", None, "  espaces  ", 3, 2.5, date(2020, 1, 1),
                  CellRichText(["r1", TextBlock(InlineFont(i=True), "r2")]), "Chômeur"])
    for expected, read in _both(_saved(workbook), 12):
        assert _typed(read) == _typed(expected)
        assert read[0][:4] == ("a", None, None, "  espaces  ")  # an empty string is not written
        assert read[0][7] == "r1r2"


def test_the_collector_is_paused_inside_and_back_after_even_on_error():
    assert gc.isenabled()
    with pytest.raises(ValueError):
        with gc_paused():
            assert not gc.isenabled()
            raise ValueError
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # left off: someone else had turned it off
    finally:
        gc.enable()

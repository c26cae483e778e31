"""The rows of a workbook's sheets as values, read with openpyxl's own read-only machinery
(its defused XML parser, its shared strings, its date styles) but without what an import
never asks for (issues 23 and 27: most of a 10 000-row import was openpyxl's work per cell).

``sheet_values(sheet, width)`` yields exactly what ``sheet.iter_rows(max_col=width,
values_only=True)`` yields for a read-only sheet whose dimensions were reset (a tuple of
``width`` values per row, an empty tuple of Nones for a missing row), with three savings:

- an inline string holding one plain run (``<is><t>…</t></is>``, what openpyxl and most
  writers produce) is taken as its text, not built into a rich-text object first; any
  other inline string goes through openpyxl's ``Text`` as before;
- a cell beyond ``width`` is skipped once its column is known (a file claiming 16 384
  columns costs no conversion of the cells it will never show);
- no dictionary per cell and no row-dimension bookkeeping.

Every other kind of cell (numbers, dates by style, shared strings, booleans, errors, ISO
dates) is converted by the same rules as ``WorkSheetParser.parse_cell`` with ``data_only``.
"""
import io
from decimal import Decimal, InvalidOperation
from functools import cache
from warnings import warn

from .memory import load_openpyxl


@cache
def _values_parser():
    """The parser class, built on first use: openpyxl is loaded where a workbook is read,
    not when a command or a worker starts (bench/bench_start.py)."""
    load_openpyxl()
    from openpyxl.cell.text import Text
    from openpyxl.utils import coordinate_to_tuple
    from openpyxl.utils.datetime import from_excel, from_ISO8601
    from openpyxl.worksheet._reader import INLINE_STRING, VALUE_TAG, WorkSheetParser, _cast_number
    from openpyxl.xml.constants import SHEET_MAIN_NS

    PLAIN_TEXT = "{%s}t" % SHEET_MAIN_NS

    class _ValuesParser(WorkSheetParser):
        """``parse()`` yields (row number, list of ``width`` values)."""

        width = 0

        def parse_row(self, row):
            number = row.get("r")
            if number is not None:
                try:
                    self.row_counter = int(number)
                except ValueError:  # « 3.0 » is row 3 (as openpyxl reads it); « 3.5 » is refused
                    try:
                        value = Decimal(number)
                    except InvalidOperation:
                        raise ValueError(f"{number} is not a valid row number") from None
                    if not value.is_finite() or value != value.to_integral_value():
                        raise ValueError(f"{number} is not a valid row number")
                    self.row_counter = int(value)
            else:
                self.row_counter += 1
            self.col_counter = 0
            width = self.width
            values = [None] * width
            for element in row:
                coordinate = element.get("r")
                if coordinate:
                    column = coordinate_to_tuple(coordinate)[1]
                else:
                    column = self.col_counter + 1
                self.col_counter = column
                if 1 <= column <= width:
                    values[column - 1] = self.cell_value(element, coordinate)
            return self.row_counter, values

        def cell_value(self, element, coordinate):
            data_type = element.get("t", "n")
            if data_type == "inlineStr":
                child = element.find(INLINE_STRING)
                if child is None:
                    return None
                if len(child) == 1 and child[0].tag == PLAIN_TEXT and not len(child[0]):
                    return child[0].text or ""
                return Text.from_tree(child).content
            value = element.findtext(VALUE_TAG, None) or None
            if value is None:
                return None
            if data_type == "n":
                value = _cast_number(value)
                style_id = element.get("s", 0)
                if style_id:
                    style_id = int(style_id)
                if style_id in self.date_formats:
                    try:
                        return from_excel(value, self.epoch, timedelta=style_id in self.timedelta_formats)
                    except (OverflowError, ValueError):
                        warn(f"Cell {coordinate} is marked as a date but the serial value {value} is outside the limits "
                             "for dates. The cell will be treated as an error.")
                        return "#VALUE!"
                return value
            if data_type == "s":
                return self.shared_strings[int(value)]
            if data_type == "b":
                return bool(int(value))
            if data_type == "d":
                return from_ISO8601(value)
            return value  # "str", "e" (an error such as #DIV/0!) and anything else: the text

    return _ValuesParser


def sheet_values(sheet, width: int):
    """The rows of a read-only ``sheet`` (opened with ``data_only``), ``width`` values each."""
    if not sheet.parent.data_only:
        raise ValueError("sheet_values reads cached values only (data_only=True)")
    empty = (None,) * width
    counter = 1
    with sheet._get_source() as source:
        parser = _values_parser()(source, sheet._shared_strings, data_only=True, epoch=sheet.parent.epoch,
                               date_formats=sheet.parent._date_formats,
                               timedelta_formats=sheet.parent._timedelta_formats)
        parser.width = width
        for number, values in parser.parse():
            while counter < number:  # rows missing from the file
                counter += 1
                yield empty
            if counter <= number:
                counter += 1
                yield tuple(values)


def open_workbook(content: bytes):
    """``openpyxl.load_workbook(read_only=True, data_only=True)`` (defusedxml is installed:
    openpyxl parses with it), but without its pass over each whole sheet looking for a
    <dimension> (files that have none, such as openpyxl's own write-only output, were
    parsed twice): the dimensions a file claims are ignored here anyway."""
    load_openpyxl()
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    class Sheet(ReadOnlyWorksheet):
        def _get_size(self):  # no pre-scan; ``reset_dimensions`` follows
            pass

    class Reader(ExcelReader):
        def read_worksheets(self):
            for sheet, rel in self.parser.find_sheets():
                if rel.target not in self.valid_files or "chartsheet" in rel.Type:
                    continue  # a chart sheet holds no rows
                worksheet = Sheet(self.wb, sheet.name, rel.target, self.shared_strings)
                worksheet.sheet_state = sheet.state
                self.wb._sheets.append(worksheet)

    reader = Reader(io.BytesIO(content), read_only=True, data_only=True)
    reader.read()
    return reader.wb

"""How an exported sheet prints and reads: A4, one page wide, the header row repeated on
every printed page and frozen on screen, an autofilter on the lines, a footer with the
page number and the operation's code. Used by every XLSX writer (claims, alert
transmission form), in normal and write-only workbooks alike.

Formulas never appear: totals are written as numbers computed by the application.
"""

A4 = "9"  # ECMA-376 paper size code

# Text cells: typed as strings (never a formula, whatever the text starts with) and shown
# as typed, without a visible apostrophe (the quote-prefix style keeps the spreadsheet from
# reading it as a formula when edited). Security CHECKLIST §3.


def print_layout(ws, code: str, landscape: bool = True, header_row: int | None = None,
                 one_page: bool = False) -> None:
    """A4, one page wide (``one_page``: the whole sheet on one page), the header row
    repeated on every printed page, a footer "code · Page x / y"."""
    ws.page_setup.paperSize = A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1 if one_page else 0
    from openpyxl.worksheet.properties import PageSetupProperties  # not at start

    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_options.horizontalCentered = True
    if header_row is not None:
        ws.print_title_rows = f"{header_row}:{header_row}"
    # Header/footer codes: &P page, &N pages; a literal "&" would be doubled ("&&").
    ws.oddFooter.left.text = code.replace("&", "&&")
    ws.oddFooter.right.text = "Page &P / &N"
    ws.oddFooter.left.size = ws.oddFooter.right.size = 8


def freeze_below(ws, header_row: int) -> None:
    """Freeze the rows down to the header (set before the first row of a write-only sheet)."""
    ws.freeze_panes = f"A{header_row + 1}"

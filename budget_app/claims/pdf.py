"""The claim as a PDF: what gets signed and attached (A4 landscape, page numbers, the
Récapitulatif, the line tables and, once controlled, the decisions). Drawn with the lean
writer of ``kernel/pdf_canvas`` (fpdf2's calls and page model; fpdf2 itself costs 44 MB once
imported and most of an evidence pack's time: issues 22 and 27) and the DejaVu Sans
Condensed fonts shipped in ``claims/fonts`` (Bitstream Vera licence, LICENSE-DejaVu.txt; cut
down with fontTools' pyftsubset to the Latin, Greek and Cyrillic alphabets, punctuation,
currency, arrows and mathematical signs), embedded whole.

The figures are those of the XLSX (the same ``report`` rows), printed by
``kernel.formatting`` in French with plain spaces ("7 280,00 €"), so that the text copied
or extracted from the PDF reads the same amounts to the cent.
"""
import io
from functools import cache
from pathlib import Path

from ..kernel.formatting import format_hours, format_month, format_percent
from ..kernel.money import HUNDRED, ZERO, cents
from ..kernel.pdf_canvas import Canvas
from ..kernel.text import clean_output
from .exports import EMPTY_SHEET
from . import participant_indicators as indicator_columns
from .unit_report import has_units, unit_rows
from .report import (
    ClaimReport,
    controlled,
    csf_rows,
    document_label,
    expense_rows,
    staff_rows,
    summary_rows,
    title_lines,
)

FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVu"
LINE = 5.2  # mm per table row
WRAP_LINE = 3.4  # mm per further line of a wrapped cell

# (title, width in mm, kind, index in the report row); widths add up to 277 mm (A4 landscape
# less 10 mm margins).
EXPENSE_TABLE = [
    ("Poste", 38, "text", 0), ("Description", 50, "text", 1), ("Fournisseur", 32, "text", 2),
    ("N° de pièce", 20, "text", 4), ("Date", 17, "date", 5), ("Acquittée", 17, "date", 6),
    ("Éligible", 24, "money", 11), ("Présenté", 24, "money", 12), ("Motif d'exclusion", 55, "text", 13),
]
STAFF_TABLE = [
    ("Matricule", 17, "text", 0), ("Personne", 34, "text", 1), ("Mois", 13, "month", 3), ("Méthode", 36, "text", 4),
    ("Heures", 14, "hours", 5), ("Calcul", 72, "text", 11), ("Éligible", 24, "money", 9),
    ("Présenté", 24, "money", 10), ("Motif d'exclusion", 43, "text", 12),
]
UNIT_TABLE = [
    ("Poste", 40, "text", 0), ("Unité ou livrable", 60, "text", 1), ("Date", 18, "date", 2), ("Unités", 16, "hours", 3),
    ("Par unité", 22, "money", 4), ("Éligible", 24, "money", 5), ("Présenté", 24, "money", 6),
    ("Preuve", 30, "text", 7), ("Motif d'exclusion", 43, "text", 9),
]
CSF_TABLE = [
    ("N°", 10, "number", 0), ("Type", 15, "text", 1), ("Référence", 42, "text", 3), ("Description", 50, "text", 4),
    ("Déclaré", 22, "money", 6), ("Décision", 16, "text", 7), ("Retenu", 22, "money", 8), ("Écarté", 22, "money", 9),
    ("Motif", 40, "text", 10), ("Commentaire", 38, "text", 11),
]


def euros(value) -> str:
    """``format_money(value, "fr", plain=True)`` without Babel's per-call cost (a table has
    thousands of amounts): "-1 234,56 €", never "-0,00 €". A property test checks both agree."""
    value = cents(value)
    if value == 0:
        value = abs(value)
    digits = f"{abs(value):,.2f}".replace(",", " ").replace(".", ",")
    return f"{'-' if value < 0 else ''}{digits} €"


def _text(value, kind) -> str:
    if value is None:
        return ""
    if kind == "money":
        return euros(value)
    if kind == "percent":
        return format_percent(value * HUNDRED, "fr", plain=True)
    if kind == "date":
        # The PDF is in French whatever the reader's language (a fixed file format):
        # format_day(value, "fr") without Babel's per-call cost on thousands of rows.
        return value.strftime("%d/%m/%Y")
    if kind == "month":
        return format_month(value, "fr")
    if kind == "hours":
        return format_hours(value, "fr", plain=True)
    return " ".join(clean_output(str(value)).split())  # one line: no tab, CR or LF in a cell


@cache
def _document_class():
    """The document class (a ``Canvas`` with the bilan's tables), built on first use."""

    class Document(Canvas):
        def __init__(self, report: ClaimReport):
            super().__init__(orientation="L", unit="mm", format="A4")
            self.code = report.operation.code
            self.label = document_label(report.claim)
            self.add_font(FONT, "", str(FONTS / "DejaVuSansCondensed.ttf"))
            self.add_font(FONT, "B", str(FONTS / "DejaVuSansCondensed-Bold.ttf"))
            self.set_margins(10, 10, 10)
            self.set_auto_page_break(True, margin=14)
            self.set_lang("fr")
            self.set_title(f"{self.code} — {self.label}")
            self.set_creator("Suivi FSE+")
            self._widest = {}

        def footer(self):
            self.set_y(-11)
            self.set_font(FONT, "", 7)
            self.cell(0, 4, f"{self.code} · {self.label}", align="L")
            self.set_x(self.l_margin)
            self.cell(0, 4, f"Page {self.page_no()} / {{nb}}", align="R")

        def width_of(self, text: str) -> float:
            """The text's width in mm (the font's advance widths)."""
            widths = self.current_font.cw
            return sum(map(widths.__getitem__, map(ord, text))) * self.font_size_pt * 0.001 / self.k

        def widest(self) -> float:
            """The widest glyph of the current font and size, in mm."""
            key = (self.font_family, self.font_style, self.font_size_pt)
            if key not in self._widest:
                self._widest[key] = max(self.current_font.cw.values()) * self.font_size_pt * 0.001 / self.k
            return self._widest[key]

        def wrap(self, text: str, width: float) -> list[str]:
            """The text in lines that fit the cell's width, never cut: words go to the next
            line, a word longer than the cell is split (the whole text is always printed)."""
            room = width - 2 * self.c_margin
            if len(text) * self.widest() <= room or self.width_of(text) <= room:
                return [text]
            lines, current = [], ""
            for word in text.split(" "):
                candidate = f"{current} {word}" if current else word
                if self.width_of(candidate) <= room:
                    current = candidate
                    continue
                if current:
                    lines.append(current)
                while self.width_of(word) > room:
                    cut = len(word) - 1
                    while cut > 1 and self.width_of(word[:cut]) > room:
                        cut -= 1
                    lines.append(word[:cut])
                    word = word[cut:]
                current = word
            lines.append(current)
            return lines

        def heading(self, text: str):
            if self.get_y() + 3 * LINE > self.page_break_trigger:
                self.add_page()
            self.ln(3)
            self.set_font(FONT, "B", 11)
            self.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")

        def _wrapped(self, columns, values, bold=False):
            """Each value's lines and the row's height (long texts wrap, the row grows)."""
            self.set_font(FONT, "B" if bold else "", 7.5)
            lines = [self.wrap(text, width) if text else [] for (_t, width, _k, _i), text in zip(columns, values)]
            return lines, LINE + WRAP_LINE * (max((len(cell) for cell in lines), default=1) - 1)

        def _row(self, columns, lines, y, height, bold=False):
            """One table row drawn with ``text`` (a cell per value costs several times more)."""
            self.set_font(FONT, "B" if bold else "", 7.5)
            x = self.l_margin
            for position, ((_title, width, kind, _index), cell) in enumerate(zip(columns, lines)):
                right = kind in ("money", "hours", "number") and not (bold and position == 0)
                for number, text in enumerate(cell):
                    left = x + width - self.c_margin - self.width_of(text) if right else x + self.c_margin
                    self.text(left, y + LINE * 0.7 + number * WRAP_LINE, text)
                x += width
            self.line(self.l_margin, y + height, x, y + height)

        def table(self, columns, rows, totals=()):
            """A table whose header is repeated on each page; ``totals``: titles of the money
            columns summed on a last row."""
            sums = {title: ZERO for title in totals}
            self._header(columns)
            self.set_draw_color(200, 200, 200)
            y, count = self.get_y(), 0
            for row in rows:
                count += 1
                if y + LINE > self.page_break_trigger:
                    self.add_page()
                    self._header(columns)
                    y = self.get_y()
                values = []
                for title, _width, kind, index in columns:
                    value = row[index]
                    if title in sums and value is not None:
                        sums[title] += value
                    values.append(_text(value, kind))
                lines, height = self._wrapped(columns, values)
                if y + height > self.page_break_trigger:
                    self.add_page()
                    self._header(columns)
                    y = self.get_y()
                self._row(columns, lines, y, height)
                y += height
            self.set_y(y)
            self.set_draw_color(0, 0, 0)
            if not count:
                self.set_font(FONT, "", 7.5)
                self.cell(0, LINE, EMPTY_SHEET, new_x="LMARGIN", new_y="NEXT")
            if totals:
                if self.get_y() + LINE > self.page_break_trigger:
                    self.add_page()
                values = ["Total" if position == 0 else (_text(sums[title], "money") if title in sums else "")
                          for position, (title, _w, _k, _i) in enumerate(columns)]
                y = self.get_y()
                lines, height = self._wrapped(columns, values, bold=True)
                self._row(columns, lines, y, height, bold=True)
                self.set_y(y + height)

        def _header(self, columns):
            lines, height = self._wrapped(columns, [title for title, _w, _k, _i in columns], bold=True)
            y = self.get_y()
            self.set_fill_color(230, 230, 230)
            self.rect(self.l_margin, y, sum(width for _t, width, _k, _i in columns), height + 1, style="F")
            self._row(columns, lines, y + 0.5, height + 0.5, bold=True)
            self.set_y(y + height + 1)

    return Document


def _summary(pdf, report: ClaimReport):
    pdf.heading("Récapitulatif")
    for label, value, kind in summary_rows(report):
        if label is None:
            pdf.ln(2)
            continue
        bold = kind == "header"
        pdf.set_font(FONT, "B" if bold else "", 8.5)
        shown = "" if value is None else (_text(value, "text") if kind in ("text", "header") else _text(value, kind))
        textual = kind in ("text", "header")
        # Labels (and text values, e.g. the title) wrap: never cut (issue 22).
        labels = pdf.wrap(_text(label, "text"), 190)
        values = pdf.wrap(shown, 87) if textual and shown else [shown]
        if pdf.get_y() + LINE * max(len(labels), len(values)) > pdf.page_break_trigger:
            pdf.add_page()
        y = pdf.get_y()
        for number, text in enumerate(labels):
            pdf.set_xy(pdf.l_margin, y + number * LINE)
            pdf.cell(190, LINE, text)
        for number, text in enumerate(values):
            pdf.set_xy(pdf.l_margin + 190, y + number * LINE)
            pdf.cell(87 if textual else 45, LINE, text, align="L" if textual else "R")
        pdf.set_xy(pdf.l_margin, y + LINE * max(len(labels), len(values)))


def write_pdf(report: ClaimReport, target) -> None:
    """Write the PDF to a path or a binary file object."""
    pdf = _document_class()(report)
    pdf.add_page()
    title, subtitle = (clean_output(line) for line in title_lines(report))
    pdf.set_font(FONT, "B", 13)
    pdf.multi_cell(0, 6.5, title, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    pdf.multi_cell(0, 5, subtitle, align="L", new_x="LMARGIN", new_y="NEXT")
    _summary(pdf, report)
    pdf.heading("Dépenses")
    pdf.table(EXPENSE_TABLE, expense_rows(report), totals=("Présenté",))
    pdf.heading("Personnel")
    pdf.table(STAFF_TABLE, staff_rows(report), totals=("Présenté",))
    if has_units(report):
        pdf.heading("Coûts unitaires et forfaits")
        pdf.table(UNIT_TABLE, unit_rows(report), totals=("Présenté",))
    pdf.heading(indicator_columns.HEADING)
    pdf.table(indicator_columns.PDF_COLUMNS, indicator_columns.report_indicator_rows(report))
    if controlled(report):
        pdf.heading("Contrôle de service fait : décisions")
        pdf.table(CSF_TABLE, csf_rows(report), totals=("Déclaré", "Retenu", "Écarté"))
    data = pdf.output()
    if hasattr(target, "write"):
        target.write(data)
    else:
        Path(target).write_bytes(data)


def pdf_bytes(report: ClaimReport) -> bytes:
    buffer = io.BytesIO()
    write_pdf(report, buffer)
    return buffer.getvalue()

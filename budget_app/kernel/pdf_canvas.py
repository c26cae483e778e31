"""A lean PDF writer: pages of text in embedded TrueType fonts, lines and filled rectangles;
the calls and the page model of fpdf2 that the bilan's PDF uses (millimetres from the top
left corner, ``cell``, ``multi_cell``, ``text``, automatic page breaks, a footer per page,
``{nb}`` for the number of pages), and nothing else.

Why not fpdf2: importing it costs about 44 MB (fontTools' subsetter and variable fonts, the
SVG parser, cryptography's X.509 for signatures, PIL), more than the rest of a worker
(issue 27: ``claims pack`` <= 120 MB), and its per-cell work made the PDF the costliest part
of an evidence pack (issue 22). Fonts are embedded whole (Type0 / CIDFontType2, Identity-H,
with a ToUnicode map so that the text can be copied and extracted): the shipped fonts are
cut down to the alphabets printed already (``claims/fonts``, about 150 KB each).
"""
import zlib
from functools import cache

from .truetype import load

MM = 72 / 25.4  # points per millimetre
PAGE_SIZES = {"A4": (210.0, 297.0)}


@cache
def _font_stream(path: str) -> bytes:
    return zlib.compress(load(path).data, 6)


def _number(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _text_string(text: str) -> bytes:
    """A PDF text string (document information): UTF-16BE with its mark, in hex."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"


class _Glyphs(dict):
    """Code point -> the glyph's 4 hex digits (``str.translate``'s table, filled as drawn)."""

    def __init__(self, glyphs: dict):
        super().__init__()
        self.glyphs = glyphs

    def __missing__(self, code):
        self[code] = f"{self.glyphs.get(code, 0):04X}"
        return self[code]


class _Font:
    def __init__(self, key: str, path: str):
        self.key, self.path = key, path
        self.font = load(path)
        self.cw = self.font.cw
        self.table = _Glyphs(self.font.glyphs)  # every character drawn (the ToUnicode map)

    def encode(self, text: str) -> str:
        return text.translate(self.table)

    def used(self) -> list:
        """(glyph id, character) of each glyph drawn, the first character drawn with it."""
        found = {}
        for code in sorted(self.table):
            found.setdefault(self.font.glyphs.get(code, 0), chr(code))
        return sorted(found.items())


class Canvas:
    """The subset of fpdf2's ``FPDF`` drawn by ``claims/pdf`` (same names, same units)."""

    def __init__(self, orientation="P", unit="mm", format="A4"):  # noqa: A002 (fpdf2's name)
        assert unit == "mm" and format in PAGE_SIZES
        width, height = PAGE_SIZES[format]
        self.w, self.h = (height, width) if orientation.upper().startswith("L") else (width, height)
        self.k = MM
        self.l_margin = self.t_margin = self.r_margin = 10.0
        self.c_margin = 28.35 / self.k / 10  # fpdf2's cell margin (1 mm)
        self.b_margin, self.auto_page_break = 20.0, True
        self.page_break_trigger = self.h - self.b_margin
        self.x, self.y, self.lasth = self.l_margin, self.t_margin, 0.0
        self.fonts, self.current_font = {}, None
        self.font_family, self.font_style, self.font_size_pt, self.font_size = "", "", 12.0, 12.0 / MM
        self.pages, self.page = [], 0
        self.draw_color, self.fill_color = "0 G", "0 g"
        self.lang = self.title = self.creator = None
        self.in_footer = False

    # Settings, as fpdf2 names them.
    def add_font(self, family, style="", fname=None):
        self.fonts[(family, style)] = _Font(f"F{len(self.fonts) + 1}", str(fname))

    def set_margins(self, left, top, right=None):
        self.l_margin, self.t_margin = left, top
        self.r_margin = left if right is None else right

    def set_auto_page_break(self, auto, margin=2.0):
        self.auto_page_break, self.b_margin = auto, margin
        self.page_break_trigger = self.h - margin

    def set_lang(self, lang):
        self.lang = lang

    def set_title(self, title):
        self.title = title

    def set_creator(self, creator):
        self.creator = creator

    def set_font(self, family, style="", size=None):
        self.font_family, self.font_style = family, style
        if size is not None:
            self.font_size_pt, self.font_size = size, size / self.k
        self.current_font = self.fonts[(family, style)]

    def set_draw_color(self, r, g=None, b=None):
        self.draw_color = self._color(r, g, b, "RG")
        if self.page:
            self._out(self.draw_color)

    def set_fill_color(self, r, g=None, b=None):
        self.fill_color = self._color(r, g, b, "rg")

    @staticmethod
    def _color(r, g, b, operator):
        if g is None:
            g = b = r
        return f"{_number(r / 255)} {_number(g / 255)} {_number(b / 255)} {operator}"

    # Position.
    def page_no(self):
        return self.page

    def get_y(self):
        return self.y

    def set_x(self, x):
        self.x = x if x >= 0 else self.w + x

    def set_y(self, y):
        self.x = self.l_margin
        self.y = y if y >= 0 else self.h + y

    def set_xy(self, x, y):
        self.set_y(y)
        self.set_x(x)

    def ln(self, h=None):
        self.x = self.l_margin
        self.y += self.lasth if h is None else h

    # Drawing.
    def footer(self):
        """Drawn on every page once the document is complete (``{nb}`` is then known)."""

    def add_page(self):
        self.pages.append([f"{_number(0.2 * self.k)} w 0 J", self.draw_color])
        self.page = len(self.pages)
        self.x, self.y = self.l_margin, self.t_margin

    def _out(self, operation: str):
        self.pages[self.page - 1].append(operation)

    def get_string_width(self, text: str) -> float:
        widths = self.current_font.cw
        return sum(map(widths.__getitem__, map(ord, text))) * self.font_size_pt * 0.001 / self.k

    def text(self, x, y, text=""):
        if self.in_footer:
            text = text.replace("{nb}", str(len(self.pages)))
        font = self.current_font
        self._out(f"BT /{font.key} {_number(self.font_size_pt)} Tf {x * self.k:.2f} {(self.h - y) * self.k:.2f} Td "
                  f"<{font.encode(text)}> Tj ET")

    def line(self, x1, y1, x2, y2):
        k, h = self.k, self.h
        self._out(f"{x1 * k:.2f} {(h - y1) * k:.2f} m {x2 * k:.2f} {(h - y2) * k:.2f} l S")

    def rect(self, x, y, w, h, style="D"):
        k = self.k
        shape = f"{x * k:.2f} {(self.h - y) * k:.2f} {w * k:.2f} {-h * k:.2f} re"
        if "F" in style.upper():  # the fill colour only for this shape: text stays black
            self._out(f"q {self.fill_color} {shape} {'B' if 'D' in style.upper() else 'f'} Q")
        else:
            self._out(f"{shape} S")

    def cell(self, w=0, h=0, text="", align="L", new_x="RIGHT", new_y="TOP"):
        if self.y + h > self.page_break_trigger and self.auto_page_break and not self.in_footer:
            x = self.x
            self.add_page()
            self.x = x
        if w == 0:
            w = self.w - self.r_margin - self.x
        if text:
            shown = text.replace("{nb}", str(len(self.pages))) if self.in_footer else text
            width = self.get_string_width(shown)
            left = self.x + w - self.c_margin - width if align == "R" else self.x + self.c_margin
            self.text(left, self.y + 0.5 * h + 0.3 * self.font_size, text)
        self.lasth = h
        if new_x == "LMARGIN":
            self.x = self.l_margin
        elif new_x == "RIGHT":
            self.x += w
        if new_y == "NEXT":
            self.y += h

    def multi_cell(self, w, h, text, align="L", new_x="LMARGIN", new_y="NEXT"):
        """The text wrapped at spaces to the width (``wrap``, given by the subclass), a line
        per ``h``; then the position as ``cell`` would leave it."""
        x = self.x
        width = w or self.w - self.r_margin - x
        for line in self.wrap(text, width):
            self.x = x
            self.cell(width, h, line, align=align, new_x="LMARGIN", new_y="NEXT")
        if new_x != "LMARGIN":
            self.x = x + width

    def wrap(self, text: str, width: float) -> list[str]:  # pragma: no cover (claims/pdf gives it)
        return [text]

    # The file.
    def output(self) -> bytes:
        self.in_footer = True
        for self.page in range(1, len(self.pages) + 1):
            self.footer()
        self.in_footer = False
        objects = []  # bytes of object n + 1

        def add(body: bytes) -> int:
            objects.append(body)
            return len(objects)

        def stream(data: bytes, extra: bytes = b"") -> int:
            packed = zlib.compress(data, 6)
            return add(b"<< /Filter /FlateDecode /Length %d%s >>\nstream\n" % (len(packed), extra)
                       + packed + b"\nendstream")

        pages_id = add(b"")  # filled in once the pages are known
        fonts = b" ".join(b"/%s %d 0 R" % (font.key.encode(), self._font_objects(font, add, stream))
                          for font in self.fonts.values())
        resources = add(b"<< /Font << " + fonts + b" >> /ProcSet [/PDF /Text] >>")
        kids = []
        for operations in self.pages:
            content = stream("\n".join(operations).encode("ascii"))
            kids.append(add(b"<< /Type /Page /Parent %d 0 R /Resources %d 0 R /Contents %d 0 R >>"
                            % (pages_id, resources, content)))
        objects[pages_id - 1] = (b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % kid for kid in kids)
                                 + b"] /Count %d /MediaBox [0 0 %s %s] >>"
                                 % (len(kids), _number(self.w * self.k).encode(), _number(self.h * self.k).encode()))
        info = b"<< /Producer " + _text_string("Suivi FSE+")
        for key, value in ((b"Title", self.title), (b"Creator", self.creator)):
            if value:
                info += b" /" + key + b" " + _text_string(value)
        info_id = add(info + b" >>")
        lang = b" /Lang " + _text_string(self.lang) if self.lang else b""
        catalog = add(b"<< /Type /Catalog /Pages %d 0 R%s >>" % (pages_id, lang))
        out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(objects, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
        out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
            len(objects) + 1, catalog, info_id, xref)
        return bytes(out)

    @staticmethod
    def _font_objects(font: _Font, add, stream) -> int:
        """The Type0 font of ``font`` with its descendant, descriptor, file and ToUnicode map."""
        face = font.font
        name = face.name.encode("ascii", "replace")
        data = _font_stream(font.path)
        file_id = add(b"<< /Filter /FlateDecode /Length %d /Length1 %d >>\nstream\n" % (len(data), len(face.data))
                      + data + b"\nendstream")
        descriptor = add(b"<< /Type /FontDescriptor /FontName /%s /Flags 32 /FontBBox [%s] /ItalicAngle %s "
                         b"/Ascent %d /Descent %d /CapHeight %d /StemV 80 /FontFile2 %d 0 R >>"
                         % (name, " ".join(map(str, face.bbox)).encode(), _number(face.italic_angle).encode(),
                            face.ascent, face.descent, face.cap_height, file_id))
        used = font.used()
        widths = b" ".join(b"%d [%d]" % (glyph, face.advances[glyph]) for glyph, _char in used)
        cid = add(b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s /CIDSystemInfo << /Registry (Adobe) "
                  b"/Ordering (Identity) /Supplement 0 >> /FontDescriptor %d 0 R /DW %d /W [%s] "
                  b"/CIDToGIDMap /Identity >>" % (name, descriptor, face.advances[0], widths))
        mapping = []
        for start in range(0, len(used), 100):  # at most 100 entries per block
            block = used[start:start + 100]
            mapping.append(f"{len(block)} beginbfchar")
            mapping += [f"<{glyph:04X}> <{char.encode('utf-16-be').hex().upper()}>" for glyph, char in block]
            mapping.append("endbfchar")
        cmap = "\n".join([
            "/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
            "/CMapName /Adobe-Identity-UCS def", "/CMapType 2 def",
            "1 begincodespacerange", "<0000> <FFFF>", "endcodespacerange", *mapping,
            "endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end",
        ]).encode("ascii")
        to_unicode = stream(cmap)
        return add(b"<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H /DescendantFonts [%d 0 R] "
                   b"/ToUnicode %d 0 R >>" % (name, cid, to_unicode))

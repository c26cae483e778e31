"""What a PDF needs to know of a TrueType font, read with ``struct`` (no font library: fontTools
alone weighs about 15 MB once imported, fpdf2 with it 44 MB; issue 27): each character's
glyph, each glyph's advance width (in thousandths of an em) and the descriptor's metrics.

The fonts shipped (``claims/fonts``) are already cut down to the alphabets printed; they are
embedded whole (``kernel/pdf_canvas``), so nothing is subset here.
"""
import struct
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path


class Widths(dict):
    """Character (code point) -> advance width in 1/1000 em; a character the font lacks
    takes the width of the missing glyph (glyph 0), as drawn."""

    def __init__(self, values, missing):
        super().__init__(values)
        self.missing = missing

    def __missing__(self, key):
        return self.missing


@dataclass
class TrueTypeFont:
    name: str
    data: bytes
    glyphs: dict  # code point -> glyph id
    advances: list  # glyph id -> advance width in 1/1000 em
    bbox: tuple
    ascent: int
    descent: int
    cap_height: int
    italic_angle: float
    cw: Widths = field(init=False)

    def __post_init__(self):
        self.cw = Widths({code: self.advances[glyph] for code, glyph in self.glyphs.items()}, self.advances[0])


def _tables(data: bytes) -> dict:
    count = struct.unpack_from(">H", data, 4)[0]
    tables = {}
    for index in range(count):
        tag, _checksum, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * index)
        tables[tag.decode("latin-1")] = (offset, length)
    return tables


def _cmap_format_4(data: bytes, start: int) -> dict:
    segments = struct.unpack_from(">H", data, start + 6)[0] // 2
    ends = struct.unpack_from(f">{segments}H", data, start + 14)
    starts = struct.unpack_from(f">{segments}H", data, start + 16 + 2 * segments)
    deltas = struct.unpack_from(f">{segments}h", data, start + 16 + 4 * segments)
    range_at = start + 16 + 6 * segments
    ranges = struct.unpack_from(f">{segments}H", data, range_at)
    glyphs = {}
    for index, (first, last, delta, offset) in enumerate(zip(starts, ends, deltas, ranges)):
        for code in range(first, last + 1):
            if code == 0xFFFF:
                continue
            if offset == 0:
                glyph = (code + delta) & 0xFFFF
            else:
                at = range_at + 2 * index + offset + 2 * (code - first)
                glyph = struct.unpack_from(">H", data, at)[0]
                glyph = (glyph + delta) & 0xFFFF if glyph else 0
            if glyph:
                glyphs[code] = glyph
    return glyphs


def _cmap_format_12(data: bytes, start: int) -> dict:
    groups = struct.unpack_from(">I", data, start + 12)[0]
    glyphs = {}
    for index in range(groups):
        first, last, glyph = struct.unpack_from(">III", data, start + 16 + 12 * index)
        for offset in range(last - first + 1):
            glyphs[first + offset] = glyph + offset
    return glyphs


def _cmap(data: bytes, offset: int) -> dict:
    """The Unicode subtable: (3, 10) format 12 if present, else (3, 1) or (0, *) format 4."""
    count = struct.unpack_from(">H", data, offset + 2)[0]
    found = {}
    for index in range(count):
        platform, encoding, at = struct.unpack_from(">HHI", data, offset + 4 + 8 * index)
        kind = struct.unpack_from(">H", data, offset + at)[0]
        found.setdefault((platform, encoding, kind), offset + at)
    for key, reader in (((3, 10, 12), _cmap_format_12), ((3, 1, 4), _cmap_format_4)):
        if key in found:
            return reader(data, found[key])
    for (platform, _encoding, kind), at in found.items():
        if platform == 0 and kind == 4:
            return _cmap_format_4(data, at)
    raise ValueError("no Unicode cmap in the font")


@cache
def load(path: str) -> TrueTypeFont:
    """The font of ``path`` (read once per process)."""
    data = Path(path).read_bytes()
    tables = _tables(data)
    head = tables["head"][0]
    units = struct.unpack_from(">H", data, head + 18)[0]
    bbox = struct.unpack_from(">4h", data, head + 36)
    hhea = tables["hhea"][0]
    ascender, descender = struct.unpack_from(">hh", data, hhea + 4)
    metrics = struct.unpack_from(">H", data, hhea + 34)[0]
    glyph_count = struct.unpack_from(">H", data, tables["maxp"][0] + 4)[0]
    hmtx = tables["hmtx"][0]
    advances = [struct.unpack_from(">H", data, hmtx + 4 * index)[0] for index in range(metrics)]
    advances += [advances[-1]] * (glyph_count - metrics)

    def scaled(value):
        return round(value * 1000 / units)

    os2 = tables.get("OS/2")
    cap = ascender
    if os2 and struct.unpack_from(">H", data, os2[0])[0] >= 2:
        cap = struct.unpack_from(">h", data, os2[0] + 88)[0]
    italic = struct.unpack_from(">i", data, tables["post"][0] + 4)[0] / 65536 if "post" in tables else 0.0
    name = Path(path).stem.replace(" ", "")
    return TrueTypeFont(name=name, data=data, glyphs=_cmap(data, tables["cmap"][0]),
                        advances=[scaled(value) for value in advances], bbox=tuple(scaled(v) for v in bbox),
                        ascent=scaled(ascender), descent=scaled(descender), cap_height=scaled(cap),
                        italic_angle=italic)

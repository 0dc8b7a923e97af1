"""Visible signature appearances: a signature block for people, a round red stamp for the seal.

Vietnamese text needs an embedded font with its glyphs (pyHanko issue #459:
the standard 14 fonts have no "ệ", "ớ", "Đ", so text is lost or garbled). We
embed Be Vietnam Pro as a Type 0 / CIDFontType2 font with Identity-H encoding
and a ToUnicode map (so text extraction and search work). Vietnamese letters
are precomposed in NFC and the font has a glyph for each, so no shaping is
needed.

Speed: the font subset (every character the batch can print: the signer's
names, the labels, digits), its widths and the static parts of the content
stream are made once per batch; per file only the signing time is encoded and
six small objects are written.
"""
from __future__ import annotations

import io
import math
import unicodedata
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.stamp import BaseStamp, BaseStampStyle

VN_TZ = timezone(timedelta(hours=7), "ICT")
TIME_CHARS = "0123456789/:+-() ICT"


# pyHanko's generic object constructors are unannotated (``__new__(cls, value)``,
# ``__init__(self, dict_data=None)``); these typed wrappers are the one place
# where that stub gap is acknowledged.
def _pdf_int(value: int) -> generic.NumberObject:
    return generic.NumberObject(value)  # type: ignore[no-untyped-call]  # pyHanko: unannotated


def _pdf_float(value: float) -> generic.FloatObject:
    return generic.FloatObject(value)  # type: ignore[no-untyped-call]  # pyHanko: unannotated


def _pdf_dict(data: dict[generic.NameObject, generic.PdfObject]) -> generic.DictionaryObject:
    return generic.DictionaryObject(data)  # type: ignore[no-untyped-call]  # pyHanko: unannotated


def font_file(style: str = "Regular") -> Path:
    import fontpkg_be_vietnam_pro

    return Path(fontpkg_be_vietnam_pro.__file__).parent / "files" / f"BeVietnamPro-{style}.ttf"


class EmbeddedFont:
    """A TrueType subset with original glyph ids, ready to add to any PDF writer."""

    def __init__(self, path: Path, chars: str, base_name: str) -> None:
        from fontTools import subset
        from fontTools.ttLib import TTFont

        font = TTFont(str(path), lazy=False)
        self.cmap: dict[int, str] = font.getBestCmap()
        self.upem = int(font["head"].unitsPerEm)
        hmtx = font["hmtx"]
        self.ascent = int(font["hhea"].ascent)
        self.descent = int(font["hhea"].descent)
        self.cap_height = int(getattr(font.get("OS/2"), "sCapHeight", self.ascent) or self.ascent)
        chars = "".join(sorted(set(chars + " ")))
        self.gids: dict[str, int] = {}
        self.widths: dict[int, int] = {}
        # Vertical ink extent of each glyph (yMin, yMax) in 1/1000 em, diacritics included:
        # what layouts need to keep text clear of rules and rings.
        self.extents: dict[int, tuple[int, int]] = {}
        from fontTools.pens.boundsPen import BoundsPen

        glyphs = font.getGlyphSet()
        for ch in chars:
            for part in self._glyph_chars(ch):
                name = self.cmap.get(ord(part))
                if name is None:
                    continue
                gid = font.getGlyphID(name)
                self.gids[part] = gid
                self.widths[gid] = round(hmtx[name][0] * 1000 / self.upem)
                pen = BoundsPen(glyphs)
                glyphs[name].draw(pen)
                if pen.bounds is not None:
                    self.extents[gid] = (round(pen.bounds[1] * 1000 / self.upem),
                                         round(pen.bounds[3] * 1000 / self.upem))
        opts = subset.Options()
        opts.retain_gids = True
        opts.notdef_outline = True
        opts.layout_features = []
        opts.name_IDs = [1, 2, 4, 6]
        sub = subset.Subsetter(opts)
        sub.populate(unicodes=[ord(c) for c in self.gids])
        sub.subset(font)
        buf = io.BytesIO()
        font.save(buf)
        raw = buf.getvalue()
        self.font_data = zlib.compress(raw, 6)
        self.font_length = len(raw)
        self.base_name = base_name
        self.bbox = [int(v * 1000 / self.upem) for v in (
            font["head"].xMin, font["head"].yMin, font["head"].xMax, font["head"].yMax)]
        self.tounicode = self._tounicode()

    def _glyph_chars(self, ch: str) -> str:
        if ord(ch) in self.cmap:
            return ch
        return "".join(c for c in unicodedata.normalize("NFD", ch) if ord(c) in self.cmap)

    def encode(self, text: str) -> bytes:
        out = bytearray()
        for ch in unicodedata.normalize("NFC", text):
            for part in self._glyph_chars(ch):
                gid = self.gids.get(part)
                if gid is not None:
                    out += gid.to_bytes(2, "big")
        return b"<" + out.hex().encode() + b">"

    def width(self, text: str, size: float) -> float:
        total = 0
        for ch in unicodedata.normalize("NFC", text):
            for part in self._glyph_chars(ch):
                gid = self.gids.get(part)
                if gid is not None:
                    total += self.widths[gid]
        return total * size / 1000

    def extent(self, text: str, size: float) -> tuple[float, float]:
        """(lowest, highest) ink of ``text`` relative to its baseline, in points."""
        lo, hi = 0, 0
        for ch in unicodedata.normalize("NFC", text):
            for part in self._glyph_chars(ch):
                gid = self.gids.get(part)
                if gid is not None and gid in self.extents:
                    lo = min(lo, self.extents[gid][0])
                    hi = max(hi, self.extents[gid][1])
        return lo * size / 1000, hi * size / 1000

    def _tounicode(self) -> bytes:
        lines = [b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
                 b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
                 b"/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
                 b"1 begincodespacerange <0000> <FFFF> endcodespacerange"]
        items = sorted((gid, ch) for ch, gid in self.gids.items())
        for i in range(0, len(items), 100):
            chunk = items[i:i + 100]
            lines.append(b"%d beginbfchar" % len(chunk))
            for gid, ch in chunk:
                lines.append(b"<%04X> <%s>" % (gid, ch.encode("utf-16-be").hex().upper().encode()))
            lines.append(b"endbfchar")
        lines.append(b"endcmap CMapName currentdict /CMap defineresource pop end end")
        return b"\n".join(lines)

    def add_to(self, writer: BasePdfFileWriter) -> generic.IndirectObject:
        """Write the font objects into ``writer``; return the Type 0 font reference."""
        ff = generic.StreamObject(
            _pdf_dict({pdf_name("/Length1"): _pdf_int(self.font_length),
                                      pdf_name("/Filter"): pdf_name("/FlateDecode")}),
            encoded_data=self.font_data)
        ff_ref = writer.add_object(ff)
        name = pdf_name("/" + self.base_name)
        desc = _pdf_dict({
            pdf_name("/Type"): pdf_name("/FontDescriptor"),
            pdf_name("/FontName"): name,
            pdf_name("/Flags"): _pdf_int(32),
            pdf_name("/FontBBox"): generic.ArrayObject(_pdf_int(v) for v in self.bbox),
            pdf_name("/ItalicAngle"): _pdf_int(0),
            pdf_name("/Ascent"): _pdf_int(round(self.ascent * 1000 / self.upem)),
            pdf_name("/Descent"): _pdf_int(round(self.descent * 1000 / self.upem)),
            pdf_name("/CapHeight"): _pdf_int(round(self.cap_height * 1000 / self.upem)),
            pdf_name("/StemV"): _pdf_int(80),
            pdf_name("/FontFile2"): ff_ref,
        })
        w = generic.ArrayObject()
        for gid in sorted(self.widths):
            w.append(_pdf_int(gid))
            w.append(generic.ArrayObject([_pdf_int(self.widths[gid])]))
        cid = _pdf_dict({
            pdf_name("/Type"): pdf_name("/Font"),
            pdf_name("/Subtype"): pdf_name("/CIDFontType2"),
            pdf_name("/BaseFont"): name,
            pdf_name("/CIDSystemInfo"): _pdf_dict({
                pdf_name("/Registry"): generic.pdf_string("Adobe"),
                pdf_name("/Ordering"): generic.pdf_string("Identity"),
                pdf_name("/Supplement"): _pdf_int(0)}),
            pdf_name("/FontDescriptor"): writer.add_object(desc),
            pdf_name("/CIDToGIDMap"): pdf_name("/Identity"),
            pdf_name("/DW"): _pdf_int(1000),
            pdf_name("/W"): w,
        })
        tu = writer.add_object(generic.StreamObject(stream_data=self.tounicode))
        t0 = _pdf_dict({
            pdf_name("/Type"): pdf_name("/Font"),
            pdf_name("/Subtype"): pdf_name("/Type0"),
            pdf_name("/BaseFont"): name,
            pdf_name("/Encoding"): pdf_name("/Identity-H"),
            pdf_name("/DescendantFonts"): generic.ArrayObject([writer.add_object(cid)]),
            pdf_name("/ToUnicode"): tu,
        })
        return writer.add_object(t0)


@lru_cache(maxsize=8)
def embedded_font(chars: str, style: str = "Regular") -> EmbeddedFont:
    # Subset tag (ISO 32000-1 9.6.4): six letters derived from the content.
    tag = "".join(chr(65 + (b % 26)) for b in zlib.crc32(chars.encode()).to_bytes(4, "big"))
    tag = (tag + "HOCBA")[:6]
    from signer.fontcache import cached  # made once per machine, not once per process

    return cached(EmbeddedFont, font_file(style), chars, f"{tag}+BeVietnamPro-{style}")


@dataclass(frozen=True)
class SignerText:
    """What the appearance shows about the signer (NFC strings)."""

    name: str
    title: str
    organization: str
    role_label: str
    seal: bool = False

    def all_chars(self) -> str:
        return (self.name + self.title + self.organization + self.role_label
                + self.name.upper() + self.organization.upper() + self.role_label.upper()
                + LABELS + TIME_CHARS)


LABELS = "Ký bởi:Chức vụ:Đơn vị:Ngày ký:Vai trò:ĐÃ KÝ SỐ"


def format_time(t: datetime) -> str:
    return t.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M:%S (+07:00)")


def _fit(font: EmbeddedFont, text: str, size: float, max_w: float) -> float:
    w = font.width(text, size)
    return size if w <= max_w or w == 0 else max(size * max_w / w, 4.0)


def _num(v: float) -> bytes:
    return (b"%.2f" % v).rstrip(b"0").rstrip(b".") or b"0"


class BlockLayout:
    """Precomputed content for a person's signature block of a given size."""

    def __init__(self, text: SignerText, font: EmbeddedFont, width: float, height: float) -> None:
        self.font, self.w, self.h = font, width, height
        pad = 5.0
        maxw = width - 2 * pad
        lines = [("Ký bởi: ", text.name), ("Chức vụ: ", text.title or text.role_label),
                 ("Đơn vị: ", text.organization), ("Ngày ký: ", None)]
        n = len(lines) + 1.6
        size = min(10.0, (height - 2 * pad) / (n * 1.3))
        self.size = size
        self.lead = size * 1.3
        ops = [b"q 0.94 0.97 1 rg 0 0 %s %s re f" % (_num(width), _num(height)),
               b"0.1 0.3 0.7 RG 0.8 w 0.4 0.4 %s %s re S" % (_num(width - 0.8), _num(height - 0.8)),
               b"BT 0.05 0.15 0.45 rg"]
        head = text.role_label.upper()
        hs = _fit(font, head, size * 1.15, maxw)
        ops.append(b"/F1 %s Tf 1 0 0 1 %s %s Tm %s Tj" % (
            _num(hs), _num((width - font.width(head, hs)) / 2), _num(height - pad - hs),
            font.encode(head)))
        top = height - pad - hs - self.lead * 0.6
        y = top - size
        self.time_pos: tuple[float, float, float] | None = None
        for label, value in lines:
            if value is None:
                # "Ngày ký" line: the time is filled per file
                s = _fit(font, label + "00/00/0000 00:00:00 (+07:00)", size, maxw)
                ops.append(b"/F1 %s Tf 1 0 0 1 %s %s Tm %s Tj" % (
                    _num(s), _num(pad), _num(y), font.encode(label)))
                self.time_pos = (pad + font.width(label, s), y, s)
            else:
                s = _fit(font, label + value, size, maxw)
                ops.append(b"/F1 %s Tf 1 0 0 1 %s %s Tm %s Tj" % (
                    _num(s), _num(pad), _num(y), font.encode(label + value)))
            y -= self.lead
        self.static = b"\n".join(ops)

    def content(self, when: datetime) -> bytes:
        assert self.time_pos is not None
        x, y, s = self.time_pos
        return self.static + b"\n/F1 %s Tf 1 0 0 1 %s %s Tm %s Tj ET Q" % (
            _num(s), _num(x), _num(y), self.font.encode(format_time(when)))


def _circle(cx: float, cy: float, r: float) -> bytes:
    k = 0.5523 * r
    return (b"%s %s m %s %s %s %s %s %s c %s %s %s %s %s %s c "
            b"%s %s %s %s %s %s c %s %s %s %s %s %s c h" % tuple(_num(v) for v in (
                cx + r, cy,
                cx + r, cy + k, cx + k, cy + r, cx, cy + r,
                cx - k, cy + r, cx - r, cy + k, cx - r, cy,
                cx - r, cy - k, cx - k, cy - r, cx, cy - r,
                cx + k, cy - r, cx + r, cy - k, cx + r, cy)))


def _star(cx: float, cy: float, r: float) -> bytes:
    pts = []
    for i in range(10):
        rr = r if i % 2 == 0 else r * 0.4
        a = math.pi / 2 + i * math.pi / 5
        pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    out = b"%s %s m " % (_num(pts[0][0]), _num(pts[0][1]))
    out += b" ".join(b"%s %s l" % (_num(x), _num(y)) for x, y in pts[1:])
    return out + b" h f"


def _wraps(text: str, max_lines: int = 3) -> list[list[str]]:
    """Ways to break ``text`` at spaces into 1..max_lines lines: every 2-line break, and
    for 3 lines the breaks nearest to even thirds (a name is a handful of words)."""
    words = text.split()
    out = [[text]]

    def joined(a: int, b: int) -> str:
        return " ".join(words[a:b])
    out += [[joined(0, i), joined(i, len(words))] for i in range(1, len(words))]
    if max_lines >= 3 and len(words) >= 3:
        pos = [0]
        for w in words:
            pos.append(pos[-1] + len(w) + 1)
        total = pos[-1]

        def near(frac: float) -> list[int]:
            best = min(range(1, len(words)), key=lambda i: abs(pos[i] - total * frac))
            return [i for i in (best - 1, best, best + 1) if 0 < i < len(words)]
        for i in near(1 / 3):
            for j in near(2 / 3):
                if i < j:
                    out.append([joined(0, i), joined(i, j), joined(j, len(words))])
    return out


@dataclass(frozen=True)
class SealGeometry:
    """Where everything of the seal stamp lies (points, the stamp's own box): the rings
    as centre-line radius and stroke width, the radial extent of each arc text's ink,
    and the box of each line inside the inner ring (the date lines sized for the widest
    date). Tests check it; nothing else reads it."""

    cx: float
    cy: float
    outer: tuple[float, float]
    inner: tuple[float, float]
    margin: float
    arcs: tuple[tuple[str, float, float], ...]
    lines: tuple[tuple[str, float, float, float, float], ...]


class SealLayout:
    """A round red stamp: double ring, the organisation's name around the top, the role
    around the bottom, and inside the inner ring a star, "ĐÃ KÝ SỐ", who signed and when.

    Every text keeps a margin from the rings (issue 16 item 12): the arc texts' ink,
    diacritics included, stays inside the band between the rings, and each inner line's
    box inside the inner ring; a signer's name too long for one line wraps to two."""

    def __init__(self, text: SignerText, font: EmbeddedFont, width: float, height: float) -> None:
        self.font, self.w, self.h = font, width, height
        self._metrics: dict[str, tuple[float, float, float]] = {}
        d = min(width, height) - 4
        cx, cy, r = width / 2, height / 2, d / 2
        self.cx, self.cy, self.r = cx, cy, r
        outer_w = max(r * 0.035, 1.2)
        outer_r = r - outer_w / 2
        inner_w = 0.7
        inner_r = r * 0.66
        margin = max(r * 0.045, 1.0)
        self.margin = margin
        band_lo = inner_r + inner_w / 2 + margin   # the arc texts' ink lies in [lo, hi]
        band_hi = outer_r - outer_w / 2 - margin
        ops = [b"q 0.8 0.07 0.07 RG 0.8 0.07 0.07 rg",
               b"%s w %s S" % (_num(outer_w), _circle(cx, cy, outer_r)),
               b"%s w %s S" % (_num(inner_w), _circle(cx, cy, inner_r)),
               b"BT"]
        arcs = []
        # Organisation name along the upper arc, glyph tops toward the rim.
        ring = text.organization.upper()
        size, base_r = self._arc_size(ring, band_lo, band_hi, outward=True,
                                      max_angle=math.pi * 1.3)
        lo, hi = font.extent(ring, size)
        arcs.append(("top", base_r + lo, base_r + hi))
        self._arc(ops, ring, size, base_r, top=True)
        # The role label ("CON DẤU ĐƠN VỊ") along the lower arc, read left to right,
        # glyph tops toward the centre.
        bottom = text.role_label.upper()
        bsize, bbase = self._arc_size(bottom, band_lo, band_hi, outward=False,
                                      max_angle=math.pi * 0.55, cap=size * 0.8)
        lo, hi = font.extent(bottom, bsize)
        arcs.append(("bottom", bbase - hi, bbase - lo))
        self._arc(ops, bottom, bsize, bbase, top=False)
        # Inside the inner ring.
        self.inner_r = inner_r - inner_w / 2 - margin  # every line's box stays within
        star_r = r * 0.10
        star_cy = cy + self.inner_r - star_r * 1.15
        lines = self._inner_lines(text.name, star_cy - star_r * 1.1)
        self.date_lines: list[tuple[float, float, float]] = []  # (centre x, baseline, size)
        boxes = []
        for kind, t, sz, y in lines:
            lo, hi = font.extent(t, sz)
            w = font.width(t, sz)
            boxes.append((t, cx - w / 2, y + lo, cx + w / 2, y + hi))
            if kind == "date":
                self.date_lines.append((cx, y, sz))
            else:
                ops.append(b"/F1 %s Tf 1 0 0 1 %s %s Tm %s Tj" % (
                    _num(sz), _num(cx - w / 2), _num(y), font.encode(t)))
        ops.append(b"ET")
        ops.append(_star(cx, star_cy, star_r))
        ops.append(b"BT")
        self.geometry = SealGeometry(cx, cy, (outer_r, outer_w), (inner_r, inner_w), margin,
                                     tuple(arcs), tuple(boxes))
        self.static = b"\n".join(ops)

    # -- arcs ---------------------------------------------------------------------------

    def _arc_size(self, t: str, band_lo: float, band_hi: float, outward: bool,
                  max_angle: float, cap: float | None = None) -> tuple[float, float]:
        """The font size and baseline radius that put the ink of ``t`` inside the band
        (at most ``max_angle`` of arc)."""
        lo1, hi1 = self.font.extent(t, 1.0)
        height = (hi1 - lo1) or 1.0
        size = (band_hi - band_lo) / height
        if cap is not None:
            size = min(size, cap)
        # centre the ink in the band
        mid = (band_lo + band_hi) / 2
        if outward:   # tops outward: ink from base + lo to base + hi
            base = mid - (lo1 + hi1) * size / 2
        else:         # tops inward: ink from base - hi to base - lo
            base = mid + (lo1 + hi1) * size / 2
        width = self.font.width(t, size)
        if width > max_angle * base:
            size *= max_angle * base / width
            base = mid - (lo1 + hi1) * size / 2 if outward else mid + (lo1 + hi1) * size / 2
        return size, base

    def _arc(self, ops: list[bytes], t: str, size: float, base: float, top: bool) -> None:
        """``t`` along a circle of radius ``base`` (its baseline), centred at the top or
        the bottom of the stamp, one glyph at a time (rotated text matrix)."""
        cx, cy, font = self.cx, self.cy, self.font
        total = font.width(t, size) / base  # angle the text spans
        angle = math.pi / 2 + total / 2 if top else -math.pi / 2 - total / 2
        for ch in t:
            cw = font.width(ch, size)
            step = cw / base
            a = angle - step / 2 if top else angle + step / 2  # the glyph's centre
            rot = a - math.pi / 2 if top else a + math.pi / 2
            c, s = math.cos(rot), math.sin(rot)
            x, y = cx + base * math.cos(a), cy + base * math.sin(a)
            ox, oy = x - c * cw / 2, y - s * cw / 2  # the glyph's origin: its left edge
            ops.append(b"/F1 %s Tf %s %s %s %s %s %s Tm %s Tj" % (
                _num(size), _num(c), _num(s), _num(-s), _num(c), _num(ox), _num(oy),
                font.encode(ch)))
            angle = angle - step if top else angle + step

    # -- inside the inner ring ------------------------------------------------------------

    def _m(self, t: str) -> tuple[float, float, float]:
        """(width, lowest ink, highest ink) of ``t`` at size 1: the search below asks
        for the same few strings thousands of times."""
        m = self._metrics.get(t)
        if m is None:
            lo, hi = self.font.extent(t, 1.0)
            m = self._metrics[t] = (self.font.width(t, 1.0), lo, hi)
        return m

    def _chord(self, y_lo: float, y_hi: float) -> float:
        """The width available between y_lo and y_hi inside the inner ring."""
        dy = max(abs(y_lo - self.cy), abs(y_hi - self.cy))
        if dy >= self.inner_r:
            return 0.0
        return 2 * math.sqrt(self.inner_r ** 2 - dy ** 2)

    def _inner_lines(self, name: str, top: float) -> list[tuple[str, str, float, float]]:
        """(kind, text, size, baseline) of the lines under the star, the largest layout
        that fits: "ĐÃ KÝ SỐ", who signed (one line, or wrapped), the date and the time."""
        digit = max("0123456789", key=lambda c: self.font.width(c, 1.0))
        date = f"Ngày ký: {digit * 2}/{digit * 2}/{digit * 4}"
        time = f"{digit * 2}:{digit * 2}:{digit * 2} (+07:00)"
        signer_options = _wraps("Ký bởi: " + name) + [["Ký bởi:"] + w for w in _wraps(name)]
        bottom = self.cy - self.inner_r
        shifts = [top - i * self.r * 0.02 for i in range(16)]
        best: list[tuple[str, str, float, float]] = []
        best_size = 0.0
        for signer in signer_options:
            spec = ([("head", "ĐÃ KÝ SỐ", 1.5)] + [("name", t, 1.0) for t in signer]
                    + [("date", date, 1.0), ("date", time, 1.0)])
            size = max(self._largest(spec, y) for y in shifts)
            if size > best_size + 1e-6:
                best_size = size
                # the block at that size as centred as it fits between the star and the ring
                placed = [self._place(spec, y, size * 0.999) for y in shifts]
                fitting = [pl for pl in placed if self._fits(pl)]

                def balance(pl: list[tuple[str, str, float, float]]) -> float:
                    first, last = pl[0], pl[-1]
                    hi = first[3] + self._m(first[1])[2] * first[2]
                    lo = last[3] + self._m(last[1])[1] * last[2]
                    return abs((top - hi) - (lo - bottom))

                best = min(fitting, key=balance)
        return best

    def _place(self, spec: list[tuple[str, str, float]], top: float,
               size: float) -> list[tuple[str, str, float, float]]:
        out = []
        y = top
        for kind, t, k in spec:
            sz = size * k
            _, lo, hi = self._m(t)
            y -= hi * sz
            out.append((kind, t, sz, y))
            y += (lo - 0.25) * sz  # line gap
        return out

    def _fits(self, placed: list[tuple[str, str, float, float]]) -> bool:
        for _, t, sz, y in placed:
            w, lo, hi = self._m(t)
            if w * sz > self._chord(y + lo * sz, y + hi * sz):
                return False
        return True

    def _largest(self, spec: list[tuple[str, str, float]], top: float) -> float:
        """The largest base size (bisection) at which every line fits inside the ring."""
        lo, hi = 0.5, self.r * 0.2
        if not self._fits(self._place(spec, top, lo)):
            return 0.0
        for _ in range(16):  # to within r * 0.2 / 2**16
            mid = (lo + hi) / 2
            if self._fits(self._place(spec, top, mid)):
                lo = mid
            else:
                hi = mid
        return lo

    def content(self, when: datetime) -> bytes:
        local = when.astimezone(VN_TZ)
        texts = ("Ngày ký: " + local.strftime("%d/%m/%Y"), local.strftime("%H:%M:%S (+07:00)"))
        ops: list[bytes] = []
        for t, (x, y, sz) in zip(texts, self.date_lines):
            ops.append(b"/F1 %s Tf 1 0 0 1 %s %s Tm %s Tj" % (
                _num(sz), _num(x - self.font.width(t, sz) / 2), _num(y), self.font.encode(t)))
        return self.static + b"\n" + b"\n".join(ops) + b" ET Q"


@dataclass
class AppearanceFactory:
    """Per batch: the font and one layout per box size, reused for every file."""

    text: SignerText
    _layouts: dict[tuple[float, float], Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.font = embedded_font("".join(sorted(set(self.text.all_chars()))))

    def layout_for(self, width: float, height: float) -> Any:
        key = (round(width, 2), round(height, 2))
        lay = self._layouts.get(key)
        if lay is None:
            lay = self._layouts[key] = _layout(self.text, key[0], key[1])
        return lay

    def style(self, when: datetime) -> "PrebuiltStampStyle":
        return PrebuiltStampStyle(factory=self, when=when)


@lru_cache(maxsize=32)
def _layout(text: SignerText, width: float, height: float) -> "BlockLayout | SealLayout":
    """Layouts are immutable once made (the signing time is added per file), so batches of
    the same signer share them: the seal's layout search takes a tenth of a second."""
    font = embedded_font("".join(sorted(set(text.all_chars()))))
    if text.seal:
        return SealLayout(text, font, width, height)
    return BlockLayout(text, font, width, height)


@dataclass(frozen=True)
class PrebuiltStampStyle(BaseStampStyle):
    """A pyHanko stamp style whose content comes from :class:`AppearanceFactory`."""

    factory: Any = None
    when: datetime | None = None
    border_width: int = 0

    def create_stamp(self, writer: Any, box: layout.BoxConstraints,
                     text_params: dict[str, Any]) -> "PrebuiltStamp":
        return PrebuiltStamp(writer, self, box)


class PrebuiltStamp(BaseStamp):
    def register(self) -> generic.IndirectObject:
        style: PrebuiltStampStyle = self.style
        box = self.box
        writer = self.writer
        if writer is None:  # pyHanko always sets it via create_stamp(writer, ...)
            raise ValueError("PDF writer is not set")
        lay = style.factory.layout_for(float(box.width), float(box.height))
        when = style.when or datetime.now(timezone.utc)
        font_ref = style.factory.font.add_to(writer)
        xobj = generic.StreamObject(
            _pdf_dict({
                pdf_name("/Type"): pdf_name("/XObject"),
                pdf_name("/Subtype"): pdf_name("/Form"),
                pdf_name("/BBox"): generic.ArrayObject([
                    _pdf_int(0), _pdf_int(0),
                    _pdf_float(box.width), _pdf_float(box.height)]),
                pdf_name("/Resources"): _pdf_dict({
                    pdf_name("/Font"): _pdf_dict({pdf_name("/F1"): font_ref}),
                }),
            }),
            stream_data=lay.content(when))
        return writer.add_object(xobj)

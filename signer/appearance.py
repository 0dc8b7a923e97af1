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
        for ch in chars:
            for part in self._glyph_chars(ch):
                name = self.cmap.get(ord(part))
                if name is None:
                    continue
                gid = font.getGlyphID(name)
                self.gids[part] = gid
                self.widths[gid] = round(hmtx[name][0] * 1000 / self.upem)
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
    return EmbeddedFont(font_file(style), chars, f"{tag}+BeVietnamPro-{style}")


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


class SealLayout:
    """A round red stamp: double ring, the organisation's name around the top."""

    def __init__(self, text: SignerText, font: EmbeddedFont, width: float, height: float) -> None:
        self.font, self.w, self.h = font, width, height
        d = min(width, height) - 4
        cx, cy, r = width / 2, height / 2, d / 2
        self.cx, self.cy, self.r = cx, cy, r
        ops = [b"q 0.8 0.07 0.07 RG 0.8 0.07 0.07 rg",
               b"%s w %s S" % (_num(max(r * 0.035, 1.2)), _circle(cx, cy, r - 1)),
               b"0.7 w %s S" % _circle(cx, cy, r * 0.68),
               _star(cx, cy + r * 0.40, r * 0.11)]
        # Organisation name along the upper arc, one glyph at a time (rotated Tm).
        ring = text.organization.upper()
        size = r * 0.15
        rr = r * 0.80
        total = font.width(ring, size)
        max_arc = math.pi * 1.35 * rr
        if total > max_arc:
            size *= max_arc / total
            total = max_arc
        angle = math.pi / 2 + (total / rr) / 2
        ops.append(b"BT")
        for ch in ring:
            cw = font.width(ch, size)
            a = angle - (cw / 2) / rr
            x = cx + rr * math.cos(a)
            y = cy + rr * math.sin(a)
            rot = a - math.pi / 2
            c, s = math.cos(rot), math.sin(rot)
            # glyph origin at its left edge: shift back by half its width along the baseline
            ox, oy = x - c * cw / 2, y - s * cw / 2
            ops.append(b"/F1 %s Tf %s %s %s %s %s %s Tm %s Tj" % (
                _num(size), _num(c), _num(s), _num(-s), _num(c), _num(ox), _num(oy),
                font.encode(ch)))
            angle -= cw / rr
        # Lower arc: the role label ("Con dấu đơn vị"), read left to right.
        bottom = text.role_label.upper()
        bsize = r * 0.11
        btotal = font.width(bottom, bsize)
        angle = -math.pi / 2 - (btotal / (rr - bsize * 0.3)) / 2
        brr = rr - bsize * 0.3
        for ch in bottom:
            cw = font.width(ch, bsize)
            a = angle + (cw / 2) / brr
            rot = a + math.pi / 2
            c, s = math.cos(rot), math.sin(rot)
            x = cx + brr * math.cos(a) - c * cw / 2 - (-s) * (bsize * 0.7)
            y = cy + brr * math.sin(a) - s * cw / 2 - c * (bsize * 0.7)
            ops.append(b"/F1 %s Tf %s %s %s %s %s %s Tm %s Tj" % (
                _num(bsize), _num(c), _num(s), _num(-s), _num(c), _num(x), _num(y),
                font.encode(ch)))
            angle += cw / brr
        inner = r * 0.62 * 2
        self._center_text(ops, "ĐÃ KÝ SỐ", cy + r * 0.10, r * 0.16, inner)
        self._center_text(ops, "Ký bởi: " + text.name, cy - r * 0.10, r * 0.10, inner * 0.78)
        self.date_y = cy - r * 0.27
        self.date_size = r * 0.10
        self.inner = inner
        self.static = b"\n".join(ops)

    def _center_text(self, ops: list[bytes], t: str, y: float, size: float, maxw: float) -> None:
        s = _fit(self.font, t, size, maxw)
        x = self.cx - self.font.width(t, s) / 2
        ops.append(b"/F1 %s Tf 1 0 0 1 %s %s Tm %s Tj" % (_num(s), _num(x), _num(y),
                                                         self.font.encode(t)))

    def content(self, when: datetime) -> bytes:
        ops: list[bytes] = []
        local = when.astimezone(VN_TZ)
        self._center_text(ops, "Ngày ký: " + local.strftime("%d/%m/%Y"), self.date_y,
                          self.date_size, self.inner * 0.85)
        self._center_text(ops, local.strftime("%H:%M:%S (+07:00)"),
                          self.date_y - self.date_size * 1.3, self.date_size, self.inner * 0.7)
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
            cls = SealLayout if self.text.seal else BlockLayout
            lay = self._layouts[key] = cls(self.text, self.font, width, height)
        return lay

    def style(self, when: datetime) -> "PrebuiltStampStyle":
        return PrebuiltStampStyle(factory=self, when=when)


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

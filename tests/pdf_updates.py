"""Incremental updates written by hand, byte by byte, as a forger would append them to a
signed PDF (tests/verifier/test_fastpath_differential.py, tests/verifier/test_pdf_ambiguity.py)."""
from __future__ import annotations

import io
import re
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader


class Doc:
    """What an attack needs of a signed PDF: its trailer, first page, objects' bytes."""

    def __init__(self, pdf: bytes) -> None:
        self.pdf = pdf
        r = self.reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        t = r.trailer
        self.size = int(t["/Size"])
        self.root = t.raw_get("/Root")
        self.info = t.raw_get("/Info") if "/Info" in t else None
        self.id = t.raw_get("/ID") if "/ID" in t else None
        self.startxref = r.last_startxref
        kid = r.root.raw_get("/Pages")
        node = kid.get_object()
        while node.get("/Type") != "/Page":
            kid = node.raw_get("/Kids")
            kid = kid.get_object().raw_get(0)
            node = kid.get_object()
        self.page_ref = kid.reference
        self.page = node
        self.contents = node.raw_get("/Contents")
        self.ref_of_contents = (self.contents.reference
                                if isinstance(self.contents, generic.IndirectObject) else None)

    @property
    def last_is_stream(self) -> bool:
        return self.pdf[self.startxref:self.startxref + 4] != b"xref"

    def ser(self, obj: Any) -> bytes:
        b = io.BytesIO()
        obj.write_to_stream(b, None)
        return b.getvalue()

    def raw_body(self, ref: Any) -> bytes | None:
        """The bytes between 'obj' and 'endobj' as stored (None: in an object stream)."""
        marker = self.reader.xrefs[ref]
        if not isinstance(marker, int):
            return None
        m = re.compile(rb"\s*\d+\s+\d+\s+obj").match(self.pdf, marker)
        assert m is not None
        end = self.pdf.index(b"endobj", m.end())
        return self.pdf[m.end():end]

    def page_with(self, **changes: bytes) -> bytes:
        """The page dictionary serialised, entries replaced by raw bytes (None: dropped)."""
        parts = [b"<<"]
        seen = set()
        for k, v in self.page.items():
            key = k[1:]
            seen.add(key)
            if key in changes:
                if changes[key] is not None:
                    parts.append(b"/" + key.encode() + b" " + changes[key])
                continue
            parts.append(self.ser(generic.NameObject(k)) + b" " + self.ser(self.page.raw_get(k)))
        for key, v in changes.items():
            if key not in seen and v is not None:
                parts.append(b"/" + key.encode() + b" " + v)
        parts.append(b">>")
        return b"\n".join(parts)

    def contents_plus(self, new: bytes) -> bytes:
        """A /Contents array: the page's own contents, then ``new``."""
        c = self.contents
        if isinstance(c, generic.IndirectObject) and not isinstance(
                c.get_object(), generic.ArrayObject):
            return b"[" + self.ser(c) + b" " + new + b"]"
        arr = c.get_object()
        items = b" ".join(self.ser(arr.raw_get(i)) for i in range(len(arr)))
        return b"[" + items + b" " + new + b"]"


def stream_obj(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(data), extra, data)


OVERLAY = b"q 1 1 1 rg 30 600 540 160 re f Q BT /F1 30 Tf 60 700 Td (Diem Toan: 10) Tj ET"


def append(doc: Doc, objects: list[tuple[int, int, bytes]], *, xref: str = "table",
           header: bytes = b"%d %d obj\n", trailer_extra: bytes = b"", free: tuple[int, ...] = (),
           offset_shift: dict[int, int] | None = None, prefix: dict[int, bytes] | None = None,
           dup_entries: list[tuple[int, int, int]] | None = None, objstm: bool = False,
           root: bytes | None = None) -> bytes:
    """One incremental update: ``objects`` (number, generation, body) written as
    ``header body endobj``, then an xref table or stream and a trailer.

    ``prefix``: bytes written before an object's header (the xref points at them when
    ``offset_shift`` says so); ``dup_entries``: extra (number, generation, offset-of-which
    object index) xref entries appended after the normal ones (same number defined twice);
    ``objstm``: generation-0 objects go into one object stream (xref stream forced)."""
    out = bytearray(doc.pdf)
    if not out.endswith(b"\n"):
        out += b"\n"
    offsets: dict[int, tuple[int, int]] = {}
    order: list[int] = []
    size = max([doc.size] + [n + 1 for n, _, _ in objects])
    in_stm: list[tuple[int, bytes]] = []
    objstm_num = None
    for i, (num, gen, body) in enumerate(objects):
        if objstm and gen == 0 and b"stream" not in body:
            in_stm.append((num, body))
            continue
        pre = (prefix or {}).get(num, b"")
        start = len(out)
        out += pre + header % (num, gen) + body + b"\nendobj\n"
        offsets[num] = (gen, start + (offset_shift or {}).get(num, len(pre)))
        order.append(i)
    if in_stm:
        objstm_num = size
        size += 1
        head = b""
        payload = b""
        for num, body in in_stm:
            head += b"%d %d " % (num, len(payload))
            payload += body + b"\n"
        data = head + payload
        start = len(out)
        out += b"%d 0 obj\n" % objstm_num + stream_obj(
            data, b" /Type /ObjStm /N %d /First %d" % (len(in_stm), len(head))) + b"\nendobj\n"
        offsets[objstm_num] = (0, start)
    root_ref = root or doc.ser(doc.root)
    tr = b"/Root " + root_ref
    if doc.info is not None:
        tr += b" /Info " + doc.ser(doc.info)
    if doc.id is not None:
        tr += b" /ID " + doc.ser(doc.id)
    tr += b" /Prev %d" % doc.startxref + trailer_extra
    entries: list[tuple[int, int, int, Any]] = []  # (num, type, gen, location)
    for num, (gen, off) in offsets.items():
        entries.append((num, 1, gen, off))
    for ix, (num, _) in enumerate(in_stm):
        entries.append((num, 2, 0, ix))
    for num in free:
        entries.append((num, 0, 1, 0))
    for num, gen, which in dup_entries or ():
        entries.append((num, 1, gen, offsets[objects[which][0]][1]
                        if objects[which][0] in offsets else which))
    if xref == "table" and not in_stm:
        xstart = len(out)
        out += b"xref\n" + (b"" if entries else b"0 1\n0000000000 65535 f\r\n")
        for num, typ, gen, loc in entries:
            if typ == 1:
                out += b"%d 1\n%010d %05d n\r\n" % (num, loc, gen)
            else:
                out += b"%d 1\n%010d %05d f\r\n" % (num, 0, gen)
        out += b"trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n" % (size, tr, xstart)
        return bytes(out)
    xnum = size
    size += 1
    xstart = len(out)
    entries.append((xnum, 1, 0, xstart))
    entries.sort(key=lambda e: e[0])  # /Index ascending; a duplicate keeps its order
    rows = b""
    index = b""
    for num, typ, gen, loc in entries:
        if typ == 2:
            rows += bytes([2]) + objstm_num.to_bytes(4, "big") + loc.to_bytes(2, "big")
        else:
            rows += bytes([typ]) + loc.to_bytes(4, "big") + gen.to_bytes(2, "big")
        index += b"%d 1 " % num
    out += b"%d 0 obj\n" % xnum + stream_obj(
        rows, b" /Type /XRef /W [1 4 2] /Index [%s] /Size %d %s" % (index, size, tr)
    ) + b"\nendobj\nstartxref\n%d\n%%%%EOF\n" % xstart
    return bytes(out)


class Update:
    """A hand-written incremental update assembled piece by piece, for attacks that
    :func:`append` cannot express (hybrid-reference sections, broken /Prev chains, a
    ``startxref`` that points elsewhere, subsection headers that lie).

    ``obj``/``objstm``/``raw`` append bytes and return their offset; ``table`` and
    ``xref_stream`` write a cross-reference section from explicit entries; ``finish``
    writes ``startxref``/``%%EOF`` with any offset."""

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self.out = bytearray(doc.pdf)
        if not self.out.endswith(b"\n"):
            self.out += b"\n"

    def raw(self, data: bytes) -> int:
        at = len(self.out)
        self.out += data
        return at

    def obj(self, num: int, gen: int, body: bytes) -> int:
        return self.raw(b"%d %d obj\n" % (num, gen) + body + b"\nendobj\n")

    def objstm(self, num: int, members: list[tuple[int, bytes]], *, extra: bytes = b"",
               n: int | None = None, gen: int = 0) -> int:
        head = b""
        payload = b""
        for mnum, body in members:
            head += b"%d %d " % (mnum, len(payload))
            payload += body + b"\n"
        count = len(members) if n is None else n
        return self.obj(num, gen, stream_obj(head + payload, b" /Type /ObjStm /N %d /First %d%s"
                                             % (count, len(head), extra)))

    def trailer_dict(self, size: int, extra: bytes = b"", *, prev: int | None = None,
                     root: bytes | None = None) -> bytes:
        d = self.doc
        tr = b"/Size %d /Root " % size + (root or d.ser(d.root))
        if d.info is not None:
            tr += b" /Info " + d.ser(d.info)
        if d.id is not None:
            tr += b" /ID " + d.ser(d.id)
        tr += b" /Prev %d" % (d.startxref if prev is None else prev)
        return b"<< " + tr + extra + b" >>"

    def table(self, entries: list[tuple[int, int, int, bytes]], trailer: bytes, *,
              counts: dict[int, int] | None = None) -> int:
        """``entries``: (number, offset, generation, b"n" | b"f"), one subsection each;
        ``counts``: a lying subsection count for the entry of that number."""
        at = self.raw(b"xref\n")
        for num, off, gen, kind in entries:
            self.out += b"%d %d\n%010d %05d %s\r\n" % (num, (counts or {}).get(num, 1), off, gen,
                                                       kind)
        self.out += b"trailer\n" + trailer + b"\n"
        return at

    def xref_stream(self, num: int, entries: list[tuple[int, int, int, int]], size: int,
                    extra: bytes = b"") -> int:
        """``entries``: (number, type, field 2, field 3), ascending numbers; the stream's
        own entry is added."""
        at = len(self.out)
        entries = sorted(entries + [(num, 1, at, 0)])
        rows = b"".join(bytes([t]) + f2.to_bytes(4, "big") + f3.to_bytes(2, "big")
                        for _, t, f2, f3 in entries)
        index = b" ".join(b"%d 1" % e[0] for e in entries)
        self.obj(num, 0, stream_obj(rows, b" /Type /XRef /W [1 4 2] /Index [%s] /Size %d%s"
                                    % (index, size, extra)))
        return at

    def finish(self, startxref: int) -> bytes:
        self.out += b"startxref\n%d\n%%%%EOF\n" % startxref
        return bytes(self.out)

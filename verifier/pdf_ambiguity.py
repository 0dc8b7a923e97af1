"""Updates written after a signature that PDF readers can read two ways.

pyHanko reads a file leniently (``strict=False``, as every validator of real-world
PDFs must), and where the syntax is ambiguous it makes one choice: a key defined twice
in a dictionary keeps its *first* value, an object listed twice in one cross-reference
section keeps its *last* entry, an object-stream entry is found by its object number
whatever its index. Other readers choose differently. A forger uses exactly that: an
update after the signatures redefines the page with ``/Contents 28 0 R /Contents
[28 0 R 54 0 R]``, pyHanko's difference analysis sees the signed page unchanged (and
calls every signature intact), a viewer that keeps the last key shows the overlay.

No signing software writes such an update, so any of these in a revision after a
signature is a change after signing in its own right (the caller reports it as
``modified_after``):

- a dictionary, at any depth, of an object written in that revision (also inside an
  object stream), of its trailer or of its cross-reference stream, that defines a key
  twice;
- an object number listed twice in the revision's cross-reference table or stream;
- an object whose header names another object than its cross-reference entry, or
  whose value is followed by anything but ``endobj``;
- an object-stream entry whose index names another object, an object number that
  appears twice in one object stream's header, a header with more than /N entries, or
  an object in an object stream of that revision that its cross-reference section does
  not place there (also in an object stream nothing points into);
- a trailer (or cross-reference stream) without /Root or /Size - pyHanko then takes the
  previous trailer's, poppler rebuilds the file by scanning and shows the last page
  body it finds - or followed by anything but ``startxref`` (a second trailer);
- an object in use both in a hybrid file's table and in its /XRefStm stream;
- an object header among the bytes the revision added, also inside another object's
  value or stream data, that is not one its cross-reference section lists (what a
  reader rebuilding the file takes);
- after the last revision: another update (an object, ``trailer`` or ``startxref``) that
  the last ``startxref`` skips.

The checks read with pyHanko's own parser (a strict handler turns its "Multiple
definitions" warning into an error), so what they see is what the analysis saw; an
object the fast skeleton reader of :mod:`ground.pdf_read` takes whole (one that reader
refuses on any repeated key or anything before ``endobj``) needs no second read. A
revision is checked once per reader, whichever signature asks.
"""
from __future__ import annotations

import re
from collections import Counter
from itertools import accumulate
from io import BytesIO
from typing import Any

from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.decode_limits import DecodePurpose
from pyhanko.pdf_utils.xref import (
    ObjStreamRef, XRefSectionType, parse_xref_stream, parse_xref_table, read_object_header)

from ground.pdf_read import read_skeleton

_CACHE_ATTR = "_hocba_ambiguity"
_ENDOBJ = b"endobj"
_WS = re.compile(rb"[ \t\r\n\x0c\x00]*")
_EOL = re.compile(rb"[\r\n]")
# An object header as a reader scanning the file finds one (pyHanko's read_object_header
# takes the same: numbers, PDF whitespace, "obj").
_OBJ_HEADER = re.compile(rb"(?<![0-9])[0-9]+[ \t\r\n\x0c\x00]+[0-9]+[ \t\r\n\x0c\x00]*obj"
                         rb"(?![A-Za-z0-9])")


class _Ambiguous(Exception):
    """What makes a revision ambiguous, as English detail."""


class _StrictHandler:
    """The PDF handler of the objects a check reads: strict, so that a key defined twice
    raises instead of being dropped; an indirect stream /Length is looked up in the
    revision being checked."""

    strict = True

    def __init__(self, reader: Any, revision: int) -> None:
        self._reader, self._revision = reader, revision
        self._resolver: Any = None

    def __getattr__(self, name: str) -> Any:  # decode limits and the like: the reader's
        return getattr(self._reader, name)

    def get_object(self, ref: Any, *args: Any, **kwargs: Any) -> Any:
        if self._resolver is None:
            self._resolver = self._reader.get_historical_resolver(self._revision)
        ref = getattr(ref, "reference", ref)
        return self._resolver(generic.Reference(ref.idnum, ref.generation))


def ambiguity_after(reader: Any, revision: int) -> str | None:
    """The first ambiguity in the revisions after ``revision`` or in the bytes after the
    last revision (English detail), or None. Remembered per revision on the reader."""
    cache: dict[int, str | None] = reader.__dict__.setdefault(_CACHE_ATTR, {})
    xrefs = reader.xrefs
    total = xrefs.total_revisions
    data: bytes | None = None
    ends: list[int] = []
    for rev in [*range(revision + 1, total), _TRAILING]:
        if rev not in cache:
            if data is None:
                data = _file_bytes(reader)
                # how far the file reaches after each revision and all before it
                ends = list(accumulate((_revision_end(data, xrefs, r) for r in range(total)),
                                       max))
            try:
                if rev == _TRAILING:  # (the last revision need not end last: linearized)
                    _check_trailing(data, ends[-1])
                else:
                    # the bytes it added begin after every earlier revision (in the file:
                    # a linearized file's first-page section comes first but is a later
                    # "revision")
                    _check_revision(reader, data, rev, ends[rev - 1])
                cache[rev] = None
            except _Ambiguous as e:
                cache[rev] = (f"revision {rev}: {e}" if rev != _TRAILING
                              else f"after the last revision: {e}")
            except Exception:  # noqa: BLE001 - a check that cannot run finds nothing; the
                cache[rev] = None  # difference analysis still judges the revision
        if cache[rev] is not None:
            return cache[rev]
    return None


_TRAILING = -1  # the cache key of the bytes after the last revision


def _file_bytes(reader: Any) -> bytes:
    stream = reader.stream
    if isinstance(stream, BytesIO):
        return stream.getvalue()
    pos = stream.tell()
    try:
        stream.seek(0)
        return bytes(stream.read())
    finally:
        stream.seek(pos)


def _read(data: bytes, at: int, container: Any) -> tuple[Any, BytesIO]:
    """pyHanko's read_object at ``at``; a key defined twice is an ambiguity. Other read
    errors are left to the difference analysis (an unreadable update is judged there)."""
    stream = BytesIO(data)
    stream.seek(at)
    try:
        return generic.read_object(stream, container), stream
    except misc.PdfStrictReadError as e:
        if "Multiple definitions" in str(e):
            raise _Ambiguous(f"a dictionary defines a key twice ({e})"[:200]) from None
        raise


def _skip(data: bytes, p: int) -> int:
    """The position after whitespace and comments from ``p``."""
    while True:
        p = _WS.match(data, p).end()  # type: ignore[union-attr]
        if data[p:p + 1] != b"%":
            return p
        m = _EOL.search(data, p)
        p = len(data) if m is None else m.end()


def _revision_end(data: bytes, xrefs: Any, rev: int) -> int:
    """Where revision ``rev`` ends: after the %%EOF that follows its cross-reference
    section (the end of the file when there is none)."""
    at = data.find(b"%%EOF", xrefs.get_xref_container_info(rev).end_location)
    return len(data) if at < 0 else at + 5


def _section_start(data: bytes, meta: Any) -> int:
    """Where the revision's cross-reference section begins: the ``xref`` keyword of a
    table, the header of an xref stream."""
    if meta.xref_section_type in (XRefSectionType.STANDARD, XRefSectionType.HYBRID_MAIN):
        at = data.rfind(b"xref", 0, meta.start_location)
        return meta.start_location if at < 0 else at
    return int(meta.start_location)


def _check_trailing(data: bytes, end: int) -> None:
    """After the last revision of pyHanko's chain: nothing a reader could take as more of
    the file (another update that the last ``startxref`` skips)."""
    rest = data[end:]
    if _OBJ_HEADER.search(rest) or b"startxref" in rest or b"trailer" in rest:
        raise _Ambiguous("an update that the last startxref does not lead to")


def _check_revision(reader: Any, data: bytes, rev: int, start: int) -> None:
    """``start``: where the bytes this revision added begin."""
    xrefs = reader.xrefs
    meta = xrefs.get_xref_container_info(rev)
    section = xrefs.get_xref_data(rev)
    handler = _StrictHandler(reader, rev)
    try:
        _check_xref_section(data, meta, handler)
    except _Ambiguous:
        raise
    except Exception:  # noqa: BLE001 - what cannot be re-read here is not ambiguity
        pass
    hybrid = section.hybrid.xref_data if section.hybrid is not None else None
    if hybrid is not None:
        # A hybrid file's /XRefStm stream is a second list by design: the table lists
        # as free (or not at all) what the stream places in object streams. An object
        # in use in both lists is two answers to one question.
        both = set(section.standard_xrefs) & (set(hybrid.standard_xrefs)
                                              | set(hybrid.xrefs_in_objstm))
        if both:
            raise _Ambiguous(f"object {min(both)} is listed in use both in the table "
                             "and in its /XRefStm stream")
    spans: list[tuple[int, int]] = []
    object_streams: set[int] = set()
    for idnum, (generation, offset) in sorted(section.standard_xrefs.items()):
        try:
            end, is_objstm = _check_object(data, offset, idnum, generation, handler)
        except _Ambiguous as e:
            raise _Ambiguous(f"object {idnum} {generation}: {e}") from None
        except Exception:  # noqa: BLE001 - unreadable: the difference analysis judges it
            at = data.find(_ENDOBJ, offset)
            end, is_objstm = (offset + 1 if at < 0 else at + len(_ENDOBJ)), False
        spans.append((offset, end))
        if is_objstm:
            object_streams.add(idnum)
    in_streams = dict(section.xrefs_in_objstm)
    if hybrid is not None:
        in_streams.update(hybrid.xrefs_in_objstm)
    for loc in in_streams.values():
        if isinstance(loc, ObjStreamRef):
            object_streams.add(loc.obj_stream_id)
    for stream_id in sorted(object_streams):
        try:
            _check_object_stream(reader, rev, stream_id, in_streams, handler)
        except _Ambiguous as e:
            raise _Ambiguous(f"object stream {stream_id}: {e}") from None
        except Exception:  # noqa: BLE001
            continue
    section_start = _section_start(data, meta)
    if section_start > start:
        _check_unlisted(data, start, section_start, spans)


def _check_unlisted(data: bytes, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    """Between the previous revision's end and this revision's cross-reference section,
    no object header but those of the objects the section lists - also none inside
    their values or stream data. (A reader that rebuilds the file by scanning, as
    poppler does for a trailer without /Root or an xref it cannot use, takes the last
    body of each number it finds.)"""
    listed = {s for s, _ in spans} | {_WS.match(data, s).end()  # type: ignore[union-attr]
                                      for s, _ in spans}
    for m in _OBJ_HEADER.finditer(data, start, end):
        if m.start() not in listed:
            raise _Ambiguous("an object body its cross-reference section does not list")


def _check_xref_section(data: bytes, meta: Any, handler: _StrictHandler) -> None:
    kind = meta.xref_section_type
    if kind in (XRefSectionType.STANDARD, XRefSectionType.HYBRID_MAIN):
        stream = BytesIO(data)
        stream.seek(meta.start_location)
        entries = list(parse_xref_table(stream, strict=False))
        # the trailer follows the table (pyHanko stops reading the table there)
        ref = generic.TrailerReference(handler)  # type: ignore[no-untyped-call]
        trailer, after = _read(data, meta.end_location, ref)
    elif kind == XRefSectionType.STREAM:
        stream = BytesIO(data)
        stream.seek(meta.start_location)
        header = read_object_header(stream, strict=False)  # type: ignore[no-untyped-call]
        idnum, generation = header
        trailer, after = _read(data, stream.tell(),
                               generic.Reference(idnum, generation, handler))
        if not isinstance(trailer, generic.StreamObject):
            return
        entries = list(parse_xref_stream(trailer, strict=False))
        p = _skip(data, after.tell())
        if data[p:p + len(_ENDOBJ)] != _ENDOBJ:
            raise _Ambiguous("its xref stream is followed by something other than endobj")
        after.seek(p + len(_ENDOBJ))
    else:
        return
    if not isinstance(trailer, generic.DictionaryObject):
        return
    missing = [k for k in ("/Root", "/Size") if k not in trailer]
    if missing:
        # pyHanko then takes the previous trailer's entry; a reader that rebuilds the
        # file by scanning takes whatever catalog it finds last.
        raise _Ambiguous(f"its trailer has no {missing[0]}")
    p = _skip(data, after.tell())
    if data[p:p + 9] != b"startxref":
        raise _Ambiguous("its trailer is followed by something other than startxref")
    twice = [n for n, c in Counter(e.idnum for e in entries if e.idnum).items() if c > 1]
    if twice:
        raise _Ambiguous(f"the cross-reference section lists object {min(twice)} twice")


def _check_object(data: bytes, offset: int, idnum: int, generation: int,
                  handler: _StrictHandler) -> tuple[int, bool]:
    """Where the object ends (after its endobj), and whether it is an object stream."""
    skeleton = read_skeleton(data, offset, idnum, generation)
    if skeleton is not None:
        # The fast parser read it whole (and the revision walk remembers it): its header
        # names this object, no dictionary in it defines a key twice (that parser hands
        # any repeated key to pyHanko), and only whitespace separates it from endobj.
        return data.find(_ENDOBJ, offset) + len(_ENDOBJ), _is_objstm(skeleton)
    stream = BytesIO(data)
    stream.seek(offset)
    found = read_object_header(stream, strict=False)  # type: ignore[no-untyped-call]
    if tuple(found) != (idnum, generation):
        raise _Ambiguous(f"its cross-reference entry points at object {found[0]} {found[1]}")
    obj, after = _read(data, stream.tell(), generic.Reference(idnum, generation, handler))
    p = _skip(data, after.tell())
    if data[p:p + len(_ENDOBJ)] != _ENDOBJ:
        raise _Ambiguous("its value is followed by something other than endobj")
    return p + len(_ENDOBJ), _is_objstm(obj)


def _is_objstm(obj: Any) -> bool:
    try:
        return bool(isinstance(obj, generic.DictionaryObject)
                    and obj.raw_get("/Type") == "/ObjStm")
    except KeyError:
        return False


def _check_object_stream(reader: Any, rev: int, stream_id: int, in_streams: dict[int, Any],
                         handler: _StrictHandler) -> None:
    """Its header holds exactly /N entries, each placed there by this revision's
    cross-reference section (objects a reader finds only by scanning object streams
    would be another reading), and no object in it defines a key twice."""
    objstm = reader.get_historical_resolver(rev)(generic.Reference(stream_id, 0))
    if not isinstance(objstm, generic.StreamObject):
        return
    n, first = int(objstm["/N"]), int(objstm["/First"])
    payload = objstm.read_data(DecodePurpose.OBJECT_STREAM)
    header = BytesIO(payload)
    pairs: list[tuple[int, int]] = []
    for _ in range(n):
        misc.read_non_whitespace(header, seek_back=True)  # type: ignore[no-untyped-call]
        objnum = int(generic.NumberObject.read_from_stream(header))  # type: ignore[no-untyped-call]
        misc.read_non_whitespace(header, seek_back=True)  # type: ignore[no-untyped-call]
        offset = generic.NumberObject.read_from_stream(header)  # type: ignore[no-untyped-call]
        pairs.append((objnum, int(offset)))
    if _WS.match(payload, header.tell()).end() < first:  # type: ignore[union-attr]
        raise _Ambiguous("its header holds more than its /N entries")
    twice = [num for num, c in Counter(num for num, _ in pairs).items() if c > 1]
    if twice:
        raise _Ambiguous(f"its header lists object {min(twice)} twice")
    for index, (idnum, offset) in enumerate(pairs):
        loc = in_streams.get(idnum)
        if not (isinstance(loc, ObjStreamRef) and loc.obj_stream_id == stream_id
                and loc.ix_in_stream == index):
            raise _Ambiguous(f"object {idnum} at index {index} is not placed there by the "
                             "cross-reference section")
        try:
            _read(payload, first + offset, generic.Reference(idnum, 0, handler))
        except _Ambiguous as e:
            raise _Ambiguous(f"object {idnum}: {e}") from None

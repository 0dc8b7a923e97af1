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
- an object-stream entry whose index names another object, or an object number that
  appears twice in one object stream's header.

The checks read with pyHanko's own parser (a strict handler turns its "Multiple
definitions" warning into an error), so what they see is what the analysis saw; an
object the fast skeleton reader of :mod:`ground.pdf_read` takes whole (one that reader
refuses on any repeated key or anything before ``endobj``) needs no second read. A
revision is checked once per reader, whichever signature asks.
"""
from __future__ import annotations

from collections import Counter
from io import BytesIO
from typing import Any

from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.decode_limits import DecodePurpose
from pyhanko.pdf_utils.xref import (
    ObjStreamRef, XRefSectionType, parse_xref_stream, parse_xref_table, read_object_header)

from ground.pdf_read import read_skeleton

_CACHE_ATTR = "_hocba_ambiguity"
_ENDOBJ = b"endobj"


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
    """The first ambiguity in the revisions after ``revision`` (English detail), or
    None. Remembered per revision on the reader."""
    cache: dict[int, str | None] = reader.__dict__.setdefault(_CACHE_ATTR, {})
    xrefs = reader.xrefs
    data: bytes | None = None
    for rev in range(revision + 1, xrefs.total_revisions):
        if rev not in cache:
            if data is None:
                data = _file_bytes(reader)
            try:
                _check_revision(reader, data, rev)
                cache[rev] = None
            except _Ambiguous as e:
                cache[rev] = f"revision {rev}: {e}"
            except Exception:  # noqa: BLE001 - a check that cannot run finds nothing; the
                cache[rev] = None  # difference analysis still judges the revision
        if cache[rev] is not None:
            return cache[rev]
    return None


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


def _check_revision(reader: Any, data: bytes, rev: int) -> None:
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
    for idnum, (generation, offset) in list(section.standard_xrefs.items()):
        try:
            _check_object(data, offset, idnum, generation, handler)
        except _Ambiguous as e:
            raise _Ambiguous(f"object {idnum} {generation}: {e}") from None
        except Exception:  # noqa: BLE001 - unreadable: the difference analysis judges it
            continue
    by_stream: dict[int, list[tuple[int, int]]] = {}
    in_streams = dict(section.xrefs_in_objstm)
    if section.hybrid is not None:  # a hybrid file's /XRefStm places objects in streams
        in_streams.update(section.hybrid.xref_data.xrefs_in_objstm)
    for idnum, loc in in_streams.items():
        if isinstance(loc, ObjStreamRef):
            by_stream.setdefault(loc.obj_stream_id, []).append((idnum, loc.ix_in_stream))
    for stream_id, members in sorted(by_stream.items()):
        try:
            _check_object_stream(reader, rev, stream_id, members, handler)
        except _Ambiguous as e:
            raise _Ambiguous(f"object stream {stream_id}: {e}") from None
        except Exception:  # noqa: BLE001
            continue


def _check_xref_section(data: bytes, meta: Any, handler: _StrictHandler) -> None:
    kind = meta.xref_section_type
    if kind in (XRefSectionType.STANDARD, XRefSectionType.HYBRID_MAIN):
        stream = BytesIO(data)
        stream.seek(meta.start_location)
        entries = list(parse_xref_table(stream, strict=False))
        # the trailer follows the table (pyHanko stops reading the table there)
        trailer = generic.TrailerReference(handler)  # type: ignore[no-untyped-call]
        _read(data, meta.end_location, trailer)
        # (a hybrid file's /XRefStm stream is a second list by design: the table lists
        # as free what the stream places in object streams)
    elif kind == XRefSectionType.STREAM:
        stream = BytesIO(data)
        stream.seek(meta.start_location)
        header = read_object_header(stream, strict=False)  # type: ignore[no-untyped-call]
        idnum, generation = header
        xref_stream, _ = _read(data, stream.tell(),
                               generic.Reference(idnum, generation, handler))
        if not isinstance(xref_stream, generic.StreamObject):
            return
        entries = list(parse_xref_stream(xref_stream, strict=False))
    else:
        return
    twice = [n for n, c in Counter(e.idnum for e in entries if e.idnum).items() if c > 1]
    if twice:
        raise _Ambiguous(f"the cross-reference section lists object {min(twice)} twice")


def _check_object(data: bytes, offset: int, idnum: int, generation: int,
                  handler: _StrictHandler) -> None:
    if read_skeleton(data, offset, idnum, generation) is not None:
        # The fast parser read it whole (and the revision walk remembers it): its header
        # names this object, no dictionary in it defines a key twice (that parser hands
        # any repeated key to pyHanko), and only whitespace separates it from endobj.
        return
    stream = BytesIO(data)
    stream.seek(offset)
    found = read_object_header(stream, strict=False)  # type: ignore[no-untyped-call]
    if tuple(found) != (idnum, generation):
        raise _Ambiguous(f"its cross-reference entry points at object {found[0]} {found[1]}")
    _, after = _read(data, stream.tell(), generic.Reference(idnum, generation, handler))
    # what follows the value: whitespace and comments, then endobj
    while True:
        skip = misc.read_non_whitespace
        skip(after, seek_back=True, allow_eof=True)  # type: ignore[no-untyped-call]
        if after.read(1) != b"%":
            after.seek(-1, 1)
            break
        while after.read(1) not in (b"\n", b"\r", b""):
            pass
    if after.read(len(_ENDOBJ)) != _ENDOBJ:
        raise _Ambiguous("its value is followed by something other than endobj")


def _check_object_stream(reader: Any, rev: int, stream_id: int,
                         members: list[tuple[int, int]], handler: _StrictHandler) -> None:
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
    twice = [num for num, c in Counter(num for num, _ in pairs).items() if c > 1]
    if twice:
        raise _Ambiguous(f"its header lists object {min(twice)} twice")
    offsets = dict(pairs)
    for idnum, index in sorted(members):
        if not (0 <= index < len(pairs)) or pairs[index][0] != idnum:
            raise _Ambiguous(f"the entry of object {idnum} names index {index}, "
                             "which holds another object")
        try:
            _read(payload, first + offsets[idnum], generic.Reference(idnum, 0, handler))
        except _Ambiguous as e:
            raise _Ambiguous(f"object {idnum}: {e}") from None

"""A faster drop-in for pyHanko's PDF object parser (``generic.read_object``).

What
    pyHanko parses objects one byte at a time (``stream.read(1)``, a generator per
    token). Verifying a signed record PDF parses every version of every object
    again, revision by revision (the difference analysis): for one typical B-LTA
    record (94 object versions over 7 revisions) that cost ~19 ms of a ~75-95 ms
    verification with the hex-string reader below already in place (~54 ms
    without it), mostly font dictionaries with /W width arrays (~1 ms each), the
    Info dictionary with its escaped literal strings (rewritten in every revision)
    and annotation/field dictionaries. This module reads a window of bytes at the
    object's position (8 KiB, doubled while the object does not end inside it, up
    to 4 MiB) and parses it with compiled regular expressions and slicing; the
    same file's objects then parse in ~3 ms.

Equivalence
    The fast path answers only where it reproduces pyHanko 0.38's ``read_object``
    exactly - the same object types and values, dictionary key order,
    ``container_ref`` on every value (not on dictionary keys, which pyHanko reads
    with ``NameObject.read_from_stream`` and never tags), and the stream left at
    the same position. It builds the objects with pyHanko's own constructors and
    helpers (``NumberObject``, ``FloatObject``, ``pdf_string``, ``IndirectObject``,
    ``_maybe_read_stream_payload``) on the same input bytes, so where pyHanko
    would raise, so would they, and then the fast path gives up. Everything
    unusual - comments (``%``), ``>`` not followed by ``>``, duplicate keys,
    backslash escapes pyHanko rejects or mis-reads at the end of data, name bytes
    ``_decode_name`` rejects, a dictionary followed by ``stream`` below the top
    level, nesting deeper than ``_MAX_DEPTH``, anything touching the end of the
    data where pyHanko's byte-at-a-time reads and seeks behave oddly, any
    exception at all, content-stream and metadata-stream modes - goes back to the
    original: the stream is put back where it was and pyHanko's ``read_object``
    is called. Correctness never depends on reproducing pyHanko's errors.

    The details that matter, from pyHanko's source:

    * whitespace is ``misc.PDF_WHITESPACE`` (NUL included, vertical tab not);
    * a number is the longest run of ``[+,-.0-9]`` (``NumberPattern`` is
      ``[^+-.0-9]``: ``+-.`` is the range 0x2B-0x2E, comma included), given to
      ``FloatObject`` if it holds a dot and to ``NumberObject`` otherwise;
    * a digit starts an indirect reference exactly when ``INDIRECT_PATTERN``
      matches the next 20 bytes (fewer at the end of the data);
      ``IndirectObject.read_from_stream`` then consumes up to and including the
      ``R`` (a vertical tab before the ``R``, which ``bytes.isspace`` accepts but
      ``read_non_whitespace`` does not, falls back);
    * ``true``/``false``/``null`` are compared on 4 (5) bytes with no delimiter
      check after them, as pyHanko does;
    * after a dictionary's ``>>``, pyHanko looks for the ``stream`` keyword
      (``_maybe_read_stream_payload``); at the top level the fast path calls that
      very function with the stream just after ``>>``, as pyHanko does.

    ``content_stream_parser`` imported ``read_object`` by name and is left alone:
    it always reads in content-stream mode, which the fast path hands back anyway.
    ``reader.py``, ``xref.py`` and pyHanko's own recursive calls (arrays,
    dictionaries) look ``read_object`` up in ``generic``'s globals, which
    :func:`install` sets.

The hex-string reader (signature /Contents: tens of kilobytes of hex, read again
by every historical revision) is a drop-in for ``generic.read_hex_string_from_stream``
with the same results and errors; a hex string holding a comment goes to the original.

Installed once, idempotently, by :func:`verifier.runtime.configure_process`.
"""
from __future__ import annotations

import binascii
import re
from _codecs import escape_decode
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfStreamError

ORIGINAL_READ_OBJECT = generic.read_object
ORIGINAL_READ_HEX_STRING = generic.read_hex_string_from_stream

_WS = b" \n\r\t\f\x00"  # misc.PDF_WHITESPACE
_HEX = re.compile(rb"[0-9a-fA-F]*")


# -- hex strings, from a stream ---------------------------------------------------------------

def read_hex_string_from_stream(stream: Any) -> Any:
    start = stream.tell()
    stream.read(1)  # the "<"
    chunks: list[bytes] = []
    while True:
        chunk = stream.read(65536)
        if not chunk:
            raise PdfStreamError("Stream ended prematurely")
        end = chunk.find(b">")
        body = chunk if end < 0 else chunk[:end]
        if b"%" in body:  # a comment inside: let pyHanko's tokenizer deal with it
            stream.seek(start)
            return ORIGINAL_READ_HEX_STRING(stream)
        chunks.append(body)
        if end >= 0:
            stream.seek(start + 1 + sum(len(c) for c in chunks) + 1)
            break
    data = b"".join(chunks).translate(None, _WS)
    if not _HEX.fullmatch(data):
        bad = next(bytes([b]) for b in data if bytes([b]) not in b"0123456789abcdefABCDEF")
        raise PdfStreamError("Unexpected token in hex string: " + repr(bad))
    if len(data) % 2:
        data += b"0"
    return generic.pdf_string(binascii.unhexlify(data))


# -- objects, from a window of bytes ----------------------------------------------------------

_WINDOW = 8192
_MAX_WINDOW = 1 << 22
_MAX_DEPTH = 100

_WS_RUN = re.compile(rb"[ \n\r\t\x0c\x00]*")
# read_until_delimiter: up to the first PDF whitespace or delimiter ()<>[]{}/%
_NAME_TOKEN = re.compile(rb"[^ \n\r\t\x0c\x00()<>\[\]{}/%]*")
# what _decode_name accepts: 0x21-0x7E (delimiters are already outside the token), '#'
# only as the start of a two-hex-digit escape
_NAME_PLAIN = re.compile(rb"[!-\"$-~]*")
_NAME_ESCAPED = re.compile(rb"(?:[!-\"$-~]|#[0-9A-Fa-f]{2})*")
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_NUMBER_TOKEN = re.compile(rb"[\x2b-\x2e0-9]*")  # NumberObject.NumberPattern's complement
# An array of integers, or of integers and integer-only arrays one level deep (/Rect,
# /Widths, a CIDFont's /W: ``[ 1 [ 736 ] 2 [ 736 ] 7 9 769 ]``), each integer ended by
# whitespace (the part of it bytes.isspace() and PDF_WHITESPACE share) or a bracket. No
# element can start an indirect reference: INDIRECT_PATTERN needs an 'R' after two integers.
_W_ARRAY = re.compile(
    rb"\[(?:[ \n\r\t\x0c]*(?:[+-]?[0-9]+(?=[ \n\r\t\x0c\[\]])"
    rb"|\[(?:[ \n\r\t\x0c]*[+-]?[0-9]+(?=[ \n\r\t\x0c\]]))*[ \n\r\t\x0c]*\]))*"
    rb"[ \n\r\t\x0c]*\]")
_W_TOKEN = re.compile(rb"\[|\]|[+-]?[0-9]+")
_STRING_SPECIAL = re.compile(rb"[()\\]")
# A string without nested parentheses whose escapes are all single: three octal digits
# up to 377, one or two not followed by a digit (pyHanko reads up to three digits 0-9),
# or a backslash and one of pyHanko's escape letters or verbatim bytes.
_STRING_SIMPLE = re.compile(
    rb"\(((?:[^()\\]|\\(?:[0-3][0-7]{2}|[0-7]{1,2}(?![0-9])|[nrtbf() /%<>\[\]#_&$\\]))*)\)")
# Escapes Python's escape_decode does not read as pyHanko does (it keeps the backslash):
# where none occurs, escape_decode gives pyHanko's bytes (octal, \n \r \t \b \f, \\).
# A match after an escaped backslash is a false alarm, which costs only the slow loop.
_STRING_VERBATIM_ESCAPE = re.compile(rb"\\[() /%<>\[\]#_&$]")
_STRING_VERBATIM = b"() /%<>[]#_&$\\"
_STRING_CONTROL = {0x6E: b"\n", 0x72: b"\r", 0x74: b"\t", 0x62: b"\b", 0x66: b"\f"}

# pyHanko's constructors (untyped: Any for mypy --strict)
_NameObject: Any = generic.NameObject
_NumberObject: Any = generic.NumberObject
_FloatObject: Any = generic.FloatObject
_IndirectObject: Any = generic.IndirectObject
_ArrayObject: Any = generic.ArrayObject
_DictionaryObject: Any = generic.DictionaryObject
_StreamObject: Any = generic.StreamObject
_BooleanObject: Any = generic.BooleanObject
_NullObject: Any = generic.NullObject
_NO = generic.ContentOpReading.NO


class _Fallback(Exception):
    """The fast path does not answer: pyHanko's parser decides."""


class _NeedMore(Exception):
    """The object does not end inside the window."""


class _Stream:
    """A top-level dictionary followed by the ``stream`` keyword."""

    __slots__ = ("data", "end", "handler")

    def __init__(self, data: dict[Any, Any], end: int, handler: Any) -> None:
        self.data, self.end, self.handler = data, end, handler


class _Parser:
    __slots__ = ("data", "n", "at_eof", "cref", "skeleton")

    def __init__(self, data: bytes, at_eof: bool, cref: Any, skeleton: bool = False) -> None:
        self.data, self.n, self.at_eof, self.cref = data, len(data), at_eof, cref
        self.skeleton = skeleton

    def short(self) -> Exception:
        """The data ended: at the end of the stream pyHanko's reads and seeks decide."""
        return _Fallback() if self.at_eof else _NeedMore()

    def skip_ws(self, p: int) -> int:
        """read_non_whitespace + seek back: the position of the next non-whitespace byte."""
        p = _WS_RUN.match(self.data, p).end()  # type: ignore[union-attr]
        if p >= self.n:
            raise self.short()  # pyHanko raises at the end of the stream
        if self.data[p] == 0x25:  # a comment
            raise _Fallback()
        return p

    def value(self, p: int, depth: int) -> tuple[Any, int]:
        """read_object at ``p`` (in_content_stream NO): the object and the end position."""
        if depth > _MAX_DEPTH:
            raise _Fallback()
        data = self.data
        c = data[p]
        obj: Any
        if c == 0x2F:  # /
            obj, p = self.name(p)
        elif c == 0x3C:  # <
            if p + 1 >= self.n:
                raise self.short()
            if data[p + 1] == 0x3C:
                obj, p = self.dictionary(p, depth)
                if isinstance(obj, _Stream):
                    if depth:
                        raise _Fallback()  # a stream nested in an object: leave it to pyHanko
                    return obj, p
            else:
                obj, p = self.hex_string(p)
        elif c == 0x5B:  # [
            obj, p = self.array(p, depth)
        elif c == 0x28:  # (
            obj, p = self.literal_string(p)
        elif c == 0x74:  # t
            if p + 4 > self.n:
                raise self.short()
            if data[p:p + 4] != b"true":
                raise _Fallback()
            obj, p = _BooleanObject(True), p + 4
        elif c == 0x66:  # f
            if p + 5 > self.n:
                raise self.short()
            if data[p:p + 5] != b"false":
                raise _Fallback()
            obj, p = _BooleanObject(False), p + 5
        elif c == 0x6E:  # n
            if p + 4 > self.n:
                raise self.short()
            if data[p:p + 4] != b"null":
                raise _Fallback()
            obj, p = _NullObject(), p + 4
        elif 0x30 <= c <= 0x39:
            if p + 20 > self.n and not self.at_eof:
                raise _NeedMore()
            m = generic.INDIRECT_PATTERN.match(data[p:p + 20])
            if m is not None:
                obj, p = self.reference(m, p)
            else:
                obj, p = self.number(p)
        elif c in b"+-.":
            obj, p = self.number(p)
        else:  # including '%' (a comment)
            raise _Fallback()
        obj.container_ref = self.cref
        return obj, p

    def name(self, p: int) -> tuple[Any, int]:
        """NameObject.read_from_stream: '/' and the bytes up to a delimiter, decoded."""
        end = _NAME_TOKEN.match(self.data, p + 1).end()  # type: ignore[union-attr]
        if end >= self.n:
            raise self.short()
        token = self.data[p + 1:end]
        if _NAME_PLAIN.fullmatch(token):
            return _NameObject("/" + token.decode("ascii")), end
        if not _NAME_ESCAPED.fullmatch(token):
            raise _Fallback()  # _decode_name raises
        raw = b"/" + _NAME_ESCAPE.sub(lambda m: bytes((int(m.group(1), 16),)), token)
        try:
            text = raw.decode("utf8")
        except UnicodeDecodeError:
            text = raw.decode("latin1")
        return _NameObject(text), end

    def number(self, p: int) -> tuple[Any, int]:
        """NumberObject.read_from_stream: the longest run of [+,-.0-9]."""
        end = _NUMBER_TOKEN.match(self.data, p).end()  # type: ignore[union-attr]
        if end >= self.n:
            raise self.short()
        token = self.data[p:end].decode("ascii")
        # pyHanko's constructors on the same text: where they raise, the fallback does too
        return (_FloatObject(token) if "." in token else _NumberObject(token)), end

    def reference(self, m: re.Match[bytes], p: int) -> tuple[Any, int]:
        """IndirectObject.read_from_stream after INDIRECT_PATTERN matched at ``p``."""
        if b"\x0b" in m.group(0):
            raise _Fallback()  # isspace() and read_non_whitespace() disagree on it
        idnum, generation = int(m.group(1)), int(m.group(2))
        if idnum <= 0:
            raise _Fallback()
        obj = _IndirectObject(idnum, generation, self.cref.get_pdf_handler())
        return obj, p + m.end() - 1  # up to and including the 'R'

    def hex_string(self, p: int) -> tuple[Any, int]:
        end = self.data.find(b">", p + 1)
        if end < 0:
            raise self.short()
        body = self.data[p + 1:end]
        if b"%" in body:
            raise _Fallback()
        digits = body.translate(None, _WS)
        if not _HEX.fullmatch(digits):
            raise _Fallback()
        if len(digits) % 2:
            digits += b"0"
        return generic.pdf_string(binascii.unhexlify(digits)), end + 1

    def literal_string(self, p: int) -> tuple[Any, int]:
        """_read_string_literal_bytes: balanced parentheses, backslash escapes."""
        data, n = self.data, self.n
        m = _STRING_SIMPLE.match(data, p)
        if m is not None:
            body = m.group(1)
            if b"\\" not in body:
                return generic.pdf_string(body), m.end()
            if _STRING_VERBATIM_ESCAPE.search(body) is None:
                return generic.pdf_string(escape_decode(body)[0]), m.end()
        parts: list[bytes] = []
        q = seg = p + 1
        depth = 1
        while True:
            m = _STRING_SPECIAL.search(data, q)
            if m is None:
                raise self.short()
            i = m.start()
            c = data[i]
            if c == 0x28:
                depth += 1
                q = i + 1
                continue
            if c == 0x29:
                depth -= 1
                q = i + 1
                if depth == 0:
                    parts.append(data[seg:i])
                    break
                continue
            parts.append(data[seg:i])  # a backslash
            if i + 1 >= n:
                raise self.short()
            e = data[i + 1]
            if e in _STRING_VERBATIM:
                parts.append(data[i + 1:i + 2])
                q = i + 2
            elif e in _STRING_CONTROL:
                parts.append(_STRING_CONTROL[e])
                q = i + 2
            elif 0x30 <= e <= 0x39:  # up to three digits, octal
                q = i + 2
                while q < i + 4:
                    if q >= n:
                        raise self.short()
                    if not 0x30 <= data[q] <= 0x39:
                        break
                    q += 1
                value = int(data[i + 1:q], 8)  # 8 or 9: ValueError, as pyHanko's
                if value > 255:
                    raise _Fallback()  # pyHanko: bytes((value,)) raises
                parts.append(bytes((value,)))
            elif e == 0x0A or e == 0x0D:  # an escaped line break, one more CR or LF with it
                q = i + 2
                if q >= n:
                    raise self.short()
                if data[q] == 0x0A or data[q] == 0x0D:
                    q += 1
            else:
                raise _Fallback()  # "Unexpected escaped string"
            seg = q
        return generic.pdf_string(b"".join(parts)), q

    def array(self, p: int, depth: int) -> tuple[Any, int]:
        m = _W_ARRAY.match(self.data, p)
        if m is not None:  # integers only: no references (a skeleton keeps none of them)
            return (_ArrayObject() if self.skeleton else self.w_array(m.group(0))), m.end()
        items: list[Any] = []
        p += 1
        while True:
            p = self.skip_ws(p)
            if self.data[p] == 0x5D:  # ]
                return _ArrayObject(items), p + 1
            obj, p = self.value(p, depth + 1)
            items.append(obj)

    def w_array(self, text: bytes) -> Any:
        """The objects of a :data:`_W_ARRAY` match, as value() and array() build them."""
        cref = self.cref
        outer: list[Any] = []
        current = outer
        for token in _W_TOKEN.findall(text[1:-1]):
            if token == b"[":
                current = []
            elif token == b"]":
                inner = _ArrayObject(current)
                inner.container_ref = cref
                outer.append(inner)
                current = outer
            else:
                item = _NumberObject(token)
                item.container_ref = cref
                current.append(item)
        return _ArrayObject(outer)

    def dictionary(self, p: int, depth: int) -> tuple[Any, int]:
        data = self.data
        handler = self.cref.get_pdf_handler()
        entries: dict[Any, Any] = {}
        p += 2
        while True:
            p = self.skip_ws(p)
            c = data[p]
            if c == 0x3E:  # >
                if p + 1 >= self.n:
                    raise self.short()
                if data[p + 1] != 0x3E:
                    raise _Fallback()  # pyHanko accepts any byte after the first '>'
                p += 2
                break
            if c != 0x2F:
                raise _Fallback()
            key, p = self.name(p)
            p = self.skip_ws(p)
            value, p = self.value(p, depth + 1)
            if key in entries:
                raise _Fallback()  # first kept, or PdfStrictReadError: pyHanko decides
            entries[key] = value
        # _maybe_read_stream_payload: read_non_whitespace(allow_eof=True), then 'stream'?
        q = _WS_RUN.match(data, p).end()  # type: ignore[union-attr]
        if q >= self.n:
            if not self.at_eof:
                raise _NeedMore()
        elif data[q] == 0x25:
            raise _Fallback()
        elif data[q] == 0x73:  # s
            if q + 6 > self.n and not self.at_eof:
                raise _NeedMore()
            if data[q:q + 6] == b"stream":
                return _Stream(entries, p, handler), p
        return _DictionaryObject(entries), p


def read_object(
    stream: Any,
    container_ref: Any,
    as_metadata_stream: bool = False,
    in_content_stream: Any = _NO,
) -> Any:
    """``generic.read_object``, the same answer; unusual input goes to the original."""
    if as_metadata_stream or in_content_stream is not _NO:
        return ORIGINAL_READ_OBJECT(stream, container_ref, as_metadata_stream, in_content_stream)
    start = stream.tell()
    size = _WINDOW
    data = stream.read(size)
    while True:
        at_eof = False
        while len(data) < size:
            more = stream.read(size - len(data))
            if not more:
                at_eof = True
                break
            data += more
        try:
            if not data:
                raise _Fallback()
            obj, end = _Parser(data, at_eof, container_ref).value(0, 0)
            if isinstance(obj, _Stream):
                stream.seek(start + end)
                # pyHanko's own code, in the state DictionaryObject.read_from_stream calls it
                payload = generic._maybe_read_stream_payload(  # type: ignore[no-untyped-call]
                    stream, obj.data, obj.handler)
                if payload is None:
                    raise _Fallback()
                obj = _StreamObject(obj.data, encoded_data=payload)
                obj.container_ref = container_ref
                return obj
        except _NeedMore:
            if size >= _MAX_WINDOW:
                break
            size *= 2
            continue
        except Exception:
            break
        stream.seek(start + end)
        return obj
    stream.seek(start)
    return ORIGINAL_READ_OBJECT(stream, container_ref, as_metadata_stream, in_content_stream)


# -- reference skeletons, for walks over the object graph ---------------------------------

class _NoHandler:
    """The handler of skeleton references: they name objects, they resolve nothing (and
    keep no file alive)."""

    strict = False

    def get_object(self, ref: Any, *args: Any, **kwargs: Any) -> Any:
        raise LookupError(f"a skeleton reference resolves nothing: {ref}")


_NO_HANDLER = _NoHandler()
# "N G obj" as pyHanko's read_object_header reads it when nothing is unusual: digits, PDF
# whitespace, digits, one whitespace byte (read_until_whitespace consumes it), "obj".
_HEADER = re.compile(rb"([0-9]+)[ \n\r\t\x0c\x00]+([0-9]+)[ \n\r\t\x0c\x00]obj")
_SKELETONS: dict[bytes, Any] = {}
_SKELETON_BYTES = [0]
_SKELETON_LIMIT = 32 << 20  # bytes of remembered object text (cleared when exceeded)


# After a stream's payload: whitespace, "endstream", whitespace, and then the "endobj".
_ENDSTREAM = re.compile(rb"[ \n\r\t\x0c\x00]*endstream[ \n\r\t\x0c\x00]*")


def _stream_dictionary(data: bytes, found: _Stream, end: int, end_marker: int) -> Any:
    """A stream's dictionary (what a walk over references needs of it) when the stream
    is the plain kind pyHanko reads without a doubt: a direct, non-negative /Length,
    ``stream`` and one end of line (LF or CR LF), exactly that many bytes, whitespace,
    ``endstream``, whitespace and the object's first ``endobj`` - so the bytes up to that
    ``endobj`` (the skeleton's key) hold the whole stream. None otherwise."""
    length: Any = found.data.get("/Length")
    if type(length) is not _NumberObject or length < 0:
        return None
    q = _WS_RUN.match(data, end).end()  # type: ignore[union-attr]
    if data[q:q + 6] != b"stream":
        return None
    q += 6
    if data[q:q + 2] == b"\r\n":
        q += 2
    elif data[q:q + 1] == b"\n":
        q += 1
    else:
        return None
    payload_end = q + int(length)
    tail = _ENDSTREAM.match(data, payload_end)
    if payload_end > end_marker or tail is None or tail.end() != end_marker:
        return None
    return _DictionaryObject(found.data)


def read_skeleton(data: bytes, offset: int, idnum: int, generation: int) -> Any:
    """The object ``idnum generation`` at ``offset`` of ``data`` as a graph walk needs it:
    the same dictionaries, arrays, references and keys as pyHanko's ``_read_object``
    gives, except that arrays of integers (and /W-shaped arrays of them, which hold no
    references) are empty, a stream is its dictionary (see :func:`_stream_dictionary`)
    and the references resolve nothing. None - read the object with pyHanko - for an
    object stream entry and anything the fast parser does not answer or that is in the
    least unusual (a header other than ``N G obj``, another object's numbers, no
    ``endobj``, anything but whitespace before it, a stream of any other shape).

    Remembered process-wide by the object's bytes (header to ``endobj``): the same
    bytes are the same skeleton, and the parse never looks past the ``endobj`` (a
    reference needs an ``R``, a dictionary looks for ``stream``). A skeleton holds no
    reference to any file. Callers must not modify it.
    """
    header = _HEADER.match(data, offset)
    if header is None or int(header[1]) != idnum or int(header[2]) != generation:
        return None
    end_marker = data.find(b"endobj", header.end())
    if end_marker < 0:
        return None
    key = data[offset:end_marker]
    found = _SKELETONS.get(key)
    if found is not None:
        return found
    start = _WS_RUN.match(data, header.end()).end()  # type: ignore[union-attr]
    if start >= end_marker:
        return None
    cref = generic.Reference(idnum, generation, _NO_HANDLER)
    try:
        obj, end = _Parser(data, True, cref, skeleton=True).value(start, 0)
    except Exception:  # noqa: BLE001 - pyHanko decides
        return None
    if isinstance(obj, _Stream):
        obj = _stream_dictionary(data, obj, end, end_marker)
        if obj is None:
            return None
    elif end > end_marker or _WS_RUN.match(data, end).end() != end_marker:  # type: ignore[union-attr]
        return None
    obj.container_ref = cref
    if _SKELETON_BYTES[0] + len(key) > _SKELETON_LIMIT:
        _SKELETONS.clear()
        _SKELETON_BYTES[0] = 0
    _SKELETONS[key] = obj
    _SKELETON_BYTES[0] += len(key)
    return obj


def install() -> None:
    """Idempotent: pyHanko's generic module (and whoever looks names up there) uses these."""
    if generic.read_hex_string_from_stream is not read_hex_string_from_stream:
        generic.read_hex_string_from_stream = read_hex_string_from_stream
    if generic.read_object is not read_object:
        generic.read_object = read_object

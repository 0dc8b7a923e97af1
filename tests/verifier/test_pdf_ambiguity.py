"""Updates after a signature that readers can read two ways (verifier/pdf_ambiguity.py):
each rule against an update a forger appends to our signed record, both orders where
pyHanko's choice decides which reading it sees, and the controls that must stay clean
(an honest rewrite, a comment before endobj, our own B-LTA records, every corpus PDF)."""
from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from tests import tooling
from tests.pdf_updates import OVERLAY, Doc, append, stream_obj
from verifier.core import Verifier
from verifier.pdf_ambiguity import ambiguity_after


def _ambiguity(pdf: bytes, after: int = 0) -> str | None:
    return ambiguity_after(PdfFileReader(io.BytesIO(pdf), strict=False), after)


def _overlay_page(d: Doc, page: bytes) -> list[tuple[int, int, bytes]]:
    return [(d.size, 0, stream_obj(OVERLAY)), (d.page_ref.idnum, 0, page)]


def _dup_contents(evil_last: bool) -> Callable[[Doc], bytes]:
    """The page with /Contents twice: the signed value and the overlay's array."""
    def build(d: Doc) -> bytes:
        signed = b"/Contents " + d.ser(d.contents)
        evil = b"/Contents " + d.contents_plus(b"%d 0 R" % d.size)
        first, second = (signed, evil) if evil_last else (evil, signed)
        page = d.page_with(Contents=None)[:-2] + first + b"\n" + second + b"\n>>"
        return append(d, _overlay_page(d, page))
    return build


def _nested_dup(d: Doc) -> bytes:
    page = d.page_with(Resources=b"<< /ProcSet [/PDF] /ProcSet [/PDF /Text] >>")
    return append(d, [(d.page_ref.idnum, 0, page)])


def _xref_twice(evil_first: bool, xref: str) -> Callable[[Doc], bytes]:
    def build(d: Doc) -> bytes:
        evil = d.page_with(Contents=d.contents_plus(b"%d 0 R" % d.size))
        honest = d.page_with()
        objs = [(d.size, 0, stream_obj(OVERLAY)), (d.page_ref.idnum, 0, evil),
                (d.page_ref.idnum, 0, honest)]
        # append() lists the last body written for a number; the extra entry names the other
        return append(d, objs, xref=xref, dup_entries=[(d.page_ref.idnum, 0, 1 if not evil_first
                                                        else 2)])
    return build


def _trailer_root_twice(d: Doc) -> bytes:
    n = d.size
    catalog = d.reader.root
    body = b"<<" + b"\n".join(d.ser(k) + b" " + d.ser(catalog.raw_get(k)) for k in catalog) \
        + b"\n/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >> >>"
    return append(d, [(n, 0, body)], trailer_extra=b" /Root %d 0 R" % n)


def _junk_before_endobj(d: Doc) -> bytes:
    evil = d.page_with(Contents=d.contents_plus(b"%d 0 R" % d.size))
    return append(d, _overlay_page(d, d.page_with() + b"\n" + evil))


def _objstm_variant(header_twice: bool) -> Callable[[Doc], bytes]:
    def build(d: Doc) -> bytes:
        a, b = d.size, d.size + 1
        pdf = append(d, [(a, 0, b"<< /Hocba (a) >>"), (b, 0, b"<< /Hocba (b) >>")],
                     objstm=True)
        head = b"%d 0 %d 17 " % (a, b)
        assert head in pdf, "object stream header as append() writes it"
        new = (b"%d 0 %d 17 " % (a, a)) if header_twice else (b"%d 0 %d 17 " % (b, a))
        return pdf.replace(head, new, 1)  # same length: offsets stay right
    return build


def _body_inside_stream_data(d: Doc) -> bytes:
    """An honest-looking new stream (listed) whose data holds an evil page body: what a
    reader that rebuilds the file by scanning would take as the page."""
    evil = b"%d 0 obj\n" % d.page_ref.idnum + d.page_with(
        Contents=d.contents_plus(b"%d 0 R" % d.size)) + b"\nendobj\n"
    return append(d, [(d.size, 0, stream_obj(OVERLAY)), (d.size + 1, 0, stream_obj(evil))])


def _body_inside_string(d: Doc) -> bytes:
    hidden = b"(\n%d 0 obj << /Type /Page >> endobj\n)" % d.page_ref.idnum
    return append(d, [(d.size, 0, b"<< /Hocba " + hidden + b" >>")])


AMBIGUOUS = {
    "object_body_inside_stream_data": (_body_inside_stream_data, "does not list"),
    "object_body_inside_a_string": (_body_inside_string, "does not list"),
    "key_twice_evil_last": (_dup_contents(True), "defines a key twice"),
    "key_twice_evil_first": (_dup_contents(False), "defines a key twice"),
    "key_twice_nested": (_nested_dup, "defines a key twice"),
    "xref_table_lists_object_twice_evil_first": (_xref_twice(True, "table"), "twice"),
    "xref_table_lists_object_twice_evil_last": (_xref_twice(False, "table"), "twice"),
    "trailer_root_twice": (_trailer_root_twice, "defines a key twice"),
    "second_value_before_endobj": (_junk_before_endobj, "other than endobj"),
    "object_stream_header_lists_object_twice": (_objstm_variant(True), "twice"),
    "object_stream_index_names_another_object": (_objstm_variant(False), "index"),
}


@pytest.mark.parametrize("attack", sorted(AMBIGUOUS))
def test_ambiguous_update_is_found(two_signed: bytes, attack: str) -> None:
    build, words = AMBIGUOUS[attack]
    pdf = build(Doc(two_signed))
    assert _ambiguity(two_signed) is None
    found = _ambiguity(pdf)
    assert found is not None and words in found, found
    # the revisions before the update are clean: only what follows the signatures counts
    n = PdfFileReader(io.BytesIO(pdf), strict=False).xrefs.total_revisions
    assert _ambiguity(pdf, n - 1) is None


@pytest.mark.parametrize("attack", ["key_twice_evil_last",
                                    "xref_table_lists_object_twice_evil_first",
                                    "second_value_before_endobj"])
def test_ambiguous_update_fails_every_signature(two_signed: bytes, verifier: Verifier,
                                                attack: str) -> None:
    pdf = AMBIGUOUS[attack][0](Doc(two_signed))
    d = verifier.verify(pdf, name="hs.pdf").to_dict("vi")
    assert d["indication"] == "TOTAL_FAILED", d["indication"]
    assert [s["modifications_after"] for s in d["signatures"]] == ["other", "other"]


def test_xref_stream_listing_an_object_twice_is_refused(two_signed: bytes,
                                                       verifier: Verifier) -> None:
    """pyHanko itself refuses an xref stream whose /Index goes back (its subsections must
    increase): the file is not read at all, so nothing is shown two ways."""
    pdf = _xref_twice(True, "stream")(Doc(two_signed))
    d = verifier.verify(pdf, name="hs.pdf").to_dict("en")
    assert (d["indication"], d["subindication"]) == ("TOTAL_FAILED", "FORMAT_FAILURE")


def _honest_rewrite(d: Doc) -> bytes:
    return append(d, [(d.page_ref.idnum, 0, d.page_with())])


def _comment_before_endobj(d: Doc) -> bytes:
    return append(d, [(d.page_ref.idnum, 0, d.page_with() + b"\n% written by hand\n")])


def _padding_after_eof(d: Doc) -> bytes:
    return d.pdf + b"\r\n\x00\x00   \n"  # what some producers leave after %%EOF


@pytest.mark.parametrize("build", [_honest_rewrite, _comment_before_endobj, _padding_after_eof],
                         ids=["honest_rewrite", "comment_before_endobj", "padding_after_eof"])
def test_unambiguous_update_is_not_flagged(two_signed: bytes, build: Any) -> None:
    assert _ambiguity(build(Doc(two_signed))) is None


def test_our_records_are_clean(lta_record: bytes) -> None:
    """Every revision of a B-LTA record (signatures, DSS, document timestamp)."""
    assert PdfFileReader(io.BytesIO(lta_record), strict=False).xrefs.total_revisions > 3
    assert _ambiguity(lta_record) is None


def test_corpus_intact_files_are_clean() -> None:
    """Other software's signed PDFs: no revision of an intact file is ambiguous."""
    checked = 0
    for path in sorted((tooling.corpus_dir() / "pdf" / "intact").glob("*.pdf")):
        try:
            reader = PdfFileReader(io.BytesIO(path.read_bytes()), strict=False)
            reader.xrefs.total_revisions  # noqa: B018
        except Exception:  # noqa: BLE001 - unreadable: the corpus test judges it
            continue
        assert ambiguity_after(reader, 0) is None, path.name
        checked += 1
    assert checked >= 20

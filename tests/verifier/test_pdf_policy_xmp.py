"""XMP metadata after a signature (verifier.pdf_policy.RecordXmpRule).

Only xmp:ModifyDate, xmp:MetadataDate, pdf:Producer and xmpMM:InstanceID may change
after a signature; dc:title & co. are what readers show as the document's title and
author, so any other change, addition or removal is ``modifications_after == "other"``.
The records PDF carries no XMP, so the fixture adds an Adobe-style packet (three
rdf:Description blocks, attribute and element forms, comments, padding) before signing:
pyHanko's signing re-serialises it into one rdf:Description, which must still pass.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader

from certs.pki import PkiLayout
from ground.config import Config
from ground.vocab import Indication
from ground.xmlsafe import XmlFormatError
from verifier.core import Verifier
from verifier.pdf_policy import XMP_PROPS_UPDATABLE, xmp_properties
from tests.signing import sign_one

N = generic.NameObject
TITLE = "Học bạ số – Nguyễn Văn An"
XMP = ('''<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 5.6-c015">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <!-- written by another tool -->
  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/"
     xmp:CreateDate="2025-05-30T12:00:00+07:00" xmp:ModifyDate="2025-05-30T12:00:00+07:00"
     xmp:MetadataDate="2025-05-30T12:00:00+07:00">
   <xmp:CreatorTool>hocba</xmp:CreatorTool>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">@TITLE@</rdf:li></rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>Trường Tiểu học Lê Quý Đôn</rdf:li></rdf:Seq></dc:creator>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
     xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/">
   <pdf:Producer>hocba records</pdf:Producer>
   <xmpMM:DocumentID>uuid:0b7c1c3e-1111-2222-3333-444455556666</xmpMM:DocumentID>
   <xmpMM:InstanceID>uuid:0b7c1c3e-1111-2222-3333-444455556667</xmpMM:InstanceID>
  </rdf:Description>@EXTRA@
 </rdf:RDF>
</x:xmpmeta>
''' + " " * 512 + '\n<?xpacket end="w"?>')


def packet(title: str = TITLE, extra: str = "", **replace: str) -> bytes:
    s = XMP.replace("@TITLE@", title).replace("@EXTRA@", extra)
    for old, new in replace.items():
        s = s.replace(old, new)
    return s.encode("utf-8")


def _write(w: IncrementalPdfFileWriter) -> bytes:
    # pyHanko's writer would re-serialise (or replace) a /Metadata stream it did not
    # make itself; a forger's or another vendor's tool writes the bytes as they are.
    w._update_meta = lambda: None  # type: ignore[method-assign]
    out = io.BytesIO()
    w.write(out)  # type: ignore[no-untyped-call]
    return out.getvalue()


def xmp_stream(data: bytes) -> generic.StreamObject:
    return generic.StreamObject({N("/Type"): N("/Metadata"), N("/Subtype"): N("/XML")},
                                stream_data=data)


def with_xmp(pdf: bytes, data: bytes) -> bytes:
    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    w.root[N("/Metadata")] = w.add_object(xmp_stream(data))
    w.update_root()
    return _write(w)


def latest_xmp(pdf: bytes) -> bytes:
    r = PdfFileReader(io.BytesIO(pdf), strict=False)
    ref = r.root.raw_get("/Metadata").reference
    return bytes(r.get_object(ref).data)


def _sign(test_pki: PkiLayout, test_config: Config, pin: str, data: bytes, role: str) -> bytes:
    return sign_one(test_config, test_pki, data, role, name="r.pdf", pin=pin)


@pytest.fixture(scope="module")
def xmp_record(trust_services: Any, test_pki: PkiLayout, test_config: Config, pin: str) -> bytes:
    """A sample record with XMP, signed by teacher and principal with signer.api.sign_bytes."""
    from recordbook.pdf import render_pdf
    from recordbook.sample import sample_record

    pdf = with_xmp(render_pdf(sample_record(5)), packet())
    pdf = _sign(test_pki, test_config, pin, pdf, "teacher")
    return _sign(test_pki, test_config, pin, pdf, "principal")


def _verdict(v: Verifier, pdf: bytes) -> Any:
    rep = v.verify(pdf, name="r.pdf")
    return rep, [s.modifications_after for s in rep.signatures]


def test_own_signer_output_with_xmp_passes(verifier: Verifier, xmp_record: bytes) -> None:
    # pyHanko's signing rewrote the packet (one rdf:Description, new ModifyDate/Producer)
    # and kept every other property: that is what the rule has to accept.
    signed_xmp = latest_xmp(xmp_record)
    assert signed_xmp != packet() and TITLE.encode() in signed_xmp
    assert b"pyHanko" in signed_xmp
    rep, mods = _verdict(verifier, xmp_record)
    assert rep.indication is Indication.TOTAL_PASSED, rep.to_dict("en")
    assert mods == ["signatures_only", "none"], rep.to_dict("en")


def _edit_in_place(pdf: bytes, data: bytes) -> bytes:
    """The signed /Metadata object number rewritten with new bytes (catalog untouched)."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    ref = w.root.raw_get("/Metadata")
    w.mark_update(ref)
    obj = ref.get_object()
    obj._data = data
    obj._encoded_data = None
    obj.pop("/Filter", None)
    obj.pop("/DecodeParms", None)
    return _write(w)


def _edit_new_object(pdf: bytes, data: bytes) -> bytes:
    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    w.root[N("/Metadata")] = w.add_object(xmp_stream(data))
    w.update_root()
    return _write(w)


def _remove(pdf: bytes) -> bytes:
    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    del w.root["/Metadata"]
    w.update_root()
    return _write(w)


FORGED = "Học bạ số – Nguyễn Giả Mạo"
ATTACKS: dict[str, Callable[[bytes], bytes]] = {
    "dc_title_changed_in_place": lambda pdf: _edit_in_place(pdf, packet(FORGED)),
    "dc_title_changed_new_object": lambda pdf: _edit_new_object(pdf, packet(FORGED)),
    "dc_title_second_description": lambda pdf: _edit_in_place(pdf, packet(extra=(
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<dc:title><rdf:Alt><rdf:li xml:lang="vi">{FORGED}</rdf:li></rdf:Alt></dc:title>'
        '</rdf:Description>'))),
    "dc_rights_added": lambda pdf: _edit_in_place(pdf, packet(extra=(
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'dc:rights="Đã duyệt lại"/>'))),
    "dc_creator_removed": lambda pdf: _edit_in_place(pdf, packet(**{
        "<dc:creator><rdf:Seq><rdf:li>Trường Tiểu học Lê Quý Đôn</rdf:li></rdf:Seq>"
        "</dc:creator>": ""})),
    "non_description_content_added": lambda pdf: _edit_in_place(pdf, packet(
        extra='<dc:title xmlns:dc="http://purl.org/dc/elements/1.1/">x</dc:title>')),
    "not_xml": lambda pdf: _edit_in_place(pdf, b"Diem Toan: 10"),
    "xmp_removed": _remove,
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_xmp_changed_after_signing_is_a_modification(
        verifier: Verifier, xmp_record: bytes, attack: str) -> None:
    rep, mods = _verdict(verifier, ATTACKS[attack](xmp_record))
    assert rep.indication is not Indication.TOTAL_PASSED, rep.to_dict("en")
    assert mods[-1] == "other", rep.to_dict("en")


def test_xmp_with_content_added_after_signing_is_a_modification(
        verifier: Verifier, two_signed: bytes) -> None:
    """The signed record has no XMP; XMP carrying a dc:title is added afterwards."""
    assert b"/Metadata" not in two_signed
    rep, mods = _verdict(verifier, _edit_new_object(two_signed, packet(FORGED)))
    assert rep.indication is not Indication.TOTAL_PASSED, rep.to_dict("en")
    assert mods[-1] == "other", rep.to_dict("en")


def test_xmp_bookkeeping_update_after_signing_passes(verifier: Verifier,
                                                     xmp_record: bytes) -> None:
    """What signing software changes (dates, producer, instance id), in another tool's
    serialisation (three rdf:Description blocks again), stays allowed."""
    data = packet(**{
        "xmp:ModifyDate=\"2025-05-30T12:00:00+07:00\"": "xmp:ModifyDate=\"2026-01-02T03:04:05Z\"",
        "xmp:MetadataDate=\"2025-05-30T12:00:00+07:00\"":
            "xmp:MetadataDate=\"2026-01-02T03:04:05Z\"",
        "<pdf:Producer>hocba records</pdf:Producer>": "<pdf:Producer>Other 1.0</pdf:Producer>",
        "444455556667</xmpMM:InstanceID>": "999999999999</xmpMM:InstanceID>",
    })
    rep, mods = _verdict(verifier, _edit_in_place(xmp_record, data))
    assert rep.indication is Indication.TOTAL_PASSED, rep.to_dict("en")
    assert mods == ["signatures_only", "signatures_only"], rep.to_dict("en")


def test_bookkeeping_only_xmp_added_after_signing_passes(verifier: Verifier,
                                                         two_signed: bytes) -> None:
    """pyHanko adds such a packet when it signs a PDF 2.0 file without XMP."""
    data = (b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
            b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            b'<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
            b'xmlns:pdf="http://ns.adobe.com/pdf/1.3/" xmp:ModifyDate="2026-01-02T03:04:05Z" '
            b'pdf:Producer="pyHanko 0.38.0"/></rdf:RDF></x:xmpmeta><?xpacket end="r"?>')
    rep, mods = _verdict(verifier, _edit_new_object(two_signed, data))
    assert rep.indication is Indication.TOTAL_PASSED, rep.to_dict("en")
    assert mods[-1] == "signatures_only", rep.to_dict("en")


# --- the XMP reader itself -------------------------------------------------------------------

def test_xmp_properties_reads_xpacket_and_ignores_serialisation() -> None:
    a = xmp_properties(packet())
    # the same metadata, one rdf:Description, attribute form, other prefixes, no padding
    b = xmp_properties(
        b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><r:RDF xmlns:r="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<r:Description xmlns:a="http://ns.adobe.com/xap/1.0/" xmlns:d="http://purl.org/dc/elements/1.1/" '
        b'xmlns:p="http://ns.adobe.com/pdf/1.3/" xmlns:m="http://ns.adobe.com/xap/1.0/mm/" '
        b'a:CreateDate="2025-05-30T12:00:00+07:00" a:CreatorTool="hocba" d:format="application/pdf" '
        b'm:DocumentID="uuid:0b7c1c3e-1111-2222-3333-444455556666">'
        b'<d:creator><r:Seq><r:li>Tr\xc6\xb0\xe1\xbb\x9dng Ti\xe1\xbb\x83u h\xe1\xbb\x8dc L\xc3\xaa Qu\xc3\xbd '
        b'\xc4\x90\xc3\xb4n</r:li></r:Seq></d:creator>'
        b'<d:title><r:Alt><r:li xml:lang="x-default">' + TITLE.encode() + b'</r:li></r:Alt></d:title>'
        b'</r:Description></r:RDF></x:xmpmeta><?xpacket end="r"?>')
    strip = lambda p: {k: v for k, v in p.items() if k not in XMP_PROPS_UPDATABLE}  # noqa: E731
    assert strip(a) == strip(b)
    assert strip(a) != strip(xmp_properties(packet(FORGED)))


@pytest.mark.parametrize("data", [
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "dc">]><x:xmpmeta xmlns:x="adobe:ns:meta/"/>',
    b"not xml",
    b'<html/>',
], ids=["dtd", "text", "not_xmp"])
def test_xmp_properties_refuses_non_xmp(data: bytes) -> None:
    with pytest.raises((XmlFormatError, ValueError)):
        xmp_properties(data)

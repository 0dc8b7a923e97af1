"""PDF records made by other software, each class both ways: the genuine file is
accepted (never called changed), its forged twin refused. Files are made here with
pyHanko (and cryptography), never with hocba's signer."""
from __future__ import annotations

import io
from typing import Any

import pytest
from asn1crypto import algos
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import pkcs12

from ground.vocab import Indication, SubIndication
from tests.redteam.conftest import PIN, VgPki, pyhanko_sign, pyhanko_signer
from verifier.core import Verifier

pytestmark = pytest.mark.slow  # end to end: not in the fast suite (pytest -m "not slow")

I, S = Indication, SubIndication


def _content_flip(pdf: bytes) -> bytes:
    """Change one byte of the first page's content stream inside the first signature's
    /ByteRange: the signed bytes no longer match."""
    i = pdf.index(b"stream", pdf.index(b"/Contents", 0) if b"/Contents" in pdf else 0)
    i = pdf.index(b"BT", i)  # text object in the page content
    return pdf[:i] + b"bt" + pdf[i + 2:]


class PlainEcdsaSigner:
    """pyHanko's SimpleSigner writing BSI TR-03111 plain ECDSA (r || s, OID
    ecdsa-plain-SHA384), as German/Slovak signature cards do."""

    def __new__(cls, p12: Any) -> Any:
        from pyhanko.sign import signers

        base = pyhanko_signer(p12)
        key, _, _ = pkcs12.load_key_and_certificates(p12.read_bytes(), PIN.encode())
        assert isinstance(key, ec.EllipticCurvePrivateKey)

        class _Signer(signers.SimpleSigner):  # type: ignore[misc]
            def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
                r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA384())))
                n = (key.curve.key_size + 7) // 8
                return r.to_bytes(n, "big") + s.to_bytes(n, "big")

        return _Signer(signing_cert=base.signing_cert, signing_key=base.signing_key,
                       cert_registry=base.cert_registry,
                       signature_mechanism=algos.SignedDigestAlgorithm(
                           {"algorithm": "0.4.0.127.0.7.1.1.4.1.4"}))


class UnknownAlgorithmSigner:
    """A signature under an algorithm no verifier here implements (ML-DSA-44's OID,
    arbitrary value): nothing can say whether the value is right."""

    def __new__(cls, p12: Any) -> Any:
        from pyhanko.sign import signers

        base = pyhanko_signer(p12)

        class _Signer(signers.SimpleSigner):  # type: ignore[misc]
            def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
                return bytes(2420)

        return _Signer(signing_cert=base.signing_cert, signing_key=base.signing_key,
                       cert_registry=base.cert_registry,
                       signature_mechanism=algos.SignedDigestAlgorithm(
                           {"algorithm": "2.16.840.1.101.3.4.3.17"}))


@pytest.fixture(scope="module")
def plain_ecdsa_pdf(record_pdf: bytes, vg_pki: VgPki, vg_services: Any) -> bytes:
    return pyhanko_sign(record_pdf, PlainEcdsaSigner(vg_pki.p12("teacher")), "Sig_teacher",
                        md="sha384", tsa_url=vg_pki.tsa_url)


def test_plain_ecdsa_bsi_signature_from_pyhanko_passes(
        vg_only_teacher_verifier: Verifier, plain_ecdsa_pdf: bytes) -> None:
    r = vg_only_teacher_verifier.verify(plain_ecdsa_pdf, name="plain-ecdsa.pdf")
    assert r.signatures[0].integrity is True
    assert r.indication is I.TOTAL_PASSED, r.to_dict("en")


def test_plain_ecdsa_forged_twin_content_changed_fails(
        vg_only_teacher_verifier: Verifier, plain_ecdsa_pdf: bytes) -> None:
    r = vg_only_teacher_verifier.verify(_content_flip(plain_ecdsa_pdf), name="forged.pdf")
    assert r.signatures[0].integrity is False
    assert r.indication is I.TOTAL_FAILED


def test_unknown_signature_algorithm_is_unknown_integrity_not_forgery(
        vg_only_teacher_verifier: Verifier, record_pdf: bytes, vg_pki: VgPki) -> None:
    pdf = pyhanko_sign(record_pdf, UnknownAlgorithmSigner(vg_pki.p12("principal")),
                       "Sig_teacher")
    r = vg_only_teacher_verifier.verify(pdf, name="mldsa.pdf")
    s = r.signatures[0]
    assert s.integrity is None
    assert (s.indication, s.subindication) == (I.INDETERMINATE, S.CRYPTO_CONSTRAINTS_FAILURE)
    d = r.to_dict("vi")
    assert d["signatures"][0]["integrity"] is None
    assert "Không kiểm tra được" in d["signatures"][0]["findings"][0]
    # its forged twin: the digest is checkable without the algorithm, and does not match
    f = vg_only_teacher_verifier.verify(_content_flip(pdf), name="mldsa-forged.pdf")
    assert f.signatures[0].integrity is False and f.indication is I.TOTAL_FAILED


def _rewrite_vri(pdf: bytes, *, also_change_page: bool = False) -> bytes:
    """Another validator's update: /DSS /VRI rebuilt (every entry a new object with a
    /TU), as EU DSS or Acrobat do when they add their validation data."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    dss_ref = w.root.raw_get("/DSS")
    dss = dss_ref.get_object()
    old_vri = dss["/VRI"]
    new_vri = generic.DictionaryObject()
    for key in old_vri.keys():
        entry = generic.DictionaryObject(dict(old_vri[key].items()))
        entry[generic.NameObject("/TU")] = generic.pdf_date(
            __import__("datetime").datetime.now(__import__("datetime").timezone.utc))
        new_vri[generic.NameObject(key)] = w.add_object(entry)
    dss[generic.NameObject("/VRI")] = w.add_object(new_vri)
    if isinstance(dss_ref, generic.IndirectObject):
        w.mark_update(dss_ref)
    else:
        w.update_root()
    if also_change_page:
        page_ref = w.root["/Pages"]["/Kids"].raw_get(0)
        page = page_ref.get_object()
        stream = generic.StreamObject(stream_data=b"BT /F1 40 Tf 100 100 Td (10 DIEM) Tj ET")
        page[generic.NameObject("/Contents")] = generic.ArrayObject(
            [page.raw_get("/Contents"), w.add_object(stream)])
        w.mark_update(page_ref)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def lt_vendor_pdf(record_pdf: bytes, vg_pki: VgPki, vg_services: Any) -> bytes:
    from pyhanko.sign import signers, timestamps
    from pyhanko.sign.fields import SigSeedSubFilter
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko_certvalidator import ValidationContext

    from ground.policy import load_certificates

    vc = ValidationContext(trust_roots=list(load_certificates(vg_pki.anchor)),
                           allow_fetching=True)
    pdf = record_pdf
    for label, field in (("teacher", "Sig_teacher"), ("principal", "Sig_principal")):
        w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        pdf = signers.sign_pdf(w, signers.PdfSignatureMetadata(
            field_name=field, subfilter=SigSeedSubFilter.PADES, embed_validation_info=True,
            validation_context=vc, use_pades_lta=False),
            signer=pyhanko_signer(vg_pki.p12(label)),
            timestamper=timestamps.HTTPTimeStamper(vg_pki.tsa_url)).getvalue()
    assert b"/VRI" in pdf
    return pdf


def test_vri_rewritten_by_another_validator_is_not_tampering(
        rt_verifier: Verifier, lt_vendor_pdf: bytes) -> None:
    r = rt_verifier.verify(_rewrite_vri(lt_vendor_pdf), name="vri-rewritten.pdf")
    assert all(s.modifications_after in ("none", "signatures_only") for s in r.signatures), \
        r.to_dict("en")
    assert r.indication is I.TOTAL_PASSED, r.to_dict("en")


def test_vri_rewrite_hiding_a_page_content_change_fails(
        rt_verifier: Verifier, lt_vendor_pdf: bytes) -> None:
    r = rt_verifier.verify(_rewrite_vri(lt_vendor_pdf, also_change_page=True), name="x.pdf")
    assert any(s.modifications_after == "other" for s in r.signatures)
    assert r.indication is I.TOTAL_FAILED

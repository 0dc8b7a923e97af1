"""Records from other vendors under another PKI that the verifier must pass (never call a
valid record forged): pyHanko used directly, signxml, xmlsec1; ECDSA P-384, RSA-3072/4096,
SHA-384/512; intermediates via AIA caIssuers or trust.intermediates."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from ground.vocab import RECORD_NS, Role
from tests.redteam.conftest import PIN, VgPki, pyhanko_sign, pyhanko_signer
from tests.tooling import require_tool
from verifier.core import Verifier
from ground.policy import Policy, load_certificates

pytestmark = pytest.mark.slow  # end to end: not in the fast suite (pytest -m "not slow")


def _summary(rep: Any) -> str:
    d = rep.to_dict("en")
    return f"{d['indication']}/{d['subindication']}: {d['message']} " + "; ".join(
        f"{s['id']}={s['indication']}/{s['subindication']} role={s['role']} {s['findings'][:2]}"
        for s in d["signatures"]) + " checks=" + str([c for c in d["checks"] if not c["passed"]])


def assert_passed(rep: Any) -> None:
    assert rep.indication.value == "TOTAL_PASSED", _summary(rep)


@pytest.fixture(scope="session")
def vendor_pdf(record_pdf: bytes, vg_pki: VgPki, vg_services: Any) -> bytes:
    """Teacher (ECDSA P-384, SHA-384, timestamp of the vendor's TSA) then principal
    (RSA-3072, SHA-512) with pyHanko's sign_pdf, no role attribute, into the record's fields."""
    pdf = pyhanko_sign(record_pdf, pyhanko_signer(vg_pki.p12("teacher")), "Sig_teacher",
                       md="sha384", tsa_url=vg_pki.tsa_url)
    return pyhanko_sign(pdf, pyhanko_signer(vg_pki.p12("principal")), "Sig_principal",
                        md="sha512", tsa_url=vg_pki.tsa_url)


def test_pyhanko_direct_teacher_then_principal_passes(rt_verifier: Verifier, vendor_pdf: bytes) -> None:
    rep = rt_verifier.verify(vendor_pdf, name="vendor.pdf")
    assert_passed(rep)
    assert [s.role for s in rep.signatures] == ["teacher", "principal"]
    assert all(s.claimed_role is None for s in rep.signatures)
    assert rep.record is not None and rep.record.get("student")


def test_pyhanko_direct_seal_rsa4096_new_field_passes(rt_verifier: Verifier, vendor_pdf: bytes,
                                                      vg_pki: VgPki) -> None:
    """A third vendor signature into a NEW field (not one of the record's empty fields)."""
    pdf = pyhanko_sign(vendor_pdf, pyhanko_signer(vg_pki.p12("seal")), "VendorSeal",
                       md="sha256", tsa_url=vg_pki.tsa_url)
    rep = rt_verifier.verify(pdf, name="vendor-seal.pdf")
    assert_passed(rep)
    assert [s.role for s in rep.signatures] == ["teacher", "principal", "seal"]


def test_pyhanko_intermediate_only_via_aia_ca_issuers_passes(
        rt_verifier: Verifier, record_pdf: bytes, vg_pki: VgPki, vg_services: Any) -> None:
    """The principal's sub-CA is not embedded; the certificate's AIA caIssuers points at it."""
    pdf = pyhanko_sign(record_pdf, pyhanko_signer(vg_pki.p12("teacher")), "Sig_teacher",
                       tsa_url=vg_pki.tsa_url)
    pdf = pyhanko_sign(pdf, pyhanko_signer(vg_pki.p12("principal_aia"), embed_chain=False),
                       "Sig_principal", tsa_url=vg_pki.tsa_url)
    rep = rt_verifier.verify(pdf, name="aia.pdf")
    assert_passed(rep)
    assert len(rep.signatures[1].chain) == 3


def test_pyhanko_intermediate_given_as_trust_intermediates_passes(
        rt_policy: Policy, record_pdf: bytes, vg_pki: VgPki, vg_services: Any) -> None:
    """Same, offline path building: the sub-CA is configured in trust.intermediates."""
    pol = rt_policy.replace(intermediates=load_certificates(vg_pki.cert_pem("sub2")),
                            required_roles=(Role.PRINCIPAL,))
    pdf = pyhanko_sign(record_pdf, pyhanko_signer(vg_pki.p12("principal_aia"), embed_chain=False),
                       "Sig_principal", tsa_url=vg_pki.tsa_url)
    rep = Verifier(pol).verify(pdf, name="interm.pdf")
    assert_passed(rep)


def test_pyhanko_crl_only_certificate_without_aia_passes(
        rt_policy: Policy, record_pdf: bytes, vg_pki: VgPki, vg_services: Any) -> None:
    """A certificate with a CRL distribution point and no AIA at all (title 'Teacher')."""
    pdf = pyhanko_sign(record_pdf, pyhanko_signer(vg_pki.p12("teacher_crl_only")), "Sig_teacher",
                       tsa_url=vg_pki.tsa_url)
    rep = Verifier(rt_policy.replace(required_roles=(Role.TEACHER,))).verify(pdf, name="crl.pdf")
    assert_passed(rep)


def test_pyhanko_b_lt_with_embedded_revinfo_passes_offline(
        rt_policy: Policy, record_pdf: bytes, vg_pki: VgPki, vg_services: Any) -> None:
    """pyHanko's own B-LT (embed_validation_info) judged with online fetching disabled."""
    from pyhanko.sign import signers
    from pyhanko_certvalidator import ValidationContext
    from ground.policy import load_certificates as lc

    vc = ValidationContext(trust_roots=list(lc(vg_pki.anchor)), allow_fetching=True)
    pdf = record_pdf
    for label, fld in (("teacher", "Sig_teacher"), ("principal", "Sig_principal")):
        pdf = pyhanko_sign(pdf, pyhanko_signer(vg_pki.p12(label)), fld, md="sha384",
                           tsa_url=vg_pki.tsa_url, embed_validation_info=True,
                           validation_context=vc)
    rep = Verifier(rt_policy.replace(online=False)).verify(pdf, name="lt.pdf")
    assert_passed(rep)
    _ = signers


# --- XML --------------------------------------------------------------------------------------

def _pem_chain(vg: VgPki, label: str, issuer: str = "sub") -> list[str]:
    return [vg.cert_pem(label).read_text(), vg.cert_pem(issuer).read_text()]


def test_signxml_enveloped_teacher_only_passes_with_teacher_policy(
        vg_only_teacher_verifier: Verifier, record_xml: bytes, vg_pki: VgPki, vg_services: Any) -> None:
    from signxml import DigestAlgorithm, SignatureMethod, XMLSigner, methods

    root = etree.fromstring(record_xml)
    signed = XMLSigner(method=methods.enveloped, signature_algorithm=SignatureMethod.ECDSA_SHA384,
                       digest_algorithm=DigestAlgorithm.SHA384).sign(
        root, key=vg_pki.key_pem("teacher").read_bytes(), cert=_pem_chain(vg_pki, "teacher"))
    data = etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
    rep = vg_only_teacher_verifier.verify(data, name="signxml.xml")
    assert_passed(rep)
    assert rep.signatures[0].role == "teacher"
    assert rep.record is not None and rep.record.get("school_year")


def test_signxml_enveloped_rsa3072_sha512_principal_after_teacher_passes(
        rt_verifier: Verifier, record_xml: bytes, vg_pki: VgPki, vg_services: Any) -> None:
    """Two enveloped signatures (the second with an XPath Filter 2.0 excluding the first
    would be the plugtest way; signxml's enveloped transform removes only itself, so the
    principal's signature also covers the teacher's)."""
    from signxml import DigestAlgorithm, SignatureMethod, XMLSigner, methods

    root = etree.fromstring(record_xml)
    root = XMLSigner(method=methods.enveloped, signature_algorithm=SignatureMethod.ECDSA_SHA384,
                     digest_algorithm=DigestAlgorithm.SHA384).sign(
        root, key=vg_pki.key_pem("teacher").read_bytes(), cert=_pem_chain(vg_pki, "teacher"))
    root = XMLSigner(method=methods.enveloped, signature_algorithm=SignatureMethod.RSA_SHA512,
                     digest_algorithm=DigestAlgorithm.SHA512).sign(
        root, key=vg_pki.key_pem("principal").read_bytes(), cert=_pem_chain(vg_pki, "principal"))
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    rep = rt_verifier.verify(data, name="signxml2.xml")
    assert [s.role for s in rep.signatures] == ["teacher", "principal"]
    # The teacher's enveloped signature covered the document without the principal's
    # later signature: the principal's ds:Signature is outside it, which the enveloped
    # transform of the *principal's* signature excludes only for itself.
    assert rep.signatures[1].indication.value == "TOTAL_PASSED", _summary(rep)


XMLSEC_TEMPLATE = """<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="xmlsec-seal">
  <ds:SignedInfo>
    <ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
    <ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"/>
{refs}
  </ds:SignedInfo>
  <ds:SignatureValue/>
  <ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo>
</ds:Signature>"""
REF = """    <ds:Reference URI="#{id}">
      <ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>
      <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha512"/>
      <ds:DigestValue/>
    </ds:Reference>"""


def xmlsec_sign(xml: bytes, vg: VgPki, label: str, tmp: Path) -> bytes:
    root = etree.fromstring(xml)
    ids = [el.get("Id") for el in root if isinstance(el.tag, str) and el.get("Id")]
    tpl = etree.fromstring(XMLSEC_TEMPLATE.format(refs="\n".join(REF.format(id=i) for i in ids)))
    root.append(tpl)
    src = tmp / "tpl.xml"
    src.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    out = tmp / "signed.xml"
    cmd = ["xmlsec1", "--sign", "--output", str(out),
           "--privkey-pem", f"{vg.key_pem(label)},{vg.cert_pem(label)},{vg.cert_pem('sub')}",
           "--id-attr:Id", f"{RECORD_NS}:HocSinh", "--id-attr:Id", f"{RECORD_NS}:NamHoc",
           str(src)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return out.read_bytes()


def test_xmlsec1_id_references_seal_rsa4096_sha512_passes(
        rt_policy: Policy, record_xml: bytes, vg_pki: VgPki, vg_services: Any, tmp_path: Path) -> None:
    require_tool("xmlsec1")
    data = xmlsec_sign(record_xml, vg_pki, "seal", tmp_path)
    rep = Verifier(rt_policy.replace(required_roles=(Role.SEAL,))).verify(data, name="xmlsec.xml")
    assert_passed(rep)
    assert rep.signatures[0].role == "seal"
    assert rep.record is not None and rep.record.get("student")


_ = PIN


def _vg_tsa(vg: VgPki, at: Any) -> Any:
    from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    return DummyTimeStamper(tsa_cert=load_cert_from_pemder(str(vg.cert_pem("tsa"))),
                            tsa_key=load_private_key_from_pemder(str(vg.key_pem("tsa")), None),
                            fixed_dt=at)


@pytest.fixture(scope="session")
def left_pdf(record_pdf: bytes, vg_pki: VgPki) -> bytes:
    """Signed and timestamped (trusted TSA) 5 days before the teacher's certificate was
    revoked for cessationOfOperation (she left the school)."""
    import io
    from datetime import datetime, timedelta, timezone

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    from tests.redteam.conftest import VG_REVOKED_DAYS_AGO

    at = datetime.now(timezone.utc) - timedelta(days=VG_REVOKED_DAYS_AGO + 5)
    w = IncrementalPdfFileWriter(io.BytesIO(record_pdf), strict=False)
    return signers.sign_pdf(w, signers.PdfSignatureMetadata(
        field_name="Sig_teacher", subfilter=SigSeedSubFilter.PADES),
        signer=pyhanko_signer(vg_pki.p12("teacher_left")), timestamper=_vg_tsa(vg_pki, at)).getvalue()


def _cli_verify(tmp: Path, vg: VgPki, test_config_path: Path, files: list[tuple[str, bytes]]
                ) -> list[dict[str, Any]]:
    """A fresh process (nothing cached): ``hocba verify --format json --require-roles teacher``."""
    import json
    import os
    import sys

    paths = []
    for name, data in files:
        (tmp / name).write_bytes(data)
        paths.append(str(tmp / name))
    env = {k: v for k, v in os.environ.items() if k != "HOCBA_CONFIG"}
    r = subprocess.run([str(Path(sys.executable).parent / "hocba"), "verify", "--config",
                        str(test_config_path), "--trust-anchor", str(vg.anchor), "--require-roles",
                        "teacher", "--format", "json", *paths],
                       capture_output=True, text=True, timeout=60, env=env)
    return [json.loads(line) for line in r.stdout.strip().splitlines()]


def test_teacher_left_school_cert_revoked_after_timestamped_signature_passes(
        left_pdf: bytes, vg_pki: VgPki, vg_services: Any, test_pki: Any, tmp_path: Path) -> None:
    """The normal life of a record book: signed and timestamped while the teacher worked at
    the school; her certificate was revoked (cessationOfOperation) when she left. EN 319
    102-1 5.6.2.4: the POE precedes the revocation, so the signature stays valid.
    (Judged in a fresh process: nothing cached from other files.)"""
    [line] = _cli_verify(tmp_path, vg_pki, test_pki.config, [("left.pdf", left_pdf)])
    assert line["indication"] == "TOTAL_PASSED", (line["subindication"], line["message"])


# --- EN 319 102-1 5.6.2.1 around the revocation time (added with the fix) -------------------

def _left_signed(record_pdf: bytes, vg: VgPki, at: Any) -> bytes:
    import io

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    w = IncrementalPdfFileWriter(io.BytesIO(record_pdf), strict=False)
    return signers.sign_pdf(w, signers.PdfSignatureMetadata(
        field_name="Sig_teacher", subfilter=SigSeedSubFilter.PADES),
        signer=pyhanko_signer(vg.p12("teacher_left")), timestamper=_vg_tsa(vg, at)).getvalue()


def test_teacher_left_school_report_explains_the_revocation_after_the_timestamp(
        vg_only_teacher_verifier: Verifier, left_pdf: bytes, vg_services: Any) -> None:
    rep = vg_only_teacher_verifier.verify(left_pdf, name="left.pdf")
    assert_passed(rep)
    s = rep.to_dict("en")["signatures"][0]
    assert s["revocation"] == {"status": "revoked", "source": "ocsp"}, s
    text = " ".join(s["findings"])
    assert "cessation_of_operation" in text and "before the certificate was revoked" in text, text
    assert "no timestamp" not in text, text


def test_teacher_left_school_offline_without_revocation_data_is_indeterminate(
        rt_policy: Policy, left_pdf: bytes) -> None:
    """No revocation data at all (nothing embedded, no network) in require mode: the status at
    the POE cannot be established -> INDETERMINATE, never PASSED or FAILED."""
    v = Verifier(rt_policy.replace(online=False, required_roles=(Role.TEACHER,)))
    s = v.verify(left_pdf, name="left.pdf").signatures[0]
    assert s.indication.value == "INDETERMINATE", (s.subindication, s.findings)


def test_teacher_left_school_b_lt_with_the_revoked_ocsp_embedded_passes_offline(
        rt_policy: Policy, left_pdf: bytes, vg_pki: VgPki, vg_services: Any) -> None:
    """The OCSP answer 'revoked since <after the POE>' embedded in the DSS: judged offline."""
    import io

    from asn1crypto import crl, ocsp
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    from ground.policy import load_certificates as lc

    emb = PdfFileReader(io.BytesIO(left_pdf), strict=False).embedded_signatures[0]
    # What a B-LT extension fetches today: the signer's OCSP ('revoked'), the TSA's and the
    # CAs' revocation data - taken from what an online verification fetched.
    online = Verifier(rt_policy.replace(required_roles=(Role.TEACHER,)))
    assert_passed(online.verify(left_pdf, name="left.pdf"))
    items = [x for v, _ in online.trust.cache._items.values()
             for x in (v if isinstance(v, tuple) else (v,))]
    ocsps = [i for i in items if isinstance(i, ocsp.OCSPResponse)]
    crls = [i for i in items if isinstance(i, crl.CertificateList)]
    assert ocsps and crls
    buf = io.BytesIO(left_pdf)
    DocumentSecurityStore.add_dss(buf, emb.pkcs7_content, certs=[
        *lc(vg_pki.cert_pem("sub")), *lc(vg_pki.cert_pem("tsa"))], ocsps=ocsps, crls=crls)
    v = Verifier(rt_policy.replace(online=False, required_roles=(Role.TEACHER,)))
    rep = v.verify(buf.getvalue(), name="left-lt.pdf")
    assert_passed(rep)
    assert rep.signatures[0].revocation is not None
    assert (rep.signatures[0].revocation.status, rep.signatures[0].revocation.source) == \
        ("revoked", "embedded")


def test_teacher_left_school_signed_after_leaving_is_revoked(
        vg_only_teacher_verifier: Verifier, record_pdf: bytes, vg_pki: VgPki,
        vg_services: Any) -> None:
    """Same certificate, trusted timestamp AFTER the revocation: TOTAL_FAILED/REVOKED."""
    from datetime import datetime, timedelta, timezone

    from tests.redteam.conftest import VG_REVOKED_DAYS_AGO

    at = datetime.now(timezone.utc) - timedelta(days=VG_REVOKED_DAYS_AGO - 2)
    rep = vg_only_teacher_verifier.verify(_left_signed(record_pdf, vg_pki, at), name="late.pdf")
    s = rep.signatures[0]
    assert (s.indication.value, s.subindication.value if s.subindication else None) == \
        ("TOTAL_FAILED", "REVOKED"), _summary(rep)
    assert "before the signing time" in rep.message("en"), rep.message("en")

"""XAdES signing of record books: levels, independent multi-signatures, order, refusals.

Real components only: the test PKI's live TSA/OCSP/CRL, pyHanko signers from
PKCS#12, and xmlsec1 as the independent verifier.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Callable

import pytest
from asn1crypto import cms, tsp
from lxml import etree

from certs.pki import PkiLayout
from ground.config import Config
from ground.errors import HocbaError, UsageError
from ground.vocab import Level, Role
from signer.context import SigningContext
from signer.xades import (
    DS_NS,
    XADES141_NS,
    XADES_NS,
    XadesSigner,
    archive_timestamp_input,
    c14n,
)
from tests.signer._xades_fixtures import (
    RECORD_ID,
    record_xml,
    signature_ids,
    xmlsec_verify,
)
from tests.tooling import require_tool

pytestmark = pytest.mark.xdist_group("xades")

NS = {"ds": DS_NS, "xades": XADES_NS, "xades141": XADES141_NS}
Y1 = f"{RECORD_ID}-2024-2025-v1"
Y2 = f"{RECORD_ID}-2025-2026-v1"

MakeCtx = Callable[..., SigningContext]


@pytest.fixture(scope="session")
def make_ctx(test_pki: PkiLayout, test_config: Config, trust_services: Any) -> MakeCtx:
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.sign.signers import SimpleSigner
    from pyhanko.sign.timestamps import HTTPTimeStamper
    from pyhanko_certvalidator import ValidationContext

    root = load_cert_from_pemder(str(test_pki.anchor))

    def make(label: str, role: Role, level: Level = Level.B_T, *, padding: str = "pkcs1v15",
             required_roles: tuple[str, ...] | None = None) -> SigningContext:
        cfg = test_config
        if required_roles is not None:
            cfg = cfg.with_overrides(policy=dataclasses.replace(cfg.policy,
                                                                required_roles=required_roles))
        if padding != cfg.signing.rsa_padding:
            cfg = cfg.with_overrides(signing=dataclasses.replace(cfg.signing, rsa_padding=padding))
        signer = SimpleSigner.load_pkcs12(test_pki.p12(label), passphrase=b"123456")
        vc = ValidationContext(trust_roots=[root], allow_fetching=True, revocation_mode="hard-fail")
        return SigningContext(signer=signer, role=role, level=level, config=cfg,
                              timestamper=HTTPTimeStamper(cfg.timestamp.url), validation_context=vc)

    return make


def sign(make_ctx: MakeCtx, data: bytes, label: str, role: Role, level: Level = Level.B_T,
         **kw: Any) -> bytes:
    ctx_kw = ("padding", "required_roles")
    signer = XadesSigner(make_ctx(label, role, level, **{k: v for k, v in kw.items() if k in ctx_kw}),
                         **{k: v for k, v in kw.items() if k not in ctx_kw})
    try:
        return signer.sign(data)
    finally:
        signer.close()


@pytest.fixture(scope="module")
def chain(make_ctx: MakeCtx) -> list[bytes]:
    """The record after teacher (B-T), then principal (B-T), then seal (B-LTA)."""
    x0 = record_xml()
    x1 = sign(make_ctx, x0, "teacher", Role.TEACHER, Level.B_T)
    x2 = sign(make_ctx, x1, "principal", Role.PRINCIPAL, Level.B_T)
    x3 = sign(make_ctx, x2, "seal", Role.SEAL, Level.B_LTA)
    return [x0, x1, x2, x3]


def _verify(xml: bytes, sig_id: str, tmp_path: Path, test_pki: PkiLayout) -> subprocess.CompletedProcess[str]:
    xmlsec1 = require_tool("xmlsec1")
    return xmlsec_verify(xmlsec1, xml, sig_id, tmp_path, test_pki.anchor,
                         [Path(test_pki.cert("interm"))])


def _sigs(xml: bytes) -> list[etree._Element]:
    return etree.fromstring(xml).findall("ds:Signature", NS)


def _imprint(token_b64: str) -> bytes:
    token = cms.ContentInfo.load(base64.b64decode(token_b64))
    info = token["content"]["encap_content_info"]["content"].parsed
    assert isinstance(info, tsp.TSTInfo)
    assert info["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha256"
    return bytes(info["message_imprint"]["hashed_message"].native)


# --- Independent signatures, all levels --------------------------------------------------

@pytest.mark.parametrize("index,role", [(0, "teacher"), (1, "principal"), (2, "seal")])
def test_each_signature_verifies_independently_in_xmlsec1(
    chain: list[bytes], index: int, role: str, tmp_path: Path, test_pki: PkiLayout
) -> None:
    final = chain[-1]
    ids = signature_ids(final)
    assert len(ids) == 3
    assert ids[index].startswith(f"sig-{role}-")
    r = _verify(final, ids[index], tmp_path, test_pki)
    assert r.returncode == 0, r.stderr
    assert "OK" in r.stdout + r.stderr


def test_signatures_reference_blocks_by_id_without_enveloped_transform(chain: list[bytes]) -> None:
    for sig in _sigs(chain[-1]):
        uris = [ref.get("URI") for ref in sig.iterfind("ds:SignedInfo/ds:Reference", NS)]
        assert f"#{RECORD_ID}-hocsinh" in uris and f"#{Y1}" in uris and f"#{Y2}" in uris
        assert all(u and u.startswith("#") for u in uris)
        algos = {t.get("Algorithm") for t in sig.iterfind(".//ds:Transform", NS)}
        assert algos == {"http://www.w3.org/2001/10/xml-exc-c14n#"}
        types = [ref.get("Type") for ref in sig.iterfind("ds:SignedInfo/ds:Reference", NS)]
        assert types.count("http://uri.etsi.org/01903#SignedProperties") == 1


def test_signed_properties_carry_time_certificate_role_and_formats(chain: list[bytes]) -> None:
    for sig, role in zip(_sigs(chain[-1]), ["teacher", "principal", "seal"]):
        ssp = sig.find(".//xades:SignedSignatureProperties", NS)
        assert ssp.find("xades:SigningTime", NS) is not None
        assert ssp.find("xades:SigningCertificateV2/xades:Cert/xades:IssuerSerialV2", NS) is not None
        assert ssp.findtext("xades:SignerRoleV2/xades:ClaimedRoles/xades:ClaimedRole",
                            namespaces=NS) == role
        data_refs = [r for r in sig.iterfind("ds:SignedInfo/ds:Reference", NS) if r.get("Type") is None]
        formats = sig.findall(".//xades:DataObjectFormat", NS)
        assert {f.get("ObjectReference") for f in formats} == {f"#{r.get('Id')}" for r in data_refs}
        assert all(f.findtext("xades:MimeType", namespaces=NS) == "text/xml" for f in formats)


def test_later_signatures_cover_earlier_signature_values(chain: list[bytes]) -> None:
    teacher, principal, seal = _sigs(chain[-1])
    def uris(sig: etree._Element) -> set[str]:
        return {r.get("URI") for r in sig.iterfind("ds:SignedInfo/ds:Reference", NS)}
    tv = f"#{teacher.find('ds:SignatureValue', NS).get('Id')}"
    pv = f"#{principal.find('ds:SignatureValue', NS).get('Id')}"
    assert tv not in uris(teacher)
    assert tv in uris(principal)
    assert {tv, pv} <= uris(seal)


def test_earlier_signatures_are_unchanged_by_later_ones(chain: list[bytes]) -> None:
    x1, x3 = chain[1], chain[3]
    assert etree.tostring(_sigs(x1)[0]) == etree.tostring(_sigs(x3)[0])


def test_each_signature_timestamp_imprint_matches_its_signature_value(chain: list[bytes]) -> None:
    for sig in _sigs(chain[-1]):
        ts = sig.find(".//xades:SignatureTimeStamp", NS)
        assert ts is not None
        assert ts.find("ds:CanonicalizationMethod", NS).get("Algorithm") == \
            "http://www.w3.org/2001/10/xml-exc-c14n#"
        expected = hashlib.sha256(c14n(sig.find("ds:SignatureValue", NS))).digest()
        assert _imprint(ts.findtext("xades:EncapsulatedTimeStamp", namespaces=NS)) == expected


def test_seal_signature_is_lta_with_values_and_archive_timestamp(chain: list[bytes]) -> None:
    teacher, principal, seal = _sigs(chain[-1])
    usp = seal.find(".//xades:UnsignedSignatureProperties", NS)
    order = [etree.QName(el).localname for el in usp]
    assert order == ["SignatureTimeStamp", "CertificateValues", "RevocationValues", "ArchiveTimeStamp"]
    certs = usp.findall("xades:CertificateValues/xades:EncapsulatedX509Certificate", NS)
    assert len(certs) >= 2  # at least the root and the TSA
    ocsps = usp.findall("xades:RevocationValues/xades:OCSPValues/xades:EncapsulatedOCSPValue", NS)
    crls = usp.findall("xades:RevocationValues/xades:CRLValues/xades:EncapsulatedCRLValue", NS)
    assert ocsps or crls
    ats = usp.find("xades141:ArchiveTimeStamp", NS)
    expected = hashlib.sha256(archive_timestamp_input(seal, before=ats)).digest()
    assert _imprint(ats.findtext("xades:EncapsulatedTimeStamp", namespaces=NS)) == expected
    for earlier in (teacher, principal):
        assert earlier.find(".//xades:CertificateValues", NS) is None
        assert earlier.find(".//xades141:ArchiveTimeStamp", NS) is None


def test_b_b_has_no_unsigned_properties(make_ctx: MakeCtx, tmp_path: Path, test_pki: PkiLayout) -> None:
    out = sign(make_ctx, record_xml(), "teacher", Role.TEACHER, Level.B_B)
    (sig,) = _sigs(out)
    assert sig.find(".//xades:UnsignedProperties", NS) is None
    assert _verify(out, sig.get("Id"), tmp_path, test_pki).returncode == 0


def test_b_lt_has_values_but_no_archive_timestamp(make_ctx: MakeCtx) -> None:
    out = sign(make_ctx, record_xml(), "teacher", Role.TEACHER, Level.B_LT)
    (sig,) = _sigs(out)
    assert sig.find(".//xades:CertificateValues", NS) is not None
    assert sig.find(".//xades:RevocationValues", NS) is not None
    assert sig.find(".//xades141:ArchiveTimeStamp", NS) is None


# --- Tampering: every signature over the block fails --------------------------------------

@pytest.mark.parametrize("old,new", [
    ("<Diem>9.5</Diem>", "<Diem>10</Diem>"),                          # grade-1 score
    ("Hoàn thành xuất sắc</KetQuaGiaoDuc>\n    </TieuHoc>\n    <LenLop>Được lên lớp</LenLop>\n"
     "    <GiaoVienChuNhiem>Nguyễn Thị Hoa</GiaoVienChuNhiem>\n    <HieuTruong>Trần Văn Minh"
     "</HieuTruong>\n    <NgayXacNhan>2026",
     "Hoàn thành tốt</KetQuaGiaoDuc>\n    </TieuHoc>\n    <LenLop>Được lên lớp</LenLop>\n"
     "    <GiaoVienChuNhiem>Nguyễn Thị Hoa</GiaoVienChuNhiem>\n    <HieuTruong>Trần Văn Minh"
     "</HieuTruong>\n    <NgayXacNhan>2026"),                            # grade-2 overall result
    ('grade="2"', 'grade="3"'),                                       # a year block attribute
    ("<HoTen>Nguyễn Văn An</HoTen>", "<HoTen>Nguyễn Văn Ân</HoTen>"),  # identity block
], ids=["year1_score", "year2_result", "year2_grade_attr", "identity_name"])
def test_tampered_signed_value_fails_every_signature_in_xmlsec1(
    chain: list[bytes], old: str, new: str, tmp_path: Path, test_pki: PkiLayout
) -> None:
    final = chain[-1].decode("utf-8")
    assert final.count(old) == 1, old
    tampered = final.replace(old, new).encode("utf-8")
    for sid in signature_ids(tampered):
        r = _verify(tampered, sid, tmp_path, test_pki)
        assert r.returncode != 0, f"{sid} still verifies after tampering"


def test_xmlsec1_rejects_untrusted_root(chain: list[bytes], tmp_path: Path, test_pki: PkiLayout) -> None:
    xmlsec1 = require_tool("xmlsec1")
    sid = signature_ids(chain[-1])[0]
    r = xmlsec_verify(xmlsec1, chain[-1], sid, tmp_path, Path(test_pki.cert("rogue_root")), [])
    assert r.returncode != 0


# --- Order --------------------------------------------------------------------------------

def _refused(exc: pytest.ExceptionInfo[HocbaError], key: str, en: str) -> None:
    """The refusal names its catalog message, and its English text says ``en``."""
    assert exc.value.key == key, exc.value.key
    assert en in exc.value.render("en"), exc.value.render("en")


def test_principal_before_the_homeroom_teacher_is_refused(make_ctx: MakeCtx) -> None:
    data = record_xml()
    with pytest.raises(HocbaError) as exc:
        sign(make_ctx, data, "principal", Role.PRINCIPAL, Level.B_B)
    _refused(exc, "signer.xades.order_missing", "Homeroom teacher must sign before Principal")
    assert "Giáo viên chủ nhiệm chưa ký" in exc.value.render("vi")
    assert data == record_xml()


def test_teacher_after_principal_is_refused_and_input_unchanged(make_ctx: MakeCtx) -> None:
    # built by the test's own writer (a school whose policy needs only the principal)
    signed = sign(make_ctx, record_xml(), "principal", Role.PRINCIPAL, Level.B_B,
                  required_roles=("principal",))
    before = bytes(signed)
    with pytest.raises(HocbaError) as exc:
        sign(make_ctx, signed, "teacher", Role.TEACHER, Level.B_B)
    _refused(exc, "signer.xades.order_later", "signing order: Homeroom teacher must sign before "
             "Principal")
    assert signed == before


def test_principal_after_seal_is_refused(chain: list[bytes], make_ctx: MakeCtx) -> None:
    with pytest.raises(HocbaError) as exc:
        sign(make_ctx, chain[-1], "principal", Role.PRINCIPAL, Level.B_B)
    _refused(exc, "signer.xades.order_signed", "Principal must sign before School seal")


def test_same_role_again_over_signed_years_is_refused(chain: list[bytes], make_ctx: MakeCtx) -> None:
    with pytest.raises(HocbaError):
        sign(make_ctx, chain[1], "teacher", Role.TEACHER, Level.B_B)


def test_new_year_after_principal_signed_old_year_is_allowed(
    make_ctx: MakeCtx, tmp_path: Path, test_pki: PkiLayout
) -> None:
    """Grade 2's teacher signs the new year block; the principal had signed grade 1 only."""
    x = sign(make_ctx, record_xml(), "teacher", Role.TEACHER, Level.B_B, years=["2024-2025"])
    x = sign(make_ctx, x, "principal", Role.PRINCIPAL, Level.B_B, years=["2024-2025"])
    x = sign(make_ctx, x, "teacher", Role.TEACHER, Level.B_B)  # default scope: the unsigned year
    teacher2 = _sigs(x)[-1]
    uris = {r.get("URI") for r in teacher2.iterfind("ds:SignedInfo/ds:Reference", NS)}
    assert f"#{Y2}" in uris and f"#{Y1}" not in uris
    for sid in signature_ids(x):
        assert _verify(x, sid, tmp_path, test_pki).returncode == 0
    with pytest.raises(HocbaError) as exc:
        sign(make_ctx, x, "teacher", Role.TEACHER, Level.B_B, years=["2024-2025"])
    _refused(exc, "signer.xades.order_later", "signing order")


# --- Refusals -----------------------------------------------------------------------------

def test_schema_invalid_record_is_refused_naming_the_element(make_ctx: MakeCtx) -> None:
    pytest.importorskip("recordbook.xmlio", reason="record-book schema validation (records package)")
    bad = record_xml().replace(b"<Diem>9.5</Diem>", b"<Diem>11</Diem>")
    with pytest.raises(HocbaError, match=r"Diem"):
        sign(make_ctx, bad, "teacher", Role.TEACHER, Level.B_B)


def test_year_block_without_id_is_refused(make_ctx: MakeCtx) -> None:
    bad = re.sub(rb'<NamHoc Id="[^"]+"', b"<NamHoc", record_xml(), count=1)
    with pytest.raises(HocbaError, match="NamHoc"):
        sign(make_ctx, bad, "teacher", Role.TEACHER, Level.B_B)


def test_duplicate_id_wrapping_attempt_is_refused(make_ctx: MakeCtx) -> None:
    bad = record_xml().replace(f'Id="{Y2}"'.encode(), f'Id="{Y1}"'.encode())
    with pytest.raises(HocbaError) as exc:
        sign(make_ctx, bad, "teacher", Role.TEACHER, Level.B_B)
    assert f"duplicate Id '{Y1}'" in exc.value.render("en")
    assert f"Id '{Y1}' bị trùng" in exc.value.render("vi")


def test_non_record_xml_is_refused(make_ctx: MakeCtx) -> None:
    with pytest.raises(HocbaError) as exc:
        sign(make_ctx, b'<?xml version="1.0"?><invoice Id="x"><total>5</total></invoice>',
             "teacher", Role.TEACHER, Level.B_B)
    _refused(exc, "signer.xades.not_record", "not a record book")


def test_entity_bomb_is_refused_by_the_hardened_parser(make_ctx: MakeCtx) -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            b'<HocBa xmlns="urn:hocba:hocbaso:1">&b;</HocBa>')
    with pytest.raises(UsageError):
        sign(make_ctx, bomb, "teacher", Role.TEACHER, Level.B_B)


# --- Algorithms ---------------------------------------------------------------------------

def test_ecdsa_signature_verifies_in_xmlsec1(make_ctx: MakeCtx, tmp_path: Path, test_pki: PkiLayout) -> None:
    out = sign(make_ctx, record_xml(), "teacher_ec", Role.TEACHER, Level.B_T)
    (sig,) = _sigs(out)
    assert sig.find("ds:SignedInfo/ds:SignatureMethod", NS).get("Algorithm").endswith("#ecdsa-sha256")
    assert len(base64.b64decode(sig.findtext("ds:SignatureValue", namespaces=NS))) == 64  # r || s
    assert _verify(out, sig.get("Id"), tmp_path, test_pki).returncode == 0


def _xmlsec_lib_verify(xml: bytes, anchor: Path) -> list[bool]:
    """Verify every signature with libxmlsec1 >= 1.3 (RSASSA-PSS support), via python-xmlsec.

    The xmlsec1 command of Debian 12 is 1.2.37, which predates RSASSA-PSS; the
    CLI is used instead when it lists the transform.
    """
    try:
        import xmlsec
    except Exception:  # ImportError, or lxml/xmlsec libxml2 version mismatch
        if __import__("os").environ.get("HOCBA_REQUIRE_TOOLS") == "1":
            pytest.fail("python-xmlsec (libxmlsec1 >= 1.3) is required to verify RSASSA-PSS")
        pytest.skip("python-xmlsec not installed")
    if xmlsec.get_libxmlsec_version() < (1, 3, 0):
        pytest.skip("libxmlsec1 < 1.3 has no RSASSA-PSS")
    root = etree.fromstring(xml)
    for el in root.iter():
        if isinstance(el.tag, str) and el.get("Id") is not None:
            xmlsec.tree.add_ids(el, ["Id"])
    results = []
    for sig in root.iterfind("ds:Signature", NS):
        manager = xmlsec.KeysManager()
        manager.load_cert(str(anchor), xmlsec.constants.KeyDataFormatPem,
                          xmlsec.constants.KeyDataTypeTrusted)
        try:
            xmlsec.SignatureContext(manager).verify(sig)
            results.append(True)
        except xmlsec.Error:
            results.append(False)
    return results


def _cli_has_pss(xmlsec1: str) -> bool:
    out = subprocess.run([xmlsec1, "--list-transforms"], capture_output=True, text=True).stdout
    return "rsa-pss" in out.lower() or "sha256-rsa-mgf1" in out.lower()


def test_rsassa_pss_signature_verifies_in_xmlsec(
    make_ctx: MakeCtx, tmp_path: Path, test_pki: PkiLayout
) -> None:
    out = sign(make_ctx, record_xml(), "teacher", Role.TEACHER, Level.B_T, padding="pss")
    (sig,) = _sigs(out)
    assert sig.find("ds:SignedInfo/ds:SignatureMethod", NS).get("Algorithm") == \
        "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1"
    xmlsec1 = shutil.which("xmlsec1")
    if xmlsec1 and _cli_has_pss(xmlsec1):
        assert _verify(out, sig.get("Id"), tmp_path, test_pki).returncode == 0
    else:
        assert _xmlsec_lib_verify(out, test_pki.anchor) == [True]
    # The same verifier refuses a tampered PSS signature (not a vacuous pass).
    tampered = out.replace(b"<Diem>9.5</Diem>", b"<Diem>10</Diem>")
    if not (xmlsec1 and _cli_has_pss(xmlsec1)):
        assert _xmlsec_lib_verify(tampered, test_pki.anchor) == [False]

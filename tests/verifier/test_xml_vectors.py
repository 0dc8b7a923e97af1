"""XML verification: good records and named attack vectors generated against the test PKI."""
from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import pytest
from lxml import etree

from certs.pki import PkiLayout
from ground.vocab import Indication, SubIndication
from tests.verifier._xml_fixtures import (
    DS, IDENTITY_ID, RECORD_ID, YEAR_IDS, dsig_sign, rec, record_xml)
from verifier.core import Verifier

pytestmark = pytest.mark.xdist_group("xml-verify")

I, S = Indication, SubIndication
Sign = Callable[..., bytes]


@pytest.fixture(scope="session")
def xsign(test_pki: PkiLayout, pin: str) -> Sign:
    def sign(xml: bytes, label: str, role: str, **kw: Any) -> bytes:
        return dsig_sign(xml, test_pki.p12(label), pin, role=role, **kw)
    return sign


@pytest.fixture(scope="session")
def good(xsign: Sign) -> bytes:
    """teacher then principal, each over identity + both year blocks + SignedProperties."""
    return xsign(xsign(record_xml(), "teacher", "teacher"), "principal", "principal")


def check(report: Any, name: str) -> Any:
    return next(c for c in report.checks if c.name == name)


def verify(verifier: Verifier, data: bytes, name: str = "x.xml") -> Any:
    return verifier.verify(data, name=name)


def test_good_record_passes_and_record_comes_from_signed_content(
        verifier: Verifier, good: bytes, trust_services: object) -> None:
    r = verify(verifier, good)
    assert r.indication is I.TOTAL_PASSED, [(s.subindication, [f.render("en") for f in s.findings])
                                            for s in r.signatures]
    assert [s.role for s in r.signatures] == ["teacher", "principal"]
    assert [s.claimed_role for s in r.signatures] == ["teacher", "principal"]
    assert all(s.integrity and s.level == "B-B" for s in r.signatures)
    assert r.record is not None and {k: r.record[k] for k in ("student", "school", "school_year")} \
        == {"student": "Nguyễn Văn An", "school": "Trường Tiểu học Lê Quý Đôn",
            "school_year": "2025-2026"}
    assert [s.role_source for s in r.signatures] == ["certificate", "certificate"]
    assert check(r, "unsigned_content").passed and check(r, "duplicate_ids").passed


def test_ecdsa_and_rsa_pss_signatures_verify(verifier: Verifier, xsign: Sign,
                                            trust_services: object) -> None:
    x = xsign(record_xml(), "teacher_ec", "teacher")
    x = xsign(x, "principal", "principal", pss=True)
    r = verify(verifier, x)
    assert r.indication is I.TOTAL_PASSED, r.to_dict("en")


def _mutate(data: bytes, fn: Callable[[etree._Element], None]) -> bytes:
    root = etree.fromstring(data)
    fn(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _year(root: etree._Element, i: int = 0) -> etree._Element:
    return root.findall(rec("NamHoc"))[i]


def test_value_changed_in_signed_year_block_is_hash_failure(verifier: Verifier, good: bytes) -> None:
    def raise_grade(root: etree._Element) -> None:
        diem = _year(root).find(f"{rec('TieuHoc')}/{rec('MonHoc')}/{rec('Diem')}")
        diem.text = "10"
    r = verify(verifier, _mutate(good, raise_grade))
    assert r.indication is I.TOTAL_FAILED and r.subindication is S.HASH_FAILURE
    assert not any(s.integrity for s in r.signatures)
    assert r.record is None


def test_xsw_signed_block_moved_and_forged_copy_in_its_place(verifier: Verifier, good: bytes) -> None:
    """The signed year block is hidden inside a signature's ds:Object; a forged copy
    without Id takes its place. References still verify - the forgery must not."""
    def wrap(root: etree._Element) -> None:
        original = _year(root, 1)
        forged = etree.fromstring(etree.tostring(original))
        del forged.attrib["Id"]
        forged.find(f"{rec('TieuHoc')}/{rec('KetQuaGiaoDuc')}").text = "Hoàn thành xuất sắc"
        forged.set("schoolYear", "2026-2027")
        root.replace(original, forged)
        obj = etree.SubElement(root.find(f"{{{DS}}}Signature"), f"{{{DS}}}Object")
        obj.append(original)
    r = verify(verifier, _mutate(good, wrap))
    assert r.indication is I.TOTAL_FAILED
    assert not check(r, "unsigned_content").passed
    # A year block moved out of place makes the record ambiguous: no summary at all.
    assert not check(r, "record_structure").passed
    assert r.record is None


def test_xsw_forged_copy_with_the_same_id(verifier: Verifier, good: bytes) -> None:
    def dup(root: etree._Element) -> None:
        original = _year(root, 1)
        forged = etree.fromstring(etree.tostring(original))
        forged.find(f"{rec('TieuHoc')}/{rec('KetQuaGiaoDuc')}").text = "Hoàn thành tốt"
        root.insert(1, forged)
    r = verify(verifier, _mutate(good, dup))
    assert r.indication is I.TOTAL_FAILED
    assert not check(r, "duplicate_ids").passed


def test_duplicate_id_elsewhere_fails(verifier: Verifier, good: bytes) -> None:
    def dup(root: etree._Element) -> None:
        etree.SubElement(root, rec("GhiChu"), {"Id": IDENTITY_ID})
    r = verify(verifier, _mutate(good, dup))
    assert r.indication is I.TOTAL_FAILED
    assert not check(r, "duplicate_ids").passed


def test_unsigned_extra_content_fails(verifier: Verifier, good: bytes) -> None:
    def add(root: etree._Element) -> None:
        root.insert(1, etree.Element(rec("GhiChu")))
        root[1].text = "Học sinh được miễn thi tốt nghiệp"
    r = verify(verifier, _mutate(good, add))
    assert r.indication is I.TOTAL_FAILED
    assert all(s.indication is I.TOTAL_PASSED for s in r.signatures)
    c = check(r, "unsigned_content")
    assert not c.passed and "GhiChu" in c.detail.render("en")


def test_year_block_signed_by_nobody_is_unsigned_content(verifier: Verifier, xsign: Sign,
                                                         trust_services: object) -> None:
    x = xsign(record_xml(), "teacher", "teacher", refs=(IDENTITY_ID, YEAR_IDS[0]))
    x = xsign(x, "principal", "principal", refs=(IDENTITY_ID, YEAR_IDS[0]))
    r = verify(verifier, x)
    assert r.indication is I.TOTAL_FAILED and not check(r, "unsigned_content").passed
    assert r.record is not None and r.record["school_year"] == "2024-2025"


def test_signed_properties_reference_removed(verifier: Verifier, xsign: Sign) -> None:
    x = xsign(record_xml(), "teacher", "teacher", sp_reference=False)
    r = verify(verifier, x)
    s = r.signatures[0]
    assert s.integrity and s.indication is I.TOTAL_FAILED


def test_wrong_signing_certificate_digest(verifier: Verifier, xsign: Sign) -> None:
    x = xsign(record_xml(), "teacher", "teacher", cert_digest=b"\x00" * 32)
    s = verify(verifier, x).signatures[0]
    assert s.indication is not I.TOTAL_PASSED
    assert s.subindication is S.NO_SIGNING_CERTIFICATE_FOUND


def test_signature_value_flipped_is_sig_crypto_failure(verifier: Verifier, good: bytes) -> None:
    def flip(root: etree._Element) -> None:
        v = root.find(f"{{{DS}}}Signature/{{{DS}}}SignatureValue")
        raw = bytearray(base64.b64decode(v.text))
        raw[10] ^= 0x01
        v.text = base64.b64encode(bytes(raw)).decode()
    r = verify(verifier, _mutate(good, flip))
    assert r.signatures[0].subindication is S.SIG_CRYPTO_FAILURE
    assert r.indication is I.TOTAL_FAILED


def test_sha1_digest_is_not_passed(verifier: Verifier, xsign: Sign) -> None:
    x = xsign(record_xml(), "teacher", "teacher", digest="sha1", sig_digest="sha1")
    s = verify(verifier, x).signatures[0]
    assert s.integrity and s.indication is I.INDETERMINATE
    assert s.subindication is S.CRYPTO_CONSTRAINTS_FAILURE


@pytest.mark.parametrize("label,expected", [
    ("teacher_rsa1024", {S.CRYPTO_CONSTRAINTS_FAILURE}),
    ("teacher_revoked", {S.REVOKED, S.REVOKED_NO_POE}),
    ("rogue_teacher", {S.NO_CERTIFICATE_CHAIN_FOUND}),
], ids=["rsa1024", "revoked", "untrusted_root"])
def test_bad_certificates_are_not_passed(verifier: Verifier, xsign: Sign, trust_services: object,
                                         label: str, expected: set[SubIndication]) -> None:
    s = verify(verifier, xsign(record_xml(), label, "teacher")).signatures[0]
    assert s.integrity
    assert s.indication is not I.TOTAL_PASSED and s.subindication in expected, s.to_dict("en")


XXE = (b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
       b'<HocBa xmlns="urn:hocba:hocbaso:1">&x;</HocBa>')
BOMB = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode()
                   for i in range(9))
        + b']>\n<r>&j;</r>')


@pytest.mark.parametrize("data", [
    XXE, BOMB, b"<HocBa xmlns='urn:hocba:hocbaso:1'><HocSinh>", b"<\x00\xff garbage",
    b"<" + b"<a>" * 100_000,
], ids=["xxe", "entity_bomb", "truncated", "garbage", "deep_nesting"])
def test_hostile_xml_is_format_failure_without_expansion(verifier: Verifier, data: bytes) -> None:
    t = time.monotonic()
    r = verify(verifier, data)
    assert time.monotonic() - t < 2
    assert r.indication is I.TOTAL_FAILED and r.subindication is S.FORMAT_FAILURE
    text = str(r.to_dict("en"))
    assert "root:" not in text and "aaaaaaaaaa" not in text


def test_truncated_signed_record(verifier: Verifier, good: bytes) -> None:
    r = verify(verifier, good[: len(good) // 2])
    assert r.subindication is S.FORMAT_FAILURE


def test_report_json_shape(verifier: Verifier, good: bytes) -> None:
    d = verify(verifier, good, "hs.xml").to_dict("vi")
    assert d["format"] == "xml" and d["signatures"][0]["id"] == "sig-teacher-1"
    assert d["signatures"][0]["coverage"] == "partial"
    assert {"unsigned_content", "duplicate_ids", "required_roles"} <= {c["name"] for c in d["checks"]}
    _ = RECORD_ID

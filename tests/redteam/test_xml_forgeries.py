"""Forgeries of the project's own XAdES records (signer.api.sign_bytes, test PKI), made by
hand with lxml the way a forger would. Each test asserts the CORRECT verdict."""
from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import threading
import time
from typing import Any, Callable

import pytest
from lxml import etree

from certs.pki import PkiLayout
from tests.redteam._util import (DS, assert_not_passed, assert_passed, deep, ds, dump, rec,
                                 sigs, summary, tree, xa, years)
from tests.redteam.conftest import Hang, timeboxed
from verifier.core import Verifier

pytestmark = pytest.mark.slow  # end to end: not in the fast suite (pytest -m "not slow")


def _verify(v: Verifier, data: bytes, name: str = "forged.xml") -> Any:
    rep = timeboxed(lambda: v.verify(data, name=name), 10.0)
    print(summary(rep))  # shown with -s / on failure
    return rep


def test_own_record_passes(rt_verifier: Verifier, our_xml: bytes) -> None:
    rep = _verify(rt_verifier, our_xml)
    assert_passed(rep)
    assert rep.record is not None and rep.record["school_year"] == years(tree(our_xml))[-1].get("schoolYear")


# --- roles satisfied by signatures over something else (critical) ----------------------------

def _principal_enveloping_notice(pki: PkiLayout) -> Any:
    """The principal signs an unrelated school notice with another vendor's tool (signxml,
    enveloping, exclusive C14N) - an everyday document the forger can obtain."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
    from signxml import XMLSigner, methods

    key, cert, extra = pkcs12.load_key_and_certificates(pki.p12("principal").read_bytes(), b"123456")
    pems = [c.public_bytes(serialization.Encoding.PEM).decode() for c in [cert, *(extra or [])]]
    notice = etree.fromstring("<ThongBao xmlns='urn:school:notice'>Họp phụ huynh ngày 5/9</ThongBao>")
    return XMLSigner(method=methods.enveloping,
                     c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#").sign(
        notice, key=key, cert=pems)


def test_principal_signature_over_unrelated_notice_pasted_into_teacher_only_record(
        rt_verifier: Verifier, our_xml_teacher: bytes, test_pki: PkiLayout) -> None:
    root = tree(our_xml_teacher)
    root.append(_principal_enveloping_notice(test_pki))
    rep = _verify(rt_verifier, dump(root))
    assert_not_passed(rep)


def test_last_years_principal_signature_reused_for_a_year_only_the_teacher_signed(
        rt_verifier: Verifier, record_xml: bytes, our_sign: Callable[..., bytes]) -> None:
    """Last year the record (two years) was signed by teacher and principal. This year the
    teacher adds a year and signs alone; the teacher pastes last year's two signatures in."""
    full = tree(record_xml)
    last_year = tree(record_xml)
    last_year.remove(years(last_year)[-1])
    old = tree(our_sign(our_sign(dump(last_year), "old.xml", "teacher"), "old.xml", "principal"))
    new = tree(our_sign(dump(full), "new.xml", "teacher"))
    for s in sigs(old):
        new.append(deep(s))
    rep = _verify(rt_verifier, dump(new))
    newest = years(full)[-1].get("schoolYear")
    assert rep.record is None or rep.record.get("school_year") != newest or \
        rep.indication.value != "TOTAL_PASSED", summary(rep)


# --- signature wrapping ----------------------------------------------------------------------

def _forge_year(y: Any) -> Any:
    f = deep(y)
    for d in f.iter(rec("Diem")):
        d.text = "10"
    for m in f.iter(rec("MucDat")):
        m.text = "T"
    return f


@pytest.mark.parametrize("keep_id", [True, False], ids=["same-id", "new-id"])
def test_xsw_signed_year_moved_into_ds_object_modified_copy_in_place(
        rt_verifier: Verifier, our_xml: bytes, keep_id: bool) -> None:
    root = tree(our_xml)
    y = years(root)[-1]
    forged = _forge_year(y)
    if not keep_id:
        forged.set("Id", y.get("Id") + "-x")
    y.addprevious(forged)
    root.remove(y)
    obj = etree.SubElement(sigs(root)[0], ds("Object"))
    obj.append(y)
    rep = _verify(rt_verifier, dump(root))
    assert_not_passed(rep)


@pytest.mark.parametrize("attr", ["ID", "id", "{http://www.w3.org/XML/1998/namespace}id",
                                  "{urn:evil}Id"])
def test_duplicate_id_spelling_variants(rt_verifier: Verifier, our_xml: bytes, attr: str) -> None:
    """The genuine block keeps Id=X somewhere the forger hides it; the forged copy in place
    carries X under another spelling of the Id attribute."""
    root = tree(our_xml)
    y = years(root)[-1]
    forged = _forge_year(y)
    del forged.attrib["Id"]
    forged.set(attr, y.get("Id"))
    y.addprevious(forged)
    root.remove(y)
    etree.SubElement(sigs(root)[-1], ds("Object")).append(y)
    rep = _verify(rt_verifier, dump(root))
    assert_not_passed(rep)
    assert rep.record is None or "10" not in str(rep.record)


def test_namespace_game_forged_year_in_lookalike_namespace(rt_verifier: Verifier, our_xml: bytes) -> None:
    root = tree(our_xml)
    y = years(root)[-1]
    forged = _forge_year(y)
    for el in forged.iter():
        if isinstance(el.tag, str):
            el.tag = "{urn:hocba:hocbaso:1 }" + etree.QName(el).localname
    forged.set("schoolYear", "2026-2027")
    root.insert(1, forged)
    rep = _verify(rt_verifier, dump(root))
    assert_not_passed(rep)
    assert rep.record is None or rep.record.get("school_year") != "2026-2027"


def test_namespace_game_real_record_wrapped_in_foreign_root(rt_verifier: Verifier, our_xml: bytes) -> None:
    """<x:HocBa xmlns:x="urn:other"> wraps the genuine signed record plus a forged identity."""
    root = tree(our_xml)
    wrapper = etree.Element("{urn:other}HocBa", nsmap={"x": "urn:other"})
    forged_id = deep(root.find(rec("HocSinh")))
    forged_id.find(rec("HoTen")).text = "Nguyễn Giả Mạo"
    del forged_id.attrib["Id"]
    wrapper.append(forged_id)
    wrapper.append(root)
    rep = _verify(rt_verifier, dump(wrapper))
    assert_not_passed(rep)
    assert rep.record is None or rep.record.get("student") != "Nguyễn Giả Mạo"


def test_extra_unsigned_year_with_higher_grades_appended(rt_verifier: Verifier, our_xml: bytes) -> None:
    root = tree(our_xml)
    y = _forge_year(years(root)[-1])
    y.set("Id", y.get("Id").replace("-v1", "-v2"))
    y.set("schoolYear", "2026-2027")
    y.set("version", "2")
    sigs(root)[0].addprevious(y)
    rep = _verify(rt_verifier, dump(root))
    assert_not_passed(rep)
    assert {c.name for c in rep.checks if not c.passed} >= {"unsigned_content"}
    assert rep.record is None or rep.record.get("school_year") != "2026-2027"


def test_second_unsigned_identity_block(rt_verifier: Verifier, our_xml: bytes) -> None:
    root = tree(our_xml)
    forged = deep(root.find(rec("HocSinh")))
    forged.find(rec("HoTen")).text = "Nguyễn Giả Mạo"
    forged.set("Id", "HS-FORGED-hocsinh")
    root.insert(0, forged)
    rep = _verify(rt_verifier, dump(root))
    assert_not_passed(rep)
    assert rep.record is None or rep.record.get("student") != "Nguyễn Giả Mạo"


@pytest.mark.parametrize("attr", ["{http://www.w3.org/XML/1998/namespace}lang", "ghiChu",
                                  "{http://www.w3.org/XML/1998/namespace}space"])
def test_attribute_added_to_signed_elements_ancestor(rt_verifier: Verifier, our_xml: bytes,
                                                     attr: str) -> None:
    root = tree(our_xml)
    root.set(attr, "preserve" if attr.endswith("space") else "Điểm đã được nâng")
    rep = _verify(rt_verifier, dump(root))
    assert_not_passed(rep)


def test_root_version_attribute_changed(rt_verifier: Verifier, our_xml: bytes) -> None:
    root = tree(our_xml)
    root.set("version", "2")
    assert_not_passed(_verify(rt_verifier, dump(root)))


# --- comments, PIs, CDATA, whitespace ---------------------------------------------------------

def _name_split(data: bytes, insert: bytes) -> bytes:
    i = data.index(b"<HoTen>") + len(b"<HoTen>")
    j = data.index(b" ", i)
    return data[:j] + insert + data[j:]


def test_comment_inside_signed_name_is_not_content(rt_verifier: Verifier, our_xml: bytes) -> None:
    """C14N without comments: a comment is not signed content, so the record stays valid -
    and the record must show the whole signed name (lxml's findtext stops at a comment)."""
    name = tree(our_xml).find(rec("HocSinh")).findtext(rec("HoTen"))
    rep = _verify(rt_verifier, _name_split(our_xml, "<!-- sửa -->".encode()))
    assert_passed(rep)
    assert rep.record is not None and rep.record["student"] == name, summary(rep)


def test_processing_instruction_inside_signed_name(rt_verifier: Verifier, our_xml: bytes) -> None:
    assert_not_passed(_verify(rt_verifier, _name_split(our_xml, b"<?hide ?>")))


def test_cdata_and_character_references_are_the_same_content(rt_verifier: Verifier,
                                                             our_xml: bytes) -> None:
    """Another writer's serialisation of the same signed data: still valid, same record."""
    name = tree(our_xml).find(rec("HocSinh")).findtext(rec("HoTen"))
    data = our_xml.replace(f"<HoTen>{name}</HoTen>".encode(),
                           f"<HoTen><![CDATA[{name}]]></HoTen>".encode(), 1)
    data = data.replace(b"<Lop>", b"<Lop >").replace(b"version=\"1\">", b"version=\"&#x31;\">", 1)
    rep = _verify(rt_verifier, data)
    assert_passed(rep)
    assert rep.record is not None and rep.record["student"] == name


def test_whitespace_added_inside_signed_text(rt_verifier: Verifier, our_xml: bytes) -> None:
    data = our_xml.replace(b"<Diem>", b"<Diem> ", 1)
    assert_not_passed(_verify(rt_verifier, data))


def test_text_between_signed_blocks(rt_verifier: Verifier, our_xml: bytes) -> None:
    root = tree(our_xml)
    years(root)[0].tail = "\n  Điểm Toán năm lớp 1 sửa thành 10\n  "
    assert_not_passed(_verify(rt_verifier, dump(root)))


def test_forged_year_inside_unsigned_properties_is_not_shown(rt_verifier: Verifier,
                                                            our_xml: bytes) -> None:
    root = tree(our_xml)
    forged = _forge_year(years(root)[-1])
    forged.set("schoolYear", "2026-2027")
    forged.set("Id", "forged-year")
    usp = next(sigs(root)[-1].iter(xa("UnsignedSignatureProperties")))
    usp.append(forged)
    rep = _verify(rt_verifier, dump(root))
    assert rep.record is None or rep.record.get("school_year") != "2026-2027", summary(rep)


# --- timestamps, keys, algorithms --------------------------------------------------------------

def test_signature_timestamp_from_other_signature_pasted(rt_verifier: Verifier, our_xml: bytes) -> None:
    root = tree(our_xml)
    t, p = sigs(root)
    t_ts = next(t.iter(xa("SignatureTimeStamp")))
    p_ts = next(p.iter(xa("SignatureTimeStamp")))
    p_ts.getparent().replace(p_ts, deep(t_ts))
    rep = _verify(rt_verifier, dump(root))
    ps = rep.signatures[1]
    assert ps.level != "B-T", summary(rep)
    assert ps.timestamp is None or not ps.timestamp.valid


@pytest.fixture(scope="session")
def our_xml_lta(our_xml: bytes, our_sign: Callable[..., bytes]) -> bytes:
    return our_sign(our_xml, "r.xml", "seal", level="B-LTA")


def _ats(sig: Any) -> Any:
    return next(el for el in sig.iter() if isinstance(el.tag, str)
                and etree.QName(el).localname == "ArchiveTimeStamp")


def test_archive_timestamp_over_wrong_data(rt_verifier: Verifier, our_xml_lta: bytes,
                                           record_xml: bytes, our_sign: Callable[..., bytes]) -> None:
    """The ArchiveTimeStamp is replaced by one from another record's seal signature."""
    other = tree(our_sign(our_sign(our_sign(
        record_xml.replace(b"<Lop>", b"<Lop>", 1), "o.xml", "teacher"), "o.xml", "principal"),
        "o.xml", "seal", level="B-LTA"))
    root = tree(our_xml_lta)
    mine = _ats(sigs(root)[-1])
    theirs = _ats(sigs(other)[-1])
    mine.getparent().replace(mine, deep(theirs))
    rep = _verify(rt_verifier, dump(root))
    seal = rep.signatures[-1]
    assert seal.level != "B-LTA", summary(rep)


def test_keyinfo_certificate_swapped_for_same_subject(rt_verifier: Verifier, our_xml: bytes,
                                                      test_pki: PkiLayout) -> None:
    from asn1crypto import pem

    _, _, der = pem.unarmor(test_pki.cert("rogue_teacher").read_bytes())
    root = tree(our_xml)
    t = sigs(root)[0]
    for x in t.iter(ds("X509Certificate")):
        x.text = base64.b64encode(der).decode()
    for x in t.iter(xa("EncapsulatedX509Certificate")):
        x.text = base64.b64encode(der).decode()
    rep = _verify(rt_verifier, dump(root))
    assert_not_passed(rep)
    assert rep.signatures[0].indication.value != "TOTAL_PASSED"


def test_hmac_signature_method_is_refused(rt_verifier: Verifier, our_xml_teacher: bytes) -> None:
    """The teacher's signature re-'signed' with HMAC-SHA256 under a key the forger chose."""
    root = tree(our_xml_teacher)
    s = sigs(root)[0]
    si = s.find(ds("SignedInfo"))
    si.find(ds("SignatureMethod")).set("Algorithm", "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256")
    for r in si.findall(ds("Reference")):
        pass
    c14n = etree.tostring(si, method="c14n", exclusive=True)
    s.find(ds("SignatureValue")).text = base64.b64encode(
        hmac.new(b"secret", c14n, hashlib.sha256).digest()).decode()
    rep = _verify(rt_verifier, dump(root))
    assert_not_passed(rep)


class _Listener:
    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self._stop = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self) -> None:
        while not self._stop:
            try:
                c, _ = self.sock.accept()
                self.hits += 1
                c.close()
            except OSError:
                continue

    def close(self) -> None:
        self._stop = True
        self.t.join(2)
        self.sock.close()


def test_external_reference_uri_is_never_fetched(rt_verifier: Verifier, our_xml_teacher: bytes) -> None:
    lis = _Listener()
    try:
        root = tree(our_xml_teacher)
        si = sigs(root)[0].find(ds("SignedInfo"))
        ref = si.find(ds("Reference"))
        ref.set("URI", f"http://127.0.0.1:{lis.port}/hocsinh.xml")
        extra = deep(ref)
        extra.set("URI", f"http://127.0.0.1:{lis.port}/x")
        extra.attrib.pop("Id", None)
        si.append(extra)
        rep = _verify(rt_verifier, dump(root))
        time.sleep(0.3)
        assert lis.hits == 0, "the verifier contacted the external URI"
        assert_not_passed(rep)
    finally:
        lis.close()


# --- hostile sizes (no hang: 10 s per verification) ------------------------------------------

def test_huge_base64_signature_value(rt_verifier: Verifier, our_xml: bytes) -> None:
    root = tree(our_xml)
    sigs(root)[0].find(ds("SignatureValue")).text = base64.b64encode(b"\0" * 6_000_000).decode()
    assert_not_passed(_verify(rt_verifier, dump(root)))


def test_deeply_nested_unsigned_content(rt_verifier: Verifier, our_xml: bytes) -> None:
    depth = 5000
    data = our_xml.replace(b"</HocBa>", b"<a>" * depth + b"x" + b"</a>" * depth + b"</HocBa>")
    assert_not_passed(_verify(rt_verifier, data))


def test_ten_megabyte_text_node(rt_verifier: Verifier, our_xml: bytes) -> None:
    data = our_xml.replace(b"</HocBa>", b"<GhiChu>" + b"a" * 10_000_000 + b"</GhiChu></HocBa>")
    assert_not_passed(_verify(rt_verifier, data))


def test_many_small_unsigned_elements_no_quadratic_hang(rt_verifier: Verifier, our_xml: bytes) -> None:
    """400 000 empty elements (1.6 MB) before the signed blocks must verify in seconds."""
    junk = b"<a/>" * 400_000
    i = our_xml.index(b"<HocSinh")
    data = our_xml[:i] + b"<Rac>" + junk + b"</Rac>" + our_xml[i:]
    rep = timeboxed(lambda: rt_verifier.verify(data, name="junk.xml"), 5.0)
    assert_not_passed(rep)


def test_unsigned_empty_second_identity_block(rt_verifier: Verifier, our_xml: bytes) -> None:
    root = tree(our_xml)
    root.insert(0, etree.Element(rec("HocSinh")))
    rep = _verify(rt_verifier, dump(root))
    assert_not_passed(rep)


def test_unsigned_empty_element_inside_record(rt_verifier: Verifier, our_xml: bytes) -> None:
    root = tree(our_xml)
    sigs(root)[0].addprevious(etree.Element(rec("NamHoc")))
    rep = _verify(rt_verifier, dump(root))
    assert_not_passed(rep)


# --- which signatures vouch for the record (added with the fixes) ----------------------------

def _codes(sig: Any) -> set[str]:
    return {f.code for f in sig.findings}


def _check(rep: Any, name: str) -> Any:
    return next(c for c in rep.checks if c.name == name)


def test_pasted_unrelated_signature_is_named_and_does_not_count(
        rt_verifier: Verifier, our_xml_teacher: bytes, test_pki: PkiLayout) -> None:
    root = tree(our_xml_teacher)
    root.append(_principal_enveloping_notice(test_pki))
    rep = _verify(rt_verifier, dump(root))
    teacher, pasted = rep.signatures
    assert pasted.role == "principal" and pasted.indication.value == "TOTAL_PASSED"
    assert "not_a_record_signature" in _codes(pasted)
    assert "not_a_record_signature" not in _codes(teacher)
    roles = _check(rep, "required_roles")
    assert not roles.passed and "principal" in dict(roles.detail.args)["roles"]


def test_missing_role_is_named_per_school_year(
        rt_verifier: Verifier, record_xml: bytes, our_sign: Callable[..., bytes]) -> None:
    full = tree(record_xml)
    last_year = tree(record_xml)
    last_year.remove(years(last_year)[-1])
    old = tree(our_sign(our_sign(dump(last_year), "old.xml", "teacher"), "old.xml", "principal"))
    new = tree(our_sign(dump(full), "new.xml", "teacher"))
    for s in sigs(old):
        new.append(deep(s))
    rep = _verify(rt_verifier, dump(new))
    assert rep.indication.value == "TOTAL_FAILED"
    roles = _check(rep, "required_roles")
    args = dict(roles.detail.args)
    assert args["year"] == years(full)[-1].get("schoolYear") and args["roles"] == "principal"
    assert years(full)[-1].get("schoolYear") in roles.detail.render("en")


def test_generic_xml_signature_over_part_of_the_document_does_not_vouch(
        rt_policy: Any, test_pki: PkiLayout) -> None:
    """Any XML (not a record book): a signature counts for the roles only when it covers
    all content outside the signatures."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
    from signxml import XMLSigner, methods

    from ground.vocab import Role

    key, cert, extra = pkcs12.load_key_and_certificates(test_pki.p12("principal").read_bytes(),
                                                        b"123456")
    pems = [c.public_bytes(serialization.Encoding.PEM).decode() for c in [cert, *(extra or [])]]
    doc = etree.fromstring("<Doc xmlns='urn:x'><A Id='a'>signed</A><B>unsigned</B></Doc>")
    signed = XMLSigner(method=methods.enveloped, c14n_algorithm=
                       "http://www.w3.org/2001/10/xml-exc-c14n#").sign(
        doc, key=key, cert=pems, reference_uri="#a")
    v = Verifier(rt_policy.replace(required_roles=(Role.PRINCIPAL,)))
    rep = _verify(v, dump(signed), "notice.xml")
    assert_not_passed(rep)
    assert "not_a_record_signature" in _codes(rep.signatures[0])
    assert not _check(rep, "required_roles").passed
    assert not _check(rep, "unsigned_content").passed


def test_many_comments_no_quadratic_hang(rt_verifier: Verifier, our_xml: bytes) -> None:
    """Comments are not content, but 400 000 of them must not cost quadratic time either."""
    i = our_xml.index(b"<HocSinh")
    data = our_xml[:i] + b"<!---->" * 400_000 + our_xml[i:]
    rep = timeboxed(lambda: rt_verifier.verify(data, name="comments.xml"), 5.0)
    assert_passed(rep)

"""XML canonicalisation exactly as libxmlsec1 (python-xmlsec): documents signed by
libxmlsec1 itself, in the namespace layouts other tools produce, must verify
(integrity true), and their forged twins must not.

Each case is a document template with a ``ds:Signature`` skeleton that libxmlsec1
fills in (digests over its own C14N, then the RSA value). None of it is made by
hocba's signer.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography import x509
from cryptography.x509.oid import NameOID
from datetime import datetime, timedelta, timezone
from lxml import etree

xmlsec = pytest.importorskip("xmlsec")

from ground.xmlsafe import parse_xml  # noqa: E402
from verifier.xml_dsig import DS, Document, parse_signature, verify_signature_value  # noqa: E402

C10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C10C = C10 + "#WithComments"
C11 = "http://www.w3.org/2006/12/xml-c14n11"
EXC = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENV = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"


@dataclass(frozen=True)
class Case:
    name: str
    body: str  # the document; {sig} marks where the signature goes
    uri: str
    transforms: tuple[str, ...]
    si_c14n: str = EXC
    prefix: str = "ds"  # prefix of the signature elements ("" = default namespace)
    inclusive: str | None = None  # InclusiveNamespaces PrefixList on the exc-c14n transform
    also_default: bool = False  # declare the DS namespace as default too (xmlns + xmlns:dsig)


def _sig_xml(c: Case) -> str:
    p = f"{c.prefix}:" if c.prefix else ""
    decl = f'xmlns:{c.prefix}="{DS}"' if c.prefix else f'xmlns="{DS}"'
    if c.also_default and c.prefix:
        decl = f'xmlns="{DS}" ' + decl
    tr = ""
    for t in c.transforms:
        inner = ""
        if t == EXC and c.inclusive is not None:
            inner = (f'<ec:InclusiveNamespaces xmlns:ec="{EXC}" PrefixList="{c.inclusive}"/>')
        tr += f'<{p}Transform Algorithm="{t}">{inner}</{p}Transform>'
    trs = f"<{p}Transforms>{tr}</{p}Transforms>" if tr else ""
    return (f'<{p}Signature {decl} Id="sig"><{p}SignedInfo>'
            f'<{p}CanonicalizationMethod Algorithm="{c.si_c14n}"/>'
            f'<{p}SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
            f'<{p}Reference URI="{c.uri}">{trs}'
            f'<{p}DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
            f'<{p}DigestValue/></{p}Reference></{p}SignedInfo><{p}SignatureValue/>'
            f'<{p}KeyInfo><{p}X509Data/></{p}KeyInfo></{p}Signature>')


CASES = [
    Case("default-ns-ancestor", '<r xmlns="urn:a"><x Id="x"><y>1</y></x>{sig}</r>', "#x", (EXC,)),
    Case("default-ns-ancestor-inclusive", '<r xmlns="urn:a" xmlns:p="urn:p"><x Id="x"><y>1</y></x>{sig}</r>',
         "#x", (C10,), si_c14n=C10),
    Case("undeclared-default-inclusive",
         '<r xmlns="urn:a"><x xmlns="" Id="x"><y>1</y></x>{sig}</r>', "#x", (C10,), si_c14n=C10),
    Case("default-redeclared-inside",
         '<r xmlns="urn:a"><x Id="x" xmlns="urn:b"><y xmlns="urn:a">1</y><z xmlns="">2</z></x>{sig}</r>',
         "#x", (C10,), si_c14n=C10),
    Case("same-uri-two-prefixes",
         '<r xmlns="urn:a"><x Id="x">v</x>{sig}</r>', "#x", (C10,), si_c14n=C10, prefix="dsig"),
    Case("xmlns-and-prefix-on-signature", '<player id="1"><name>A</name>{sig}</player>', "",
         (ENV,), si_c14n=C10, prefix="dsig", also_default=True),
    Case("xmlns-and-prefix-exclusive", '<r xmlns="urn:a"><x Id="x">v</x>{sig}</r>', "#x",
         (EXC,), prefix="dsig", also_default=True),
    Case("xml-lang-inherited-c14n10",
         '<r xml:lang="vi" xml:space="preserve"><x Id="x">Chào</x>{sig}</r>', "#x", (C10,), si_c14n=C10),
    Case("xml-lang-inherited-c14n11",
         '<r xml:lang="vi" xml:base="http://e/"><x Id="x">Chào</x>{sig}</r>', "#x", (C11,), si_c14n=C11),
    Case("exclusive-inclusive-namespaces",
         '<r xmlns:p="urn:p" xmlns:q="urn:q"><x Id="x" a="p:v">1</x>{sig}</r>', "#x", (EXC,),
         inclusive="p"),
    Case("enveloped-in-namespaced-doc",
         '<a:r xmlns:a="urn:a" xmlns:b="urn:b">\n  <b:x k="1">text</b:x>\n  {sig}\n</a:r>', "",
         (ENV, C10), si_c14n=C10),
    Case("enveloped-exclusive", '<r xmlns="urn:a" xmlns:u="urn:unused"><x>1</x>{sig}</r>', "",
         (ENV, EXC)),
    Case("comments-with-comments",
         '<r><x Id="x"><!-- c -->1</x>{sig}</r>', "#x", (C10C,), si_c14n=C10),
    Case("signature-in-signed-element",
         '<r xmlns="urn:a"><x Id="x"><y>1</y>{sig}</x></r>', "#x", (ENV, EXC)),
    Case("default-ns-signature-enveloped",
         '<r xmlns="urn:a"><x>1</x>{sig}</r>', "", (ENV, C10), si_c14n=C10, prefix=""),
]


@pytest.fixture(scope="module")
def rsa_key() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "libxmlsec1 interop")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .sign(key, hashes.SHA256()))
    return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()),
            cert.public_bytes(serialization.Encoding.PEM))


def xmlsec_sign(c: Case, key_pem: bytes, cert_pem: bytes) -> bytes:
    doc = etree.fromstring(c.body.replace("{sig}", _sig_xml(c)).encode())
    sig = doc.find(f".//{{{DS}}}Signature")
    xmlsec.tree.add_ids(doc, ["Id"])
    ctx = xmlsec.SignatureContext()
    k = xmlsec.Key.from_memory(key_pem, xmlsec.constants.KeyDataFormatPem)
    k.load_cert_from_memory(cert_pem, xmlsec.constants.KeyDataFormatPem)
    ctx.key = k
    ctx.sign(sig)
    return etree.tostring(doc)


def judge(data: bytes) -> tuple[bool, bool]:
    """(every reference digest matches, signature value verifies)."""
    doc = Document(parse_xml(data))
    sig = next(doc.root.iter(f"{{{DS}}}Signature"))
    core = parse_signature(doc, sig, 0)
    assert core.error is None, core.error
    refs_ok = all(r.valid for r in core.references)
    from cryptography.x509 import load_der_x509_certificate

    cert = load_der_x509_certificate(core.keyinfo_certs[0])
    assert core.algorithm is not None
    kind, digest, pad, salt = core.algorithm
    return refs_ok, verify_signature_value(cert.public_key(), kind, digest, pad, salt,
                                           core.signature_value, core.c14n_signed_info)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_libxmlsec1_signed_document_verifies(case: Case, rsa_key: tuple[bytes, bytes]) -> None:
    data = xmlsec_sign(case, *rsa_key)
    assert judge(data) == (True, True), data.decode()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_libxmlsec1_signed_document_with_changed_content_fails(
        case: Case, rsa_key: tuple[bytes, bytes]) -> None:
    data = xmlsec_sign(case, *rsa_key)
    old, new = (b">1<", b">2<") if b">1<" in data else (b">v<", b">w<") if b">v<" in data else (
        b">text<", b">texT<") if b">text<" in data else (b">A<", b">B<") if b">A<" in data else (
        b"Ch&#224;o", b"Chao")
    assert old in data, data
    forged = data.replace(old, new, 1)
    refs_ok, _ = judge(forged)
    assert refs_ok is False

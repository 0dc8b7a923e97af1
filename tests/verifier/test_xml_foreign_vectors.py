"""XML records made by other software, each class both ways: genuine accepted, forged
twin refused. Made with lxml + cryptography (tests/verifier/_xml_fixtures.py) and
python-xmlsec, never with hocba's signer."""
from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from certs.pki import PkiLayout
from ground.vocab import Indication, SubIndication
from tests.verifier._xml_fixtures import DS, XADES, dsig_sign, record_xml
from verifier.core import Verifier

pytestmark = pytest.mark.xdist_group("xml-verify")
I, S = Indication, SubIndication
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"


@pytest.fixture(scope="module")
def sign(test_pki: PkiLayout, pin: str) -> Any:
    def go(xml: bytes, role: str, **kw: Any) -> bytes:
        return dsig_sign(xml, test_pki.p12(role), pin, role=role, **kw)
    return go


def _edit_signing_time(xml: bytes) -> bytes:
    root = etree.fromstring(xml)
    st = next(root.iter(f"{{{XADES}}}SigningTime"))
    st.text = "2020-01-01T00:00:00Z"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.mark.parametrize("variant", [
    {"sp_type": False}, {"signing_cert_v1": True}, {"sp_type": False, "signing_cert_v1": True}],
    ids=["sp-reference-without-type", "signing-certificate-v1", "both-xades-1.3.2-habits"])
def test_xades_132_habits_pass_and_their_signed_property_forgery_fails(
        verifier: Verifier, sign: Any, trust_services: object, variant: dict[str, bool]) -> None:
    data = sign(sign(record_xml(), "teacher", **variant), "principal", **variant)
    r = verifier.verify(data, name="x132.xml")
    assert r.indication is I.TOTAL_PASSED, r.to_dict("en")
    forged = verifier.verify(_edit_signing_time(data), name="x132-forged.xml")
    assert forged.signatures[0].integrity is False
    assert forged.indication is I.TOTAL_FAILED


def _wsu_document(dup: bool = False) -> bytes:
    body = (f'<env:Envelope xmlns:env="urn:env" xmlns:wsu="{WSU}"><env:Body wsu:Id="body">'
            f'<v>42</v></env:Body>'
            + (f'<env:Body wsu:Id="body"><v>1</v></env:Body>' if dup else "")
            + "</env:Envelope>")
    return body.encode()


def _sign_wsu(data: bytes, test_pki: PkiLayout, pin: str) -> bytes:
    """WS-Security style: the reference points at a wsu:Id, signed by libxmlsec1."""
    xmlsec = pytest.importorskip("xmlsec")
    from cryptography.hazmat.primitives.serialization import (Encoding, NoEncryption,
                                                              PrivateFormat, pkcs12)

    key, cert, _ = pkcs12.load_key_and_certificates(test_pki.p12("teacher").read_bytes(),
                                                    pin.encode())
    assert key is not None and cert is not None
    root = etree.fromstring(data)
    sig = xmlsec.template.create(root, xmlsec.constants.TransformExclC14N,
                                 xmlsec.constants.TransformRsaSha256, ns="ds")
    root.append(sig)
    ref = xmlsec.template.add_reference(sig, xmlsec.constants.TransformSha256, uri="#body")
    xmlsec.template.add_transform(ref, xmlsec.constants.TransformExclC14N)
    ki = xmlsec.template.ensure_key_info(sig)
    xmlsec.template.add_x509_data(ki)
    xmlsec.tree.add_ids(root, ["Id"])
    ctx = xmlsec.SignatureContext()
    k = xmlsec.Key.from_memory(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8,
                                                 NoEncryption()), xmlsec.constants.KeyDataFormatPem)
    k.load_cert_from_memory(cert.public_bytes(Encoding.PEM), xmlsec.constants.KeyDataFormatPem)
    ctx.key = k
    ctx.sign(sig)
    return etree.tostring(root)


def test_wsu_id_reference_signed_by_libxmlsec1_is_intact(
        verifier: Verifier, test_pki: PkiLayout, pin: str) -> None:
    data = _sign_wsu(_wsu_document(), test_pki, pin)
    r = verifier.verify(data, name="wsu.xml")
    s = r.signatures[0]
    assert s.integrity is True, r.to_dict("en")
    assert next(c for c in r.checks if c.name == "unsigned_content").passed
    assert next(c for c in r.checks if c.name == "duplicate_ids").passed


def test_wsu_id_duplicated_by_a_wrapping_attack_fails(
        verifier: Verifier, test_pki: PkiLayout, pin: str) -> None:
    good = _sign_wsu(_wsu_document(), test_pki, pin)
    root = etree.fromstring(good)
    body = root.find("{urn:env}Body")
    fake = etree.fromstring(f'<env:Body xmlns:env="urn:env" xmlns:wsu="{WSU}" '
                            f'wsu:Id="body"><v>1</v></env:Body>')
    body.addprevious(fake)
    r = verifier.verify(etree.tostring(root), name="wsu-xsw.xml")
    assert r.indication is I.TOTAL_FAILED
    assert not next(c for c in r.checks if c.name == "duplicate_ids").passed

"""CAdES signature containers for PAdES, assembled from per-batch DER templates.

pyHanko rebuilds (and re-encodes, through asn1crypto) the whole CMS
``SignedData`` for every document: certificates, algorithm identifiers,
signing-certificate-v2, and it does so twice (once as a size estimate). In a
batch only the message digest, the signature value and the timestamp token
change, so :class:`TemplateSigner` encodes everything else once and splices
the per-file values in as bytes. The output is the same structure pyHanko
produces for PAdES (ETSI EN 319 142-1 clause 5.2 / EN 319 122-1 clause 5):

- signed attributes: content-type, message-digest, ESS signing-certificate-v2,
  CMS algorithm protection (RFC 6211) and signer-attributes-v2 carrying the
  claimed role (EN 319 122-1 clause 5.2.6.1); no signing-time (PAdES puts the
  claimed time in the signature dictionary's ``/M``);
- unsigned attributes (B-T and up): signature-time-stamp (EN 319 122-1 5.3).

The raw signature still goes through the wrapped pyHanko ``Signer`` (PKCS#12
key or PKCS#11 token), so both key sources share this path.
"""
from __future__ import annotations

import hashlib
from typing import Any

from asn1crypto import algos, cms, core, tsp, x509
from pyhanko.sign import signers
from pyhanko.sign.ades.cades_asn1 import SignerAttributesV2

from ground.declared_role import cades_role_attribute  # noqa: E402

_OID_DATA = "1.2.840.113549.1.7.1"
_OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
_OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
_OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_OID_SIG_TST = "1.2.840.113549.1.9.16.2.14"


def _len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _len(len(content)) + content


def _oid(dotted: str) -> bytes:
    der: bytes = core.ObjectIdentifier(dotted).dump()  # asn1crypto is untyped
    return der


def _attribute(oid: str, value_der: bytes) -> bytes:
    return tlv(0x30, _oid(oid) + tlv(0x31, value_der))


def role_attribute_value(role: str) -> SignerAttributesV2:
    """signer-attributes-v2 claiming ``role`` (the codec lives in the shared ground)."""
    value: SignerAttributesV2 = cades_role_attribute(role)
    return value


class TemplateSigner(signers.Signer):
    """Wraps a pyHanko ``Signer``; builds its CMS from templates made once."""

    def __init__(self, inner: signers.Signer, digest: str, role: str | None) -> None:
        super().__init__(signing_cert=inner.signing_cert, cert_registry=inner.cert_registry,
                         signature_mechanism=inner.get_signature_mechanism_for_digest(digest),
                         embed_roots=True)
        self.inner = inner
        self.digest = digest
        self.role = role
        self._build_templates()

    def _build_templates(self) -> None:
        cert: x509.Certificate = self.inner.signing_cert
        digest = self.digest
        mech = self.get_signature_mechanism_for_digest(digest)
        digest_alg = algos.DigestAlgorithm({"algorithm": digest})
        self._digest_alg_der = digest_alg.dump()
        self._sig_alg_der = mech.dump()
        # Static signed attributes (DER of each Attribute).
        static = [
            _attribute(_OID_CONTENT_TYPE, _oid(_OID_DATA)),
            cms.CMSAttribute({
                "type": "signing_certificate_v2",
                "values": [tsp.SigningCertificateV2({"certs": [tsp.ESSCertIDv2({
                    "hash_algorithm": {"algorithm": digest},
                    "cert_hash": hashlib.new(digest, cert.dump()).digest(),
                    "issuer_serial": {
                        "issuer": [x509.GeneralName({"directory_name": cert.issuer})],
                        "serial_number": cert.serial_number,
                    },
                })]})],
            }).dump(),
            cms.CMSAttribute({
                "type": "cms_algorithm_protection",
                "values": [cms.CMSAlgorithmProtection({
                    "digest_algorithm": digest_alg, "signature_algorithm": mech,
                })],
            }).dump(),
        ]
        if self.role:
            static.append(_attribute("0.4.0.19122.1.1", role_attribute_value(self.role).dump()))
        self._static_attrs = static
        sid = cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber({
            "issuer": cert.issuer, "serial_number": cert.serial_number})})
        self._sid_der = sid.dump()
        # The chain: the signing certificate and everything in the registry
        # (EN 319 142-1 5.2: the signing certificate shall be present).
        ders = {cert.dump()}
        for c in self.inner.cert_registry or ():
            ders.add(c.dump())
        self._certs_der = b"".join(sorted(ders))

    # -- signature value through the wrapped key ---------------------------------

    async def async_sign_raw(self, data: bytes, digest_algorithm: str,
                             dry_run: bool = False) -> bytes:
        return await self.inner.async_sign_raw(data, digest_algorithm, dry_run=dry_run)

    # -- the CMS ---------------------------------------------------------------------

    def signed_attrs_der(self, document_digest: bytes) -> bytes:
        attrs = self._static_attrs + [
            _attribute(_OID_MESSAGE_DIGEST, tlv(0x04, document_digest))]
        # DER: SET OF sorted by encoding (X.690 11.6)
        return tlv(0x31, b"".join(sorted(attrs)))

    async def build_cms(self, document_digest: bytes, timestamper: Any = None,
                        signature: bytes | None = None) -> bytes:
        """The CMS for ``document_digest``; ``signature``: a value made elsewhere (two-step
        signing), else the wrapped key signs the signed attributes now."""
        signed_attrs = self.signed_attrs_der(document_digest)
        if signature is None:
            signature = await self.async_sign_raw(signed_attrs, self.digest)
        unsigned = b""
        if timestamper is not None:
            # EN 319 122-1 5.3: signature-time-stamp over the signature value.
            tst_digest = hashlib.new(self.digest, signature).digest()
            token = await timestamper.async_timestamp(tst_digest, self.digest)
            unsigned = tlv(0xA1, _attribute(_OID_SIG_TST, token.dump()))
        signer_info = tlv(0x30, b"".join((
            b"\x02\x01\x01", self._sid_der, self._digest_alg_der,
            b"\xa0" + signed_attrs[1:],  # [0] IMPLICIT SET OF Attribute
            self._sig_alg_der, tlv(0x04, signature), unsigned,
        )))
        signed_data = tlv(0x30, b"".join((
            b"\x02\x01\x01", tlv(0x31, self._digest_alg_der), tlv(0x30, _oid(_OID_DATA)),
            tlv(0xA0, self._certs_der), tlv(0x31, signer_info),
        )))
        return tlv(0x30, _oid(_OID_SIGNED_DATA) + tlv(0xA0, signed_data))

    async def async_sign(self, data_digest: bytes, digest_algorithm: str, dry_run: bool = False,
                         use_pades: bool = False, timestamper: Any = None,
                         signed_attr_settings: Any = None, is_pdf_sig: bool = True,
                         encap_content_info: Any = None) -> cms.ContentInfo:
        if digest_algorithm != self.digest or encap_content_info is not None or dry_run:
            return await super().async_sign(
                data_digest, digest_algorithm, dry_run=dry_run, use_pades=use_pades,
                timestamper=timestamper, signed_attr_settings=signed_attr_settings,
                is_pdf_sig=is_pdf_sig, encap_content_info=encap_content_info)
        der = await self.build_cms(data_digest, timestamper)
        # Loaded, not built: pyHanko's dump() returns these exact bytes.
        return cms.ContentInfo.load(der)


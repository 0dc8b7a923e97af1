"""Signing ETSI TS 119 102-2 validation reports (issue 17): an enveloped XAdES
signature (B-B, or B-T with a signature timestamp), so a university can archive a
report that itself verifies in `hocba verify`, xmlsec1 and signxml.

The report is the whole document: one ``ds:Reference URI=""`` with the
enveloped-signature and exclusive C14N transforms, plus the reference to the
SignedProperties (SigningTime, SigningCertificateV2). The ``ds:Signature`` is the last
child of ``vr:ValidationReport``, where TS 119 102-2 puts the report's signature. The
key, its certificate chain and the TSA session are opened once per run.
"""
from __future__ import annotations

import asyncio
import hashlib
import os
from typing import Any

from lxml import etree

from ground.config import Config
from ground.errors import HocbaError, UsageError
from ground.xmlsafe import parse_xml
from signer.xades import (DIGEST_URIS, EXC_C14N, SIGNED_PROPERTIES_TYPE, _b64, _ds, _fast_signer,
                          _key_material, _sub, _xa, c14n, signature_skeleton)

ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"


class ReportSigner:
    """Open once (:meth:`open`), then :meth:`sign` each report."""

    def __init__(self, signer: Any, config: Config, handle: Any = None) -> None:
        self._handle = handle
        self.config = config
        self.level = config.report.level
        self._signer = _fast_signer(signer, config.signing.rsa_padding, config.signing.digest)
        self._key = _key_material(self._signer, config.signing.digest,
                                  config.signing.rsa_padding)
        self._timestamper: Any = None
        if self.level == "B-T":
            if not config.timestamp.url:
                raise UsageError("signer.report.needs_tsa")
            from signer.tsa import timestamper_for

            self._timestamper = timestamper_for(config)
        self._loop = asyncio.new_event_loop()

    @classmethod
    def open(cls, config: Config) -> "ReportSigner":
        from signer.keys import KeySource, load_pkcs12_signer, open_pkcs11_signer

        rc = config.report
        pin = os.environ.get("HOCBA_REPORT_PIN") or os.environ.get("HOCBA_PIN")
        if pin is None:
            raise UsageError("signer.report.no_pin")
        if rc.pkcs11_module:
            source = KeySource(pkcs11_module=rc.pkcs11_module, token_label=rc.token_label,
                               key_label=rc.key_label)
            source.check()
            handle = open_pkcs11_signer(source, pin, config)
            return cls(handle.signer, config, handle)
        assert rc.signing_key is not None
        return cls(load_pkcs12_signer(rc.signing_key, pin, config), config)

    def close(self) -> None:
        if not self._loop.is_closed():
            self._loop.close()
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def sign(self, report: bytes) -> bytes:
        """``report`` with its enveloped XAdES signature appended to the root."""
        return self._loop.run_until_complete(self._sign(report))

    async def _sign(self, report: bytes) -> bytes:
        tree = parse_xml(report, max_depth=self.config.limits.max_xml_depth)
        root = tree.getroot()
        key = self._key
        # The enveloped reference's digest: the document as it is now, i.e. without
        # the signature the enveloped-signature transform will remove.
        doc_digest = hashlib.new(key.digest, c14n(root)).digest()
        sid = "validation-report-signature"
        sk = signature_skeleton(root, sid, key)
        sk.sig.tail = None  # no text after the signature: the enveloped digest is of the report as it was
        signed_info, value_el, qp, sp, ssp = (sk.signed_info, sk.value, sk.qualifying,
                                               sk.signed_props, sk.ssp)
        ref = _sub(signed_info, _ds("Reference"), Id=f"{sid}-ref-0", URI="")
        transforms = _sub(ref, _ds("Transforms"))
        _sub(transforms, _ds("Transform"), Algorithm=ENVELOPED)
        _sub(transforms, _ds("Transform"), Algorithm=EXC_C14N)
        _sub(ref, _ds("DigestMethod"), Algorithm=DIGEST_URIS[key.digest])
        _sub(ref, _ds("DigestValue"), _b64(doc_digest))
        # XAdES 1.3.2 SigningCertificate (v1): the report schema validates ds:Object
        # content laxly against XAdES 1.3.2, which has no SigningCertificateV2.
        _signing_certificate_v1(ssp, key.cert, key.digest)
        sdop = _sub(sp, _xa("SignedDataObjectProperties"))
        dof = _sub(sdop, _xa("DataObjectFormat"), ObjectReference=f"#{sid}-ref-0")
        _sub(dof, _xa("Description"), "ETSI TS 119 102-2 validation report")
        _sub(dof, _xa("MimeType"), "text/xml")
        sp_ref = _sub(signed_info, _ds("Reference"), Type=SIGNED_PROPERTIES_TYPE,
                      URI=f"#{sp.get('Id')}")
        t = _sub(sp_ref, _ds("Transforms"))
        _sub(t, _ds("Transform"), Algorithm=EXC_C14N)
        _sub(sp_ref, _ds("DigestMethod"), Algorithm=DIGEST_URIS[key.digest])
        _sub(sp_ref, _ds("DigestValue"), _b64(hashlib.new(key.digest, c14n(sp)).digest()))
        raw = await self._signer.async_sign_raw(c14n(signed_info), key.digest)
        value_el.text = _b64(_xmldsig_value(raw, key.ecdsa_len))
        if self._timestamper is not None:
            digest = hashlib.sha256(c14n(value_el)).digest()
            try:
                token = await self._timestamper.async_timestamp(digest, "sha256")
            except Exception as e:  # noqa: BLE001 - the TSA is remote: one line for the user
                # a TimestampError (ours) renders in the message's language; others as written
                raise HocbaError("signer.report.timestamp_failed",
                                 detail=e if isinstance(e, HocbaError) else str(e)) from None
            up = _sub(qp, _xa("UnsignedProperties"))
            usp = _sub(up, _xa("UnsignedSignatureProperties"))
            ts = _sub(usp, _xa("SignatureTimeStamp"), Id=f"{sid}-sigts")
            _sub(ts, _ds("CanonicalizationMethod"), Algorithm=EXC_C14N)
            _sub(ts, _xa("EncapsulatedTimeStamp"), _b64(token.dump()))
        return bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))


def _signing_certificate_v1(parent: etree._Element, cert: Any, digest: str) -> None:
    from cryptography import x509 as cx509

    sc = _sub(parent, _xa("SigningCertificate"))
    c = _sub(sc, _xa("Cert"))
    cd = _sub(c, _xa("CertDigest"))
    _sub(cd, _ds("DigestMethod"), Algorithm=DIGEST_URIS[digest])
    _sub(cd, _ds("DigestValue"), _b64(hashlib.new(digest, cert.dump()).digest()))
    iss = _sub(c, _xa("IssuerSerial"))
    _sub(iss, _ds("X509IssuerName"),
         cx509.load_der_x509_certificate(cert.dump()).issuer.rfc4514_string())
    _sub(iss, _ds("X509SerialNumber"), str(cert.serial_number))


def _xmldsig_value(raw: bytes, ecdsa_len: int | None) -> bytes:
    """XMLDSig form of a raw value (ECDSA: DER -> r||s)."""
    if ecdsa_len is None:
        return raw
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    try:
        r, s = decode_dss_signature(raw)
    except ValueError:
        return raw  # already r||s
    return r.to_bytes(ecdsa_len, "big") + s.to_bytes(ecdsa_len, "big")

"""Certificate loading: the one reader of PEM (bundles too), DER, base64-DER and PKCS#7
(.p7b) certificate data, used by the configuration, the signing prechecks, the
two-step service and the verification policy.
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from pathlib import Path

from asn1crypto import cms, pem, x509

from ground.errors import UsageError


class NotACertificate(ValueError):
    """The data holds no certificate in any supported encoding."""


def parse_certificates(data: bytes | str) -> list[x509.Certificate]:
    """Every certificate in ``data``: PEM blocks (CERTIFICATE or PKCS7), a DER
    certificate, a DER PKCS#7 SignedData (.p7b), or base64 of DER. Fully parsed, so
    garbage fails here, not later. Raises :class:`NotACertificate`."""
    raw = data.encode("ascii", "replace") if isinstance(data, str) else bytes(data)
    try:
        if pem.detect(raw):
            out: list[x509.Certificate] = []
            for kind, _, der in pem.unarmor(raw, multiple=True):
                out.extend(_from_der(der, pkcs7=kind in ("PKCS7", "CMS")))
            if not out:
                raise NotACertificate("no certificate in the PEM data")
            return out
        if not raw.startswith(b"\x30"):
            raw = base64.b64decode(b"".join(raw.split()), validate=True)
        return _from_der(raw, pkcs7=None)
    except NotACertificate:
        raise
    except (ValueError, TypeError, KeyError, binascii.Error) as e:
        raise NotACertificate(str(e) or "not a certificate") from None


def _from_der(der: bytes, pkcs7: bool | None) -> list[x509.Certificate]:
    if pkcs7 is not True:
        try:
            cert = x509.Certificate.load(der)
            cert.native  # noqa: B018 - force a full parse
            return [cert]
        except (ValueError, TypeError, KeyError):
            if pkcs7 is False:
                raise
    info = cms.ContentInfo.load(der)
    content = info["content"]
    if not isinstance(content, cms.SignedData):
        raise NotACertificate("PKCS#7 data without certificates")
    out = []
    for choice in content["certificates"] or ():
        if choice.name == "certificate":
            cert = choice.chosen
            cert.native  # noqa: B018
            out.append(cert)
    return out


def load_certificates(path: Path | str) -> tuple[x509.Certificate, ...]:
    """Every certificate of a file; a clear :class:`UsageError` otherwise."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise UsageError("ground.certificates.err.unreadable", path=p,
                         detail=e.strerror or str(e)) from None
    try:
        return tuple(parse_certificates(data))
    except NotACertificate:
        raise UsageError("ground.certificates.err.not_certificate", path=p) from None


def load_all(paths: Iterable[Path | str]) -> list[x509.Certificate]:
    return [c for p in paths for c in load_certificates(p)]

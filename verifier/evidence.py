"""Collect a signature's validation objects into :class:`verifier.report.Evidence`, for
both formats (the ETSI TS 119 102-2 report, :mod:`verifier.etsi`)."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from asn1crypto import cms, crl, ocsp

from ground.judge import CertResult, TimestampResult
from verifier.report import Evidence


def _path_der(res: CertResult | None, cert: Any) -> tuple[tuple[bytes, ...], bool]:
    """Signer first, then towards the anchor; (DER list, anchor reached)."""
    if res is not None and res.path is not None:
        try:
            certs = list(res.path)  # anchor first
            return tuple(c.dump() for c in reversed(certs)), True
        except Exception:  # noqa: BLE001 - bookkeeping only
            pass
    return ((cert.dump(),) if cert is not None else ()), False


def _split(revinfo: Iterable[Any]) -> tuple[list[bytes], list[bytes]]:
    ocsps, crls = [], []
    for r in revinfo:
        if isinstance(r, ocsp.OCSPResponse):
            ocsps.append(r.dump())
        elif isinstance(r, crl.CertificateList):
            crls.append(r.dump())
    return ocsps, crls


def token_der(token: Any) -> bytes:
    """A timestamp token (ContentInfo or its SignedData) as ContentInfo DER."""
    if isinstance(token, cms.ContentInfo):
        return bytes(token.dump())
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": token}).dump())


def digest(algo: str | None, data: bytes) -> tuple[str, bytes] | None:
    name = (algo or "sha256").replace("-", "").lower()
    try:
        return name, hashlib.new(name, data).digest()
    except (ValueError, TypeError):
        return None


def build(cert: Any, cert_res: CertResult | None, *, signature_value: bytes | None,
          dtbs_digest: tuple[str, bytes] | None, signers_document: tuple[str, bytes] | None,
          timestamps: Sequence[tuple[Any, datetime | None, str, TimestampResult | None]] = ()
          ) -> Evidence:
    """Evidence of one signature: its certificate path and revocation data, and each
    timestamp token with its TSA's path and revocation data."""
    certs, anchored = _path_der(cert_res, cert)
    ocsps, crls = _split(cert_res.revinfo if cert_res is not None else ())
    tokens: list[tuple[bytes, datetime | None, str, bool]] = []
    tsa_certs: list[bytes] = []
    for token, when, kind, res in timestamps:
        try:
            der = token_der(token)
        except Exception:  # noqa: BLE001 - an unreadable token has no object to list
            continue
        tokens.append((der, when, kind, bool(res is not None and res.valid)))
        if res is not None and res.cert is not None:
            tc, _ = _path_der(res.cert, None)
            tsa_certs.extend(c for c in tc if c not in tsa_certs and c not in certs)
            o, c = _split(res.cert.revinfo)
            ocsps.extend(x for x in o if x not in ocsps)
            crls.extend(x for x in c if x not in crls)
    return Evidence(signature_value=signature_value, dtbs_digest=dtbs_digest,
                    signers_document=signers_document, certificates=certs,
                    anchor_found=anchored, ocsps=tuple(ocsps), crls=tuple(crls),
                    timestamps=tuple(tokens), tsa_certificates=tuple(tsa_certs))

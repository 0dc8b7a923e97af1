"""XAdES qualifying properties (ETSI EN 319 132-1, XAdES 1.3.2 / 1.4.1) read for validation.

Only reads and computes; judging is :mod:`verifier.xml`'s job. Every property is
looked up inside *this* signature's ``ds:Object/QualifyingProperties`` whose
``Target`` names this signature, never by a document-wide search, so a forged
``SignedProperties`` elsewhere in the document (XSW) is never read.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from asn1crypto import cms, crl, ocsp
from asn1crypto import x509 as asn1_x509
from lxml import etree

from ground.vocab import SubIndication, nfc
from verifier.xml_dsig import (C14N, C14N_10, DIGESTS, DS, Document, DsigError, NodeSet,
                               b64, c14n_element, canonicalize, inclusive_prefixes, q,
                               reference_octets)

XADES_NAMESPACES = (
    "http://uri.etsi.org/01903/v1.3.2#",
    "http://uri.etsi.org/01903/v1.1.1#",
    "http://uri.etsi.org/01903/v1.2.2#",
)
XADES141 = "http://uri.etsi.org/01903/v1.4.1#"
ALL_XADES = (*XADES_NAMESPACES, XADES141)
COUNTERSIGNED_TYPE_SUFFIX = "#CountersignedSignature"


def _local(el: Any) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _ns(el: Any) -> str:
    return etree.QName(el).namespace or "" if isinstance(el.tag, str) else ""


def _children(el: Any, local: str) -> list[Any]:
    return [c for c in el if isinstance(c.tag, str) and _local(c) == local and _ns(c) in ALL_XADES]


def _child(el: Any, local: str) -> Any:
    found = _children(el, local)
    return found[0] if found else None


@dataclass
class CertRef:
    digest_algorithm: str
    digest: bytes


@dataclass
class Timestamp:
    element: Any
    kind: str  # "signature" | "archive"
    token: cms.ContentInfo | None
    c14n_method: str
    prefixes: list[str] | None
    error: str | None = None


@dataclass
class Qualifying:
    """The XAdES properties of one signature (None fields = absent)."""

    qp: Any
    signed_props: Any = None
    signing_time: datetime | None = None
    signing_time_raw: str | None = None
    cert_refs: list[CertRef] = field(default_factory=list)
    has_signing_cert_property: bool = False
    claimed_roles: list[str] = field(default_factory=list)
    unsigned: Any = None  # UnsignedSignatureProperties
    timestamps: list[Timestamp] = field(default_factory=list)
    certificate_values: list[bytes] = field(default_factory=list)
    ocsp_values: list[bytes] = field(default_factory=list)
    crl_values: list[bytes] = field(default_factory=list)
    has_lt_values: bool = False
    target_ok: bool = True


def find_qualifying(sig: Any, sig_id: str | None) -> Qualifying | None:
    """This signature's QualifyingProperties (ds:Object child, Target = #Id)."""
    found = []
    for obj in sig.iterchildren(q(DS, "Object")):
        for qp in obj:
            if isinstance(qp.tag, str) and _local(qp) == "QualifyingProperties" and _ns(qp) in ALL_XADES:
                found.append(qp)
    if not found:
        return None
    if len(found) > 1:
        raise DsigError(SubIndication.FORMAT_FAILURE, "xades_multiple_qp")
    qp = found[0]
    out = _read(qp)
    # The properties are read from inside this signature's own ds:Object, so a wrong
    # Target cannot pull in another signature's properties; it is reported only.
    out.target_ok = bool(sig_id) and qp.get("Target") == "#" + (sig_id or "")
    return out


def _any_ns(el: Any, local: str) -> Any:
    for c in el:
        if isinstance(c.tag, str) and _local(c) == local and _ns(c) in (DS, *ALL_XADES):
            return c
    return None


def _read(qp: Any) -> Qualifying:
    out = Qualifying(qp)
    sps = _children(qp, "SignedProperties")
    if len(sps) > 1:
        raise DsigError(SubIndication.FORMAT_FAILURE, "xades_multiple_qp")
    if sps:
        sp = out.signed_props = sps[0]
        ssp = _child(sp, "SignedSignatureProperties")
        if ssp is not None:
            st = _child(ssp, "SigningTime")
            if st is not None and st.text:
                out.signing_time_raw = st.text.strip()
                out.signing_time = parse_time(out.signing_time_raw)
            for local in ("SigningCertificateV2", "SigningCertificate"):
                sc = _child(ssp, local)
                if sc is None:
                    continue
                out.has_signing_cert_property = True
                for cert in _children(sc, "Cert"):
                    cd = _child(cert, "CertDigest")
                    if cd is None:
                        continue
                    # ds: namespace normally; XAdES 1.1.1 put them in its own namespace.
                    dm = _any_ns(cd, "DigestMethod")
                    dv = _any_ns(cd, "DigestValue")
                    algo = DIGESTS.get(dm.get("Algorithm") or "") if dm is not None else None
                    if algo is None or dv is None:
                        continue
                    out.cert_refs.append(CertRef(algo, b64(dv.text)))
            for local in ("SignerRoleV2", "SignerRole"):
                sr = _child(ssp, local)
                if sr is None:
                    continue
                cr = _child(sr, "ClaimedRoles")
                if cr is not None:
                    for role in _children(cr, "ClaimedRole"):
                        text = "".join(role.itertext()).strip()
                        if text:
                            out.claimed_roles.append(nfc(text))
    up = _child(qp, "UnsignedProperties")
    usp = _child(up, "UnsignedSignatureProperties") if up is not None else None
    out.unsigned = usp
    if usp is not None:
        for prop in usp:
            if not isinstance(prop.tag, str):
                continue
            name = _local(prop)
            if name == "SignatureTimeStamp":
                out.timestamps.append(_timestamp(prop, "signature"))
            elif name == "ArchiveTimeStamp":
                out.timestamps.append(_timestamp(prop, "archive"))
            elif name in ("CertificateValues", "RevocationValues", "TimeStampValidationData"):
                out.has_lt_values = out.has_lt_values or name != "TimeStampValidationData"
                _values(prop, out)
    return out


def _values(prop: Any, out: Qualifying) -> None:
    for el in prop.iter():
        if not isinstance(el.tag, str):
            continue
        name = _local(el)
        try:
            if name == "EncapsulatedX509Certificate":
                out.certificate_values.append(b64(el.text))
            elif name == "EncapsulatedOCSPValue":
                out.ocsp_values.append(b64(el.text))
            elif name == "EncapsulatedCRLValue":
                out.crl_values.append(b64(el.text))
        except DsigError:
            continue  # unreadable validation data is ignored, never trusted


def _timestamp(prop: Any, kind: str) -> Timestamp:
    cm = prop.find(q(DS, "CanonicalizationMethod"))
    method = cm.get("Algorithm") if cm is not None else C14N_10
    ts = Timestamp(prop, kind, None, method or C14N_10,
                   inclusive_prefixes(cm) if cm is not None else None)
    enc = _child(prop, "EncapsulatedTimeStamp")
    if enc is None:
        ts.error = "no EncapsulatedTimeStamp"
        return ts
    try:
        token = cms.ContentInfo.load(b64(enc.text))
        token["content"]  # force parse
        ts.token = token
    except Exception as e:  # garbage tokens are a finding, not a traceback
        ts.error = str(e)[:120]
    if ts.c14n_method not in C14N:
        ts.error = f"unsupported canonicalization {ts.c14n_method}"
    return ts


def parse_time(text: str) -> datetime | None:
    try:
        d = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)





# --- Time-stamp imprints (EN 319 132-1 5.3 and 5.5.2) ---------------------------------------

def signature_timestamp_input(doc: Document, sig: Any, ts: Timestamp) -> bytes:
    """5.3: the ds:SignatureValue element, canonicalized with the timestamp's method."""
    value = sig.find(q(DS, "SignatureValue"))
    return c14n_element(doc, value, ts.c14n_method, ts.prefixes)


def archive_timestamp_inputs(doc: Document, sig: Any, qual: Qualifying,
                             ts: Timestamp) -> list[bytes]:
    """5.5.2.2 (not distributed): reference outputs, SignedInfo, SignatureValue,
    KeyInfo, the unsigned signature properties before this one, the other
    ds:Objects. Returns candidate inputs (XAdES 1.3.2 also took every ds:Object)."""
    parts: list[bytes] = []
    si = sig.find(q(DS, "SignedInfo"))
    for ref in si.iterfind(q(DS, "Reference")):
        data, _, _ = reference_octets(doc, ref, sig)
        parts.append(data)
    for local in ("SignedInfo", "SignatureValue", "KeyInfo"):
        el = sig.find(q(DS, local))
        if el is not None:
            parts.append(c14n_element(doc, el, ts.c14n_method, ts.prefixes))
    if qual.unsigned is not None:
        for prop in qual.unsigned:
            if prop is ts.element:
                break
            if isinstance(prop.tag, str):
                parts.append(c14n_element(doc, prop, ts.c14n_method, ts.prefixes))
    head = b"".join(parts)
    others, every = [], []
    for obj in sig.iterchildren(q(DS, "Object")):
        data = c14n_element(doc, obj, ts.c14n_method, ts.prefixes)
        every.append(data)
        if qual.qp.getparent() is not obj:
            others.append(data)
    return [head + b"".join(others), head + b"".join(every)]


def load_ocsps(values: list[bytes]) -> list[ocsp.OCSPResponse]:
    out = []
    for v in values:
        try:
            r = ocsp.OCSPResponse.load(v)
            r.native  # noqa: B018 - force parse
            out.append(r)
        except Exception:
            continue
    return out


def load_crls(values: list[bytes]) -> list[crl.CertificateList]:
    out = []
    for v in values:
        try:
            c = crl.CertificateList.load(v)
            c["tbs_cert_list"]  # noqa: B018
            out.append(c)
        except Exception:
            continue
    return out


def load_asn1_certs(values: list[bytes]) -> list[asn1_x509.Certificate]:
    out = []
    for v in values:
        try:
            c = asn1_x509.Certificate.load(v)
            c.native  # noqa: B018
            out.append(c)
        except Exception:
            continue
    return out


_ = NodeSet, canonicalize

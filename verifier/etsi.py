"""ETSI TS 119 102-2 validation reports (issue 17, CONTRACT 5 and 7).

One :class:`verifier.report.Report` becomes one ``vr:ValidationReport`` (namespace
``http://uri.etsi.org/19102/v1.2.1#``, valid against the V1.3.1 schema set in
``shared/schemas/etsi``), built with pyHanko's generated xsdata models
(``pyhanko.generated.etsi``), never with string templates. Everything it says comes
from the report value: the verdicts and findings as in the JSON report, and the
validation objects the verdicts rested on (:class:`verifier.report.Evidence`).

Per signature, a ``SignatureValidationReport`` with its identifier (the digest of
the data to be signed and the signature value), the record policy's constraints
(roles, required roles, signing order, unsigned content, ... - so a signature that is
TOTAL_PASSED on its own in a record missing its principal still shows a failed record
constraint), the validation time and best-signature-time POE, the signer's document,
its attributes (signing time, signing certificate, claimed role, timestamps), the
signer, and the status with the ETSI URIs and, as associated data, the certificate
chain, trust anchor, revocation status and crypto information. Every certificate, CRL,
OCSP response, timestamp token and signed-data digest used is listed once in
``SignatureValidationObjects``; document timestamps are listed there as timestamp
objects carrying their own validation report.
"""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from typing import Any

from ground.vocab import Indication, SubIndication
from verifier.report import Check, Evidence, Report, SignatureReport

VR_NS = "http://uri.etsi.org/19102/v1.2.1#"
NAMESPACES = {
    "vr": VR_NS,
    "XAdES": "http://uri.etsi.org/01903/v1.3.2#",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
}
DIGEST_URIS = {
    "sha1": "http://www.w3.org/2000/09/xmldsig#sha1",
    "sha224": "http://www.w3.org/2001/04/xmldsig-more#sha224",
    "sha256": "http://www.w3.org/2001/04/xmlenc#sha256",
    "sha384": "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "sha512": "http://www.w3.org/2001/04/xmlenc#sha512",
    "sha3_256": "http://www.w3.org/2007/05/xmldsig-more#sha3-256",
    "sha3_384": "http://www.w3.org/2007/05/xmldsig-more#sha3-384",
    "sha3_512": "http://www.w3.org/2007/05/xmldsig-more#sha3-512",
}
MAIN = {
    Indication.TOTAL_PASSED: "urn:etsi:019102:mainindication:total-passed",
    Indication.TOTAL_FAILED: "urn:etsi:019102:mainindication:total-failed",
    Indication.INDETERMINATE: "urn:etsi:019102:mainindication:indeterminate",
}
SUB = "urn:etsi:019102:subindication:"
OBJ = "urn:etsi:019102:validationObject:"
POE_VALIDATION = "urn:etsi:019102:poetype:validation"
POE_PROVIDED = "urn:etsi:019102:poetype:provided"
CONSTRAINT_APPLIED = "urn:etsi:019102:constraintStatus:applied"
# The record-book policy's constraints: hocba's own identifiers (TS 119 102-2 leaves
# the identifiers of a validation policy's constraints to that policy).
CONSTRAINT_NS = "urn:hocba:validation-constraint:"
PROCESS = {"B-B": "Basic", "B-T": "LTVM", "B-LT": "LTVM", "B-LTA": "LTA"}
ROLE_SOURCE_ENDORSEMENT = {"certificate": "certified", "registry": "certified"}


def _models() -> Any:
    from pyhanko.generated.etsi import ts_11910202 as vr
    from pyhanko.generated.etsi import xades
    from pyhanko.generated.w3c import xmldsig_core as ds

    return vr, xades, ds


def _t(d: datetime) -> Any:
    from xsdata.models.datatype import XmlDateTime

    if d.tzinfo is None:
        d = d.replace(tzinfo=timezone.utc)
    return XmlDateTime.from_datetime(d.astimezone(timezone.utc).replace(microsecond=0))


def _ncname(text: str) -> str:
    """An xs:ID from any signature Id (foreign files may use anything)."""
    s = re.sub(r"[^A-Za-z0-9_.-]", "_", text)
    return s if s and (s[0].isalpha() or s[0] == "_") else f"_{s}"


_PREFIX = {"certificate": "C", "CRL": "CRL", "OCSPResponse": "OCSP", "timestamp": "TST",
           "signedData": "DOC"}


class _Objects:
    """The SignatureValidationObjects list: each object once, by content."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._ids: dict[tuple[str, bytes], str] = {}

    def add(self, kind: str, der: bytes | None = None, *, digest: tuple[str, bytes] | None = None,
            poe: datetime | None = None, report: Any = None) -> str:
        vr, xades, ds = _models()
        key = (kind, der if der is not None else (digest[1] if digest else b""))
        if key in self._ids:
            return self._ids[key]
        ident = f"{_PREFIX.get(kind, 'OBJ')}-" + hashlib.sha256(key[1]).hexdigest()[:24]
        self._ids[key] = ident
        if der is not None:
            rep = vr.ValidationObjectRepresentationType(base64=der)
        else:
            assert digest is not None
            rep = vr.ValidationObjectRepresentationType(digest_alg_and_value=_dav(*digest))
        self.items.append(vr.ValidationObjectType(
            id=ident, object_type=OBJ + kind, validation_object_representation=rep,
            poe=vr.POEType(poetime=_t(poe), type_of_proof=POE_PROVIDED) if poe else None,
            validation_report=report))
        return ident


def _dav(algo: str, value: bytes) -> Any:
    vr, xades, ds = _models()
    uri = DIGEST_URIS.get(algo.replace("-", "_").lower(), DIGEST_URIS["sha256"])
    return xades.DigestAlgAndValueType(digest_method=ds.DigestMethod(algorithm=uri),
                                       digest_value=ds.DigestValue(value))


def _ref(*ids: str) -> Any:
    vr, _, _ = _models()
    return vr.VOReferenceType(voreference=tuple(ids))


def _status(ind: Indication, sub: SubIndication | None, data: tuple[Any, ...] = ()) -> Any:
    vr, _, _ = _models()
    return vr.ValidationStatusType(main_indication=MAIN[ind],
                                   sub_indication=(SUB + sub.value,) if sub else (),
                                   associated_validation_report_data=data)


def _constraints(report: Report, s: SignatureReport, lang: str) -> Any:
    """The record policy as constraints of this signature's validation: the file's
    checks (CONTRACT 6) and the role this signature holds, each with its result."""
    vr, _, _ = _models()

    def one(name: str, ind: Indication, sub: SubIndication | None) -> Any:
        return vr.IndividualValidationConstraintReportType(
            validation_constraint_identifier=CONSTRAINT_NS + name,
            constraint_status=vr.ConstraintStatusType(status=CONSTRAINT_APPLIED),
            validation_status=_status(ind, sub))

    items = []
    for c in report.checks:
        items.append(one(c.name, _check_indication(c), None if c.passed else c.subindication))
    if not s.is_document_timestamp:
        # "record_policy": the file's verdict as a whole, so a valid signature of an
        # invalid record is visibly part of a record that did not pass.
        items.append(one("record_policy", report.indication, report.subindication))
    return vr.ValidationConstraintsEvaluationReportType(validation_constraint=tuple(items))


def _check_indication(c: Check) -> Indication:
    return Indication.TOTAL_PASSED if c.passed else c.indication


def _best_time(s: SignatureReport) -> tuple[datetime | None, str | None]:
    if s.timestamp is not None and s.timestamp.valid:
        return s.timestamp.time, "timestamp"
    return None, None


def _signature_report(report: Report, s: SignatureReport, objs: _Objects, lang: str) -> Any:
    vr, xades, ds = _models()
    ev = s.evidence or Evidence()
    # Validation objects: the signer's path, revocation data, timestamps, signed data.
    cert_ids = [objs.add("certificate", der) for der in ev.certificates]
    tsa_ids = [objs.add("certificate", der) for der in ev.tsa_certificates]
    ocsp_ids = [objs.add("OCSPResponse", der) for der in ev.ocsps]
    crl_ids = [objs.add("CRL", der) for der in ev.crls]
    ts_ids: list[tuple[str, datetime | None, str, bool]] = []
    for der, when, kind, valid in ev.timestamps:
        ts_ids.append((objs.add("timestamp", der, poe=when if valid else None), when, kind, valid))
    doc_id = objs.add("signedData", digest=ev.signers_document) if ev.signers_document else None

    sig_id = None
    if ev.dtbs_digest is not None or ev.signature_value is not None:
        sig_id = vr.SignatureIdentifierType(
            id=_ncname(f"SIG-{s.id}"),
            digest_alg_and_value=_dav(*ev.dtbs_digest) if ev.dtbs_digest else None,
            signature_value=ds.SignatureValue(value=ev.signature_value)
            if ev.signature_value else None,
            hash_only=False, doc_hash_only=False)

    best, _ = _best_time(s)
    poe_obj = next((i for i, _, kind, valid in ts_ids if valid and kind in ("signature", "document")),
                   None)
    time_info = vr.ValidationTimeInfoType(
        validation_time=_t(report.validation_time or datetime.now(timezone.utc)),
        best_signature_time=vr.POEType(
            poetime=_t(best or report.validation_time or datetime.now(timezone.utc)),
            type_of_proof=POE_VALIDATION,
            poeobject=_ref(poe_obj) if best is not None and poe_obj else None))

    signers_doc = None
    if ev.signers_document is not None and doc_id is not None:
        signers_doc = vr.SignersDocumentType(
            digest_alg_and_value=_dav(*ev.signers_document),
            signers_document_representation=(_ref(doc_id),))

    attrs = _attributes(s, ev, ts_ids, cert_ids)
    signer_info = None
    if cert_ids:
        who = s.signer.subject if s.signer else None
        signer_info = vr.SignerInformationType(signer_certificate=_ref(cert_ids[0]), signer=who)

    assoc = _associated(s, ev, cert_ids, ocsp_ids, crl_ids)
    process = vr.SignatureValidationProcessType(
        signature_validation_process_id="urn:etsi:019102:validationprocess:"
        + (PROCESS.get(s.level or "", "Basic") if not s.is_document_timestamp else "LTA"))
    return vr.SignatureValidationReportType(
        signature_identifier=sig_id,
        validation_constraints_evaluation_report=_constraints(report, s, lang),
        validation_time_info=time_info,
        signers_document=signers_doc,
        signature_attributes=attrs,
        signer_information=signer_info,
        signature_validation_process=process,
        signature_validation_status=_status(s.indication, s.subindication, assoc),
    ), tsa_ids


def _attributes(s: SignatureReport, ev: Evidence, ts_ids: list[tuple[str, datetime | None, str, bool]],
                cert_ids: list[str]) -> Any:
    vr, xades, ds = _models()
    kw: dict[str, Any] = {}
    if s.signing_time is not None and not s.is_document_timestamp:
        kw["signing_time"] = (vr.SASigningTimeType(signed=True, time=_t(s.signing_time)),)
    if ev.certificates:
        der = ev.certificates[0]
        kw["signing_certificate"] = (vr.SACertIDListType(
            signed=True, attribute_object=(_ref(cert_ids[0]),),
            cert_id=(vr.SACertIDType(digest_method=ds.DigestMethod(algorithm=DIGEST_URIS["sha256"]),
                                     digest_value=ds.DigestValue(hashlib.sha256(der).digest())),)),)
    if s.claimed_role:
        kw["signer_role"] = (vr.SASignerRoleType(signed=True, role_details=(
            vr.SAOneSignerRoleType(role=s.claimed_role,
                                   endorsement_type=vr.SAOneSignerRoleTypeEndorsementType.CLAIMED),)),)
    sig_ts = tuple(vr.SATimestampType(signed=False, attribute_object=(_ref(i),),
                                      time_stamp_value=_t(when))
                   for i, when, kind, _ in ts_ids if kind == "signature" and when is not None)
    arc_ts = tuple(vr.SATimestampType(signed=False, attribute_object=(_ref(i),),
                                      time_stamp_value=_t(when))
                   for i, when, kind, _ in ts_ids if kind == "archive" and when is not None)
    doc_ts = tuple(vr.SATimestampType(signed=False, attribute_object=(_ref(i),),
                                      time_stamp_value=_t(when))
                   for i, when, kind, _ in ts_ids if kind == "document" and when is not None)
    if sig_ts:
        kw["signature_time_stamp"] = sig_ts
    if arc_ts:
        kw["archive_time_stamp"] = arc_ts
    if doc_ts:
        kw["doc_time_stamp"] = doc_ts
    return vr.SignatureAttributesType(**kw) if kw else None


def _associated(s: SignatureReport, ev: Evidence, cert_ids: list[str], ocsp_ids: list[str],
                crl_ids: list[str]) -> tuple[Any, ...]:
    """AssociatedValidationReportData: the chain and its anchor, the revocation data,
    and the crypto verdict when an algorithm was the reason."""
    vr, _, _ = _models()
    if not cert_ids:
        return ()
    chain = None
    anchor = None
    if ev.anchor_found and len(cert_ids) >= 1:
        anchor = _ref(cert_ids[-1])
        chain = vr.CertificateChainType(
            signing_certificate=_ref(cert_ids[0]),
            intermediate_certificate=tuple(_ref(i) for i in cert_ids[1:-1]),
            trust_anchor=anchor)
    else:
        chain = vr.CertificateChainType(signing_certificate=_ref(cert_ids[0]))
    revocation = None
    if s.revocation is not None and s.revocation.status == "revoked":
        revocation = vr.RevocationStatusInformationType(
            validation_object_id=_ref(cert_ids[0]),
            revocation_time=_t(s.signing_time or datetime.now(timezone.utc)),
            revocation_object=_ref(*(ocsp_ids + crl_ids)) if ocsp_ids or crl_ids else None)
    crypto = None
    if s.subindication in (SubIndication.CRYPTO_CONSTRAINTS_FAILURE,
                           SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE):
        crypto = vr.CryptoInformationType(validation_object_id=_ref(cert_ids[0]),
                                          algorithm=_weak_algorithm(s), secure_algorithm=False)
    return (vr.ValidationReportDataType(
        trust_anchor=anchor, certificate_chain=chain,
        related_validation_object=tuple(_ref(i) for i in ocsp_ids + crl_ids),
        revocation_status_information=revocation, crypto_information=crypto),)


def _weak_algorithm(s: SignatureReport) -> str:
    text = " ".join(f.render("en") for f in s.findings).lower()
    for name in ("md5", "sha1", "sha-1", "sha224"):
        if name in text:
            return DIGEST_URIS.get(name.replace("-", ""), "urn:hocba:algorithm:" + name)
    return "urn:hocba:algorithm:unknown"


def build_report(report: Report, lang: str = "vi") -> Any:
    """The ``vr:ValidationReport`` (xsdata model) of one file's report."""
    vr, _, _ = _models()
    objs = _Objects()
    sigs: list[Any] = []
    doc_ts_reports: list[tuple[SignatureReport, Any]] = []
    for s in report.signatures:
        sr, _ = _signature_report(report, s, objs, lang)
        if s.is_document_timestamp:
            doc_ts_reports.append((s, sr))
        else:
            sigs.append(sr)
    # Document timestamps are validation objects (timestamps) with their own report.
    for s, sr in doc_ts_reports:
        ev = s.evidence or Evidence()
        for der, when, kind, valid in ev.timestamps:
            if kind == "document":
                ident = objs.add("timestamp", der, poe=when if valid else None)
                for i, item in enumerate(objs.items):
                    if item.id == ident and item.validation_report is None:
                        from dataclasses import replace

                        objs.items[i] = replace(item, validation_report=sr)
    if not sigs:
        # TS 119 102-2 needs one SignatureValidationReport: the file's own verdict
        # (no signature, or not readable as one).
        sigs.append(vr.SignatureValidationReportType(
            validation_constraints_evaluation_report=_file_constraints(report),
            validation_time_info=vr.ValidationTimeInfoType(
                validation_time=_t(report.validation_time or datetime.now(timezone.utc)),
                best_signature_time=vr.POEType(
                    poetime=_t(report.validation_time or datetime.now(timezone.utc)),
                    type_of_proof=POE_VALIDATION)),
            signature_validation_status=_status(report.indication, report.subindication)))
    return vr.ValidationReport(
        signature_validation_report=tuple(sigs),
        signature_validation_objects=vr.ValidationObjectListType(validation_object=tuple(
            objs.items)) if objs.items else None,
    )


def _file_constraints(report: Report) -> Any:
    vr, _, _ = _models()
    items = tuple(vr.IndividualValidationConstraintReportType(
        validation_constraint_identifier=CONSTRAINT_NS + c.name,
        constraint_status=vr.ConstraintStatusType(status=CONSTRAINT_APPLIED),
        validation_status=_status(_check_indication(c), None if c.passed else c.subindication))
        for c in report.checks)
    return vr.ValidationConstraintsEvaluationReportType(validation_constraint=items) \
        if items else None


def render_report(report: Report, lang: str = "vi") -> bytes:
    """The report as XML bytes (UTF-8, with declaration)."""
    from xsdata.formats.dataclass.serializers import XmlSerializer
    from xsdata.formats.dataclass.serializers.config import SerializerConfig

    model = build_report(report, lang)
    text = XmlSerializer(config=SerializerConfig(indent="  ")).render(model, ns_map=NAMESPACES)
    return text.encode("utf-8")


def report_file_name(name: str) -> str:
    """``<file name>.validation-report.xml`` (CONTRACT 5), the file's base name only."""
    base = re.split(r"[\\/]", name)[-1] or "file"
    return f"{base}.validation-report.xml"


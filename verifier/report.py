"""The verification report: a value (STYLE 2).

Frozen dataclasses; the overall verdict is *derived* from the signatures and the
document checks, never stored beside them. Human text is not stored either:
findings carry a message code and arguments, rendered in the report language by
:mod:`ground.messages`, so the JSON report, the text report and the web page
all render the same value in Vietnamese or English.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ground.findings import Finding as Finding
from ground.findings import Foreign as Foreign
from ground.findings import RevocationInfo as RevocationInfo
from ground.findings import SignerInfo as SignerInfo
from ground.findings import TimestampInfo as TimestampInfo
from ground.vocab import Coverage, Indication, Modifications, SubIndication


@dataclass(frozen=True)
class Evidence:
    """What a signature's judgement rested on, for the ETSI TS 119 102-2 report
    (verifier.etsi): the signature's identity, what it signs, and every validation
    object used (certificates, OCSP responses, CRLs, timestamp tokens), as DER. Not
    part of the JSON report (CONTRACT 6), which names these in words."""

    # The signature value and the digest of the data to be signed (CMS signed
    # attributes / canonical ds:SignedInfo), with its algorithm name ("sha256").
    signature_value: bytes | None = None
    dtbs_digest: tuple[str, bytes] | None = None
    # The digest of the signer's document (PDF: the /ByteRange; XML: the first reference).
    signers_document: tuple[str, bytes] | None = None
    # The signer's certificate first, then its path towards the anchor (anchor last
    # when a path was built); DER.
    certificates: tuple[bytes, ...] = ()
    anchor_found: bool = False
    ocsps: tuple[bytes, ...] = ()
    crls: tuple[bytes, ...] = ()
    # (token DER, genTime, kind: "signature" | "archive" | "document", valid)
    timestamps: tuple[tuple[bytes, datetime | None, str, bool], ...] = ()
    # Certificates of the TSAs' paths; DER.
    tsa_certificates: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class SignatureReport:
    id: str
    indication: Indication
    subindication: SubIndication | None
    role: str | None = None
    claimed_role: str | None = None
    # Where ``role`` came from (CONTRACT 8): certificate | registry | seal | None.
    role_source: str | None = None
    signer: SignerInfo | None = None
    signing_time: datetime | None = None
    timestamp: TimestampInfo | None = None
    level: str | None = None
    integrity: bool | None = False
    coverage: Coverage | None = None
    modifications_after: Modifications | None = None
    chain: tuple[str, ...] = ()
    revocation: RevocationInfo | None = None
    findings: tuple[Finding, ...] = ()
    # True for PDF document timestamps (they are reported, not role-bearing).
    is_document_timestamp: bool = False
    # For the ETSI report only (not in to_dict).
    evidence: Evidence | None = field(default=None, compare=False, repr=False)

    def to_dict(self, lang: str = "vi") -> dict[str, Any]:
        return {
            "id": self.id,
            "role": self.role,
            "claimed_role": self.claimed_role,
            "role_source": self.role_source,
            "signer": self.signer.to_dict() if self.signer else None,
            "signing_time": _iso(self.signing_time),
            "timestamp": self.timestamp.to_dict() if self.timestamp else None,
            "level": self.level,
            "indication": self.indication.value,
            "subindication": self.subindication.value if self.subindication else None,
            "integrity": self.integrity,
            "coverage": self.coverage.value if self.coverage else None,
            "modifications_after": (self.modifications_after.value
                                    if self.modifications_after else None),
            "chain": list(self.chain),
            "revocation": self.revocation.to_dict() if self.revocation else None,
            "findings": [f.render(lang) for f in self.findings],
            "document_timestamp": self.is_document_timestamp,
        }


@dataclass(frozen=True)
class Check:
    """A document-level check (required_roles, signing_order, unsigned_content, ...)."""

    name: str
    passed: bool
    detail: Finding
    # What a failure means for the document (ignored when passed).
    indication: Indication = Indication.TOTAL_FAILED
    subindication: SubIndication | None = None

    def to_dict(self, lang: str = "vi") -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "detail": self.detail.render(lang)}


@dataclass(frozen=True)
class Report:
    file: str
    sha256: str
    format: str | None  # pdf | xml | None when not recognised
    signatures: tuple[SignatureReport, ...] = ()
    checks: tuple[Check, ...] = ()
    record: dict[str, str] | None = None
    validation_time: datetime | None = None

    # -- derived verdict (EN 319 102-1 indications) --------------------------------
    def _worst(self) -> tuple[Indication, SubIndication | None, Finding | None]:
        worst: tuple[Indication, SubIndication | None, Finding | None] = (
            Indication.TOTAL_PASSED, None, None)
        # Signatures first: what happened to a signature explains a record check's failure.
        for s in self.signatures:
            if s.indication.severity > worst[0].severity:
                reason = next((f for f in s.findings if not f.informational),
                              Finding.of("signature_not_passed", id=s.id))
                worst = (s.indication, s.subindication, reason)
        for c in self.checks:
            if not c.passed and c.indication.severity > worst[0].severity:
                worst = (c.indication, c.subindication, c.detail)
        if not self.signatures and worst[0] is Indication.TOTAL_PASSED:
            worst = (Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE,
                     Finding.of("no_signatures"))
        return worst

    @property
    def indication(self) -> Indication:
        return self._worst()[0]

    @property
    def subindication(self) -> SubIndication | None:
        return self._worst()[1]

    def message(self, lang: str = "vi") -> str:
        ind, _, finding = self._worst()
        if ind is Indication.TOTAL_PASSED:
            from ground.messages import render

            return render("all_passed", {"count": str(sum(
                1 for s in self.signatures if not s.is_document_timestamp))}, lang)
        assert finding is not None
        return finding.render(lang)

    def to_dict(self, lang: str = "vi") -> dict[str, Any]:
        return {
            "file": self.file,
            "sha256": self.sha256,
            "format": self.format,
            "indication": self.indication.value,
            "subindication": self.subindication.value if self.subindication else None,
            "message": self.message(lang),
            "record": self.record,
            "signatures": [s.to_dict(lang) for s in self.signatures],
            "checks": [c.to_dict(lang) for c in self.checks],
            "validation_time": _iso(self.validation_time),
        }


def format_failure(file: str, sha256: str, fmt: str | None, finding: Finding) -> Report:
    """The report for input that could not be evaluated at all (FORMAT_FAILURE)."""
    return Report(file=file, sha256=sha256, format=fmt, checks=(
        Check("format", False, finding, Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE),))


def _iso(d: datetime | None) -> str | None:
    return d.isoformat() if d is not None else None


_ = field  # re-exported for subclasses' convenience

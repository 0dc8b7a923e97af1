"""PAdES verification (ETSI EN 319 142-1 / EN 319 102-1) on pyHanko's PDF model.

For every signature and document timestamp, in revision order:

1. integrity (EN 319 102-1 5.2.7): ByteRange digest against message-digest, and
   the signature value (pyHanko ``validate_sig_integrity``);
2. coverage (EN 319 142-1 5.1 / ISO 32000 12.8.1): entire file, entire
   revision, or partial (ByteRange anomalies);
3. what changed after it: pyHanko's diff analysis under a strict record-book
   policy (:mod:`verifier.pdf_policy`), DocMDP/FieldMDP honoured;
4. timestamps (5.4): signature timestamp and document timestamps, imprint, TSA
   chain and purpose; the signature timestamp's time is the best signature time;
5. the signing certificate through :class:`~ground.judge.TrustEngine` with the
   DSS revocation data first (5.2.6, 5.6.2.1 past signature validation);
6. algorithms (5.2.8), level, declared role, signing time.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from typing import TYPE_CHECKING, Any

from asn1crypto import cms, crl, ocsp, x509

from ground.vocab import Coverage, Indication, Level, Modifications, SubIndication
from ground.findings import fmt_time
from verifier.report import Check, Finding, Foreign, SignatureReport, TimestampInfo
from ground.declared_role import pdf_declared_role
from ground.cms_sig import (SIGNATURE_VALIDATOR, UnsupportedAlgorithm,
                              unsupported_signature_algorithm)
from ground.judge import TimestampResult

if TYPE_CHECKING:
    from verifier.context import EvalContext, FormatResult


I, S = Indication, SubIndication



@dataclass
class _Sig:
    emb: Any  # pyhanko EmbeddedPdfSignature
    name: str
    is_doc_ts: bool
    revision: int
    findings: list[Finding] = field(default_factory=list)


def _dss_material(reader: Any) -> tuple[list[x509.Certificate], list[ocsp.OCSPResponse],
                                        list[crl.CertificateList]]:
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except (PdfError, KeyError, TypeError, ValueError):
        return [], [], []
    certs: list[x509.Certificate] = []
    ocsps: list[ocsp.OCSPResponse] = []
    crls: list[crl.CertificateList] = []
    try:
        certs = list(dss.load_certs())
    except Exception:
        pass
    for ref in dss.ocsps:
        try:
            ocsps.append(ocsp.OCSPResponse.load(ref.get_object().data))
        except Exception:
            pass
    for ref in dss.crls:
        try:
            crls.append(crl.CertificateList.load(ref.get_object().data))
        except Exception:
            pass
    return certs, ocsps, crls


def _cms_revinfo(sd: cms.SignedData) -> tuple[list[ocsp.OCSPResponse], list[crl.CertificateList]]:
    """Revocation data carried inside the CMS (RevocationInfoChoices, adbe-revinfo)."""
    ocsps: list[ocsp.OCSPResponse] = []
    crls: list[crl.CertificateList] = []
    try:
        for choice in sd["crls"] or ():
            if choice.name == "crl":
                crls.append(choice.chosen)
            elif choice.name == "other":
                other = choice.chosen
                if other["other_rev_info_format"].native in ("ocsp_response", "1.3.6.1.5.5.7.16.2"):
                    ocsps.append(other["other_rev_info"])
    except Exception:
        pass
    try:
        from pyhanko.sign.general import find_unique_cms_attribute

        si = sd["signer_infos"][0]
        ri = find_unique_cms_attribute(si["signed_attrs"], "adobe_revocation_info_archival")
        for c in ri["crl"] or ():
            crls.append(c)
        for o in ri["ocsp"] or ():
            ocsps.append(o)
    except Exception:
        pass
    return ocsps, crls


def _record_meta(reader: Any, revision: int | None) -> dict[str, str] | None:
    """Record identity from the revision the first signature covers ("see what is signed")."""
    from recordbook.pdf_meta import read_pdf_record_meta

    if revision is None:
        return None
    try:
        meta = read_pdf_record_meta(reader.get_historical_resolver(revision))
    except Exception:  # hostile metadata is not a reason to fail the whole report
        return None
    return dict(meta) if meta else None


def evaluate_pdf(data: bytes, ctx: "EvalContext") -> "FormatResult":
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    from verifier.context import FormatResult
    from verifier.report import format_failure  # noqa: F401

    limits = ctx.policy.limits

    def fail(code: str, **args: Any) -> FormatResult:
        return FormatResult("pdf", (), (Check("format", False, Finding.of(code, **args),
                                              I.TOTAL_FAILED, S.FORMAT_FAILURE),))

    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        revisions = reader.xrefs.total_revisions
        if revisions > limits.max_revisions:
            return fail("too_many_revisions", count=revisions, limit=limits.max_revisions)
        embedded = list(reader.embedded_signatures)
    except (PdfError, ValueError, KeyError, TypeError, IndexError, AttributeError,
            RecursionError, OverflowError) as e:
        return fail("pdf_unreadable", detail=Foreign(str(e)[:200] or type(e).__name__))
    if len(embedded) > limits.max_signatures:
        return fail("too_many_signatures", count=len(embedded), limit=limits.max_signatures)
    if not embedded:
        return FormatResult("pdf", (), (), record=_record_meta(reader, None))

    from verifier.pdf_policy import evaluate_modifications
    from verifier.pdf_revisions import SharedRevisions

    sigs: list[_Sig] = []
    for emb in embedded:
        # A document timestamp: /Type /DocTimeStamp, or (as some software writes it)
        # a /Sig dictionary whose SubFilter is ETSI.RFC3161 (ISO 32000-2 12.8.5).
        is_ts = emb.sig_object_type == "/DocTimeStamp" or _subfilter(emb) == "/ETSI.RFC3161"
        sigs.append(_Sig(emb, str(emb.field_name), is_ts, int(emb.signed_revision)))
    sigs.sort(key=lambda s: s.revision)

    # A record book (its identity in the revision the first signature covers) is judged
    # by the strict record-book policy alone; any other PDF may also show changes its
    # signer permitted (form filling), which are reported, never passed over.
    first_sig = next((s for s in sigs if not s.is_doc_ts), None)
    first_meta = _record_meta(reader, first_sig.revision) if first_sig is not None else None
    is_record = first_meta is not None
    last_end = max(_byte_range_end(s.emb) for s in sigs)
    dss_certs, dss_ocsps, dss_crls = _dss_material(reader)
    # Document timestamps, latest first: each is validated with the next one's time as POE
    # (EN 319 102-1 5.6.2.1 / 5.6.3 validation process for LTA).
    doc_ts_results: dict[int, TimestampResult] = {}
    next_poe: datetime | None = None
    for s in reversed(sigs):
        if not s.is_doc_ts:
            continue
        res = _validate_doc_timestamp(s, ctx, dss_ocsps, dss_crls, next_poe)
        doc_ts_results[id(s)] = res
        if res.valid and res.time is not None:
            next_poe = res.time

    # The revisions are analysed once for all signatures (verifier.pdf_revisions).
    revisions = SharedRevisions(reader, data)
    reports: list[SignatureReport] = []
    checks: list[Check] = []
    first_failure: tuple[str, Finding] | None = None
    undetermined: tuple[str, Finding] | None = None
    coverage_failure: str | None = None
    for idx, s in enumerate(sigs):
        later_doc_ts = [doc_ts_results[id(t)] for t in sigs[idx + 1:]
                        if t.is_doc_ts and id(t) in doc_ts_results and doc_ts_results[id(t)].valid]
        poe_for_tst = later_doc_ts[0].time if later_doc_ts else None
        rep = _evaluate_signature(s, ctx, dss_certs, dss_ocsps, dss_crls, poe_for_tst,
                                  doc_ts_results.get(id(s)), bool(later_doc_ts), bool(dss_ocsps or dss_crls))
        # What changed after this signature (strict record-book policy).
        mod, mod_finding = evaluate_modifications(s.emb, reader, record=is_record,
                                                  revisions=revisions)
        if mod in ("none", "signatures_only") and _unsigned_tail(s.emb, data, last_end):
            # Bytes after the last revision that are not an update (an object with no
            # xref, say): no signature covers them and a recovering reader may use them.
            mod, mod_finding = Modifications.OTHER, Finding.of("unsigned_tail")
        findings = list(rep.findings)
        ind, sub = rep.indication, rep.subindication
        if mod in (None, "form_filling") and mod_finding is not None:
            findings.append(mod_finding)
            undetermined = undetermined or (s.name, mod_finding)
            if mod is None and ind is I.TOTAL_PASSED:
                # EN 319 102-1: what the signature's signer vouched for cannot be
                # matched against the file: not failed, not passed.
                ind, sub = I.INDETERMINATE, S.SIG_CONSTRAINTS_FAILURE
        if rep.coverage == "partial":
            coverage_failure = coverage_failure or s.name
        if mod == "other":
            f = mod_finding or Finding.of("modified_after", id=s.name, detail="?")
            # The finding that explains this signature's verdict comes first.
            findings.insert(0, f)
            if first_failure is None:
                first_failure = (s.name, f)
            # EN 319 102-1 5.2.2 format checking with EN 319 142-1's rule that only
            # DSS/VRI and document timestamps (and further signatures) may follow a
            # signature: a disallowed update is a FORMAT_FAILURE of this signature.
            if ind is not I.TOTAL_FAILED:
                ind, sub = I.TOTAL_FAILED, S.FORMAT_FAILURE
        reports.append(_replace(rep, modifications_after=mod, indication=ind,
                                subindication=sub, findings=tuple(findings)))

    # DocMDP P=1: no signature may follow a certification signature.
    cert_idx = next((i for i, s in enumerate(sigs)
                     if not s.is_doc_ts and _docmdp(s.emb) == 1), None)
    if cert_idx is not None and any(not s.is_doc_ts for s in sigs[cert_idx + 1:]):
        f = Finding.of("docmdp_violation", id=sigs[cert_idx].name)
        checks.append(Check("docmdp", False, f, I.TOTAL_FAILED, S.FORMAT_FAILURE))

    if first_failure is not None:
        checks.append(Check("modifications", False, Finding.of(
            "modifications_failed", id=first_failure[0],
            detail=first_failure[1]), I.TOTAL_FAILED, S.FORMAT_FAILURE))
    elif undetermined is not None:
        checks.append(Check("modifications", False, Finding.of(
            "modifications_undetermined", id=undetermined[0], detail=undetermined[1]),
            I.INDETERMINATE, S.SIG_CONSTRAINTS_FAILURE))
    else:
        checks.append(Check("modifications", True, Finding.of("modifications_ok")))
    if coverage_failure is not None:
        checks.append(Check("coverage", False, Finding.of("coverage_failed", id=coverage_failure),
                            I.TOTAL_FAILED, S.FORMAT_FAILURE))
    else:
        checks.append(Check("coverage", True, Finding.of("coverage_ok")))

    # "See what is signed": the record identity comes from the revision the first
    # signature covers, and only when that signature is intact.
    first = next((i for i, s in enumerate(sigs) if not s.is_doc_ts), None)
    record = None
    if first is not None and reports[first].integrity and reports[first].coverage != "partial":
        record = first_meta
    return FormatResult("pdf", tuple(reports), tuple(checks), record=record)


def _byte_range_end(emb: Any) -> int:
    try:
        br = list(emb.byte_range)
        return int(br[2]) + int(br[3])
    except Exception:  # noqa: BLE001 - coverage is judged elsewhere
        return -1


def _unsigned_tail(emb: Any, data: bytes, last_end: int) -> bool:
    """Bytes after the file's last end-of-file marker (an object with no xref, say), for
    the signature that ends last: no signature covers them and no update explains them."""
    end = _byte_range_end(emb)
    if end < 0 or end != last_end:
        return False
    eof = data.rfind(b"%%EOF")
    tail = data[max(eof + 5, end) if eof >= 0 else end:]
    # PDF syntax there (an object, a stream, an xref or trailer) is what a recovering
    # reader would use; other trailing bytes (mail footers, padding) are ignored, as
    # every reader ignores them.
    return re.search(rb"\d+\s+\d+\s+obj\b|\bstream\b|\bxref\b|\btrailer\b", tail) is not None


def _subfilter(emb: Any) -> str | None:
    try:
        return str(emb.sig_object.get("/SubFilter"))
    except Exception:  # noqa: BLE001
        return None


def _docmdp(emb: Any) -> int | None:
    try:
        lvl = emb.docmdp_level
        return int(lvl.value) if lvl is not None else None
    except Exception:
        return None


def _replace(rep: SignatureReport, **kw: Any) -> SignatureReport:
    from dataclasses import replace

    return replace(rep, **kw)


def _coverage(emb: Any) -> tuple[Coverage, str | None]:
    from pyhanko.sign.validation.status import SignatureCoverageLevel as L

    try:
        level = emb.evaluate_signature_coverage()
        emb.coverage = level
    except Exception as e:
        return Coverage.PARTIAL, str(e)[:120]
    if level == L.ENTIRE_FILE:
        return Coverage.ENTIRE_FILE, None
    if level == L.ENTIRE_REVISION:
        return Coverage.ENTIRE_REVISION, None
    return Coverage.PARTIAL, level.name


def _validate_doc_timestamp(s: _Sig, ctx: "EvalContext", ocsps: list[ocsp.OCSPResponse],
                            crls: list[crl.CertificateList], poe: datetime | None) -> TimestampResult:
    emb = s.emb
    try:
        digest = emb.compute_digest()
    except Exception as e:
        return TimestampResult(None, False, None, (Finding.of("sig_unreadable", id=s.name, detail=Foreign(str(e)[:120])),))
    return ctx.trust.validate_timestamp_token(
        emb.signed_data, lambda algo: emb.compute_digest(algo), ctx.validation_time,
        embedded_ocsps=ocsps, embedded_crls=crls, poe_time=poe, explicit_time=ctx.explicit_time) \
        if digest is not None else TimestampResult(None, False, None, ())


def _evaluate_signature(s: _Sig, ctx: "EvalContext", dss_certs: list[x509.Certificate],
                        dss_ocsps: list[ocsp.OCSPResponse], dss_crls: list[crl.CertificateList],
                        poe_for_tst: datetime | None, doc_ts: TimestampResult | None,
                        has_later_doc_ts: bool, has_dss_revinfo: bool) -> SignatureReport:
    from pyhanko.sign.general import SignedDataCerts  # noqa: F401
    from pyhanko.sign.validation.generic_cms import (
        extract_certs_for_validation, extract_tst_data_iter, message_imprint_checker,
        validate_sig_integrity)

    emb = s.emb
    trust = ctx.trust
    findings: list[Finding] = []
    coverage, cov_detail = _coverage(emb)

    # Step 1 (5.2.3): identify the signing certificate (ESS signing-certificate-v2 checked).
    try:
        cert_info = extract_certs_for_validation(emb.signed_data)
        cert: x509.Certificate = cert_info.signer_cert
        other_certs = list(cert_info.other_certs)
    except Exception as e:
        return SignatureReport(id=s.name, indication=I.INDETERMINATE,
                               subindication=S.NO_SIGNING_CERTIFICATE_FOUND, coverage=coverage,
                               is_document_timestamp=s.is_doc_ts,
                               findings=(Finding.of("signing_cert_mismatch", id=s.name,
                                                    detail=Foreign(str(e)[:160])),))
    signer = trust.signer_info(cert)
    if not s.is_doc_ts and emb.signed_data["encap_content_info"]["content"].native is not None:
        # PAdES (EN 319 142-1 5.1) signatures are detached: encapsulated content means
        # the signature signs something other than the document.
        return SignatureReport(id=s.name, indication=I.TOTAL_FAILED, subindication=S.FORMAT_FAILURE,
                               signer=signer, coverage=coverage, role=trust.role(cert),
                               findings=(Finding.of("econtent_present", id=s.name),))

    # Step 2 (5.2.7): cryptographic verification — digest and signature value.
    # ``integrity`` is False only when a digest or the value provably does not match;
    # None when it cannot be established (an algorithm this verifier cannot run).
    unsupported: str | None = None
    digest: bytes | None = None
    try:
        digest = emb.compute_digest()
        unknown = (None if s.is_doc_ts else
                   unsupported_signature_algorithm(emb.signer_info["signature_algorithm"]))
        if unknown is not None:
            raise UnsupportedAlgorithm(unknown)
        if s.is_doc_ts:
            intact = doc_ts is not None and doc_ts.intact
            valid = intact
        else:
            intact, valid = validate_sig_integrity(emb.signer_info, cert, "data", digest,
                                                   sig_validator=SIGNATURE_VALIDATOR)
    except UnsupportedAlgorithm as e:
        # The value cannot be checked, but the digest still can (ESS message-digest
        # against the /ByteRange): a mismatch is provable whatever the algorithm.
        from pyhanko.sign.validation.utils import extract_message_digest

        valid, unsupported = False, str(e)[:160]
        try:
            intact = extract_message_digest(emb.signer_info) == digest
        except Exception:  # noqa: BLE001 - no signed attributes: nothing to compare
            intact = True
    except Exception as e:
        intact, valid = False, False
        findings.append(Finding.of("sig_unreadable", id=s.name,
                                   detail=Foreign(f"{type(e).__name__}: {e}"[:160])))
    integrity: bool | None = (False if not intact else None if unsupported is not None
                              else bool(valid))

    if s.is_doc_ts:
        assert doc_ts is not None
        info = doc_ts.info
        ind: Indication
        sub: SubIndication | None
        if not intact:
            ind, sub = I.TOTAL_FAILED, S.HASH_FAILURE
            findings.append(Finding.of("hash_failure", id=s.name))
        elif coverage == "partial":
            ind, sub = I.TOTAL_FAILED, S.FORMAT_FAILURE
            findings.append(Finding.of("coverage_partial", id=s.name, detail=Foreign(cov_detail or "?")))
        elif doc_ts.cert is not None and not doc_ts.cert.passed:
            ind, sub = doc_ts.cert.indication, doc_ts.cert.subindication
            findings.extend(doc_ts.findings)
        elif not doc_ts.valid:
            ind, sub = I.INDETERMINATE, S.GENERIC
            findings.extend(doc_ts.findings)
        else:
            ind, sub = I.TOTAL_PASSED, None
            findings.append(Finding.of("doc_timestamp_ok", time=fmt_time(info.time) if info else "?"))
        return SignatureReport(
            id=s.name, indication=ind, subindication=sub, signer=signer,
            timestamp=info, integrity=integrity, coverage=coverage,
            chain=doc_ts.cert.chain if doc_ts.cert else (),
            revocation=doc_ts.cert.revocation if doc_ts.cert else None,
            findings=tuple(findings), is_document_timestamp=True,
            signing_time=info.time if info else None, level=None,
            evidence=_evidence(emb, cert, doc_ts.cert, digest,
                               [(emb.signed_data, info.time if info else None, "document",
                                 doc_ts)]))

    # Signature timestamp (5.4): its time, when the token is valid, is the best signature time.
    tst: TimestampResult | None = None
    tst_token: Any = None
    for tst_sd in extract_tst_data_iter(emb.signer_info, signed=False):
        tst_token = tst_sd
        tst = trust.validate_timestamp_token(
            tst_sd, message_imprint_checker(emb.signer_info), ctx.validation_time,
            embedded_ocsps=dss_ocsps, embedded_crls=dss_crls, poe_time=poe_for_tst,
            explicit_time=ctx.explicit_time)
        if tst.valid:
            break
    poe = tst.time if tst is not None and tst.valid else None
    claimed = emb.self_reported_timestamp
    if tst is not None:
        if tst.valid and tst.info is not None:
            findings.append(Finding.of("timestamp_ok", time=fmt_time(tst.info.time),
                                       tsa=tst.info.tsa))
        else:
            findings.append(Finding.of("timestamp_invalid", detail=tuple(tst.findings) or "?"))

    # Step 3 (5.2.8): cryptographic constraints on the signature's own algorithms.
    sig_algo = emb.signer_info["signature_algorithm"]["algorithm"].native
    weak = trust.check_algorithms(None, digest=emb.md_algorithm, signature_algorithm=sig_algo)

    # Step 4 (5.2.6 / 5.6.2.1): the signing certificate at the best signature time.
    cms_o, cms_c = _cms_revinfo(emb.signed_data)
    cert_res = trust.validate_certificate(
        cert, other_certs=[*other_certs, *dss_certs],
        embedded_ocsps=[*dss_ocsps, *cms_o], embedded_crls=[*dss_crls, *cms_c],
        validation_time=ctx.validation_time, usage="signing", poe_time=poe,
        claimed_time=claimed, explicit_time=ctx.explicit_time)

    # The verdict for this signature, worst first (FAILED > INDETERMINATE).
    if unsupported is not None and intact:
        # EN 319 102-1 5.2.8: an algorithm the verifier cannot apply - not a failure
        # of the signature, and not a pass.
        ind, sub = I.INDETERMINATE, S.CRYPTO_CONSTRAINTS_FAILURE
        findings.insert(0, Finding.of("unsupported_algorithm_sig", id=s.name, detail=Foreign(unsupported)))
    elif not intact:
        ind, sub = I.TOTAL_FAILED, S.HASH_FAILURE
        findings.insert(0, Finding.of("hash_failure", id=s.name))
    elif not valid:
        ind, sub = I.TOTAL_FAILED, S.SIG_CRYPTO_FAILURE
        findings.insert(0, Finding.of("sig_crypto_failure", id=s.name))
    elif coverage == "partial":
        ind, sub = I.TOTAL_FAILED, S.FORMAT_FAILURE
        findings.insert(0, Finding.of("coverage_partial", id=s.name, detail=Foreign(cov_detail or "?")))
    elif cert_res.indication is I.TOTAL_FAILED:
        ind, sub = cert_res.indication, cert_res.subindication
        findings[:0] = cert_res.findings
    elif weak:
        ind, sub = I.INDETERMINATE, S.CRYPTO_CONSTRAINTS_FAILURE
        findings[:0] = [Finding.of("weak_digest_sig", id=s.name, detail=w) for w in weak]
        findings.extend(cert_res.findings)
    elif not cert_res.passed:
        ind, sub = cert_res.indication, cert_res.subindication
        findings[:0] = cert_res.findings
    else:
        ind, sub = I.TOTAL_PASSED, None
        findings[:0] = cert_res.findings

    # Level (EN 319 142-1 6; one definition for both formats, see verifier.xml
    # _protected_levels): what the file provides for validating this signature. B-LT
    # needs revocation data about this signer's certificate in the DSS or the CMS.
    level = Level.B_B
    if tst is not None:
        level = Level.B_T
        if (has_dss_revinfo and _revinfo_about(cert, dss_ocsps, dss_crls)) or cms_o or cms_c:
            level = Level.B_LT
            if has_later_doc_ts:
                level = Level.B_LTA

    return SignatureReport(
        id=s.name, indication=ind, subindication=sub,
        role=trust.role(cert), claimed_role=pdf_declared_role(emb), signer=signer,
        signing_time=claimed, timestamp=tst.info if tst is not None else None,
        level=level.value, integrity=integrity, coverage=coverage,
        chain=cert_res.chain, revocation=cert_res.revocation, findings=tuple(findings),
        evidence=_evidence(emb, cert, cert_res, digest,
                           [(tst_token, tst.time, "signature", tst)] if tst is not None else []))


def _revinfo_about(cert: x509.Certificate, ocsps: list[ocsp.OCSPResponse],
                   crls: list[crl.CertificateList]) -> bool:
    """Revocation data about ``cert``: an OCSP response for its serial number, or a CRL
    from its issuer."""
    for r in ocsps:
        try:
            tbs = r["response_bytes"]["response"].parsed["tbs_response_data"]
            if any(single["cert_id"]["serial_number"].native == cert.serial_number
                   for single in tbs["responses"]):
                return True
        except Exception:  # noqa: BLE001 - a malformed response is about nothing
            continue
    return any(cl.issuer == cert.issuer for cl in crls)


def _evidence(emb: Any, cert: Any, cert_res: Any, signed_digest: bytes | None,
              timestamps: list[tuple[Any, Any, str, Any]]) -> Any:
    """The ETSI report's validation objects of one PDF signature (verifier.evidence)."""
    from verifier import evidence

    try:
        attrs = emb.signer_info["signed_attrs"]
        dtbs = evidence.digest(emb.md_algorithm, attrs.dump()) if attrs else None
        value = bytes(emb.signer_info["signature"].native)
        algo = emb.md_algorithm
    except Exception:  # noqa: BLE001 - a malformed signature still gets its objects
        dtbs, value, algo = None, None, None
    return evidence.build(cert, cert_res, signature_value=value, dtbs_digest=dtbs,
                          signers_document=(algo, signed_digest) if algo and signed_digest
                          else None, timestamps=timestamps)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_ = TimestampInfo

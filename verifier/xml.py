"""XML half of the verifier: XMLDSig and XAdES, "see what is signed".

``evaluate_xml(data, ctx)`` parses once with the hardened parser, validates
every ``ds:Signature`` (any depth, countersignatures included) per ETSI EN 319
102-1 (basic signature validation 5.3, with time-stamps 5.5, long-term 5.6), and
derives everything the report says about the record from the node-sets the
valid references actually hashed:

* ``duplicate_ids``: an Id value carried by two elements fails (XSW);
* ``unsigned_content``: every non-blank text node and every attribute (other
  than namespace declarations and ``Id``) outside the signatures must lie inside
  what the signatures cover (CONTRACT 6);
* ``record``: read from the identity and year blocks only when they are covered.

Certificates are judged only by :class:`ground.judge.TrustEngine` (pyhanko-
certvalidator), never by signxml's chain check.
"""
from __future__ import annotations

import base64
import copy
import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from asn1crypto import x509 as asn1_x509
from lxml import etree

from ground.vocab import RECORD_NS, Coverage, Indication, Level, SubIndication
from ground.xmlsafe import XmlFormatError, parse_xml
from ground.declared_role import xades_claimed_role
from ground.findings import fmt_time
from verifier.report import Check, Finding, Foreign, SignatureReport, TimestampInfo
from verifier.xml_dsig import (DS, WEAK_DIGESTS, Document, DsigError, SignatureCore,
                               hash_bytes, key_size, load_cert, parse_signature, q,
                               verify_signature_value)
from verifier.xml_xades import (COUNTERSIGNED_TYPE_SUFFIX, Qualifying,
                                Timestamp, archive_timestamp_inputs,
                                find_qualifying, load_asn1_certs, load_crls, load_ocsps,
                                signature_timestamp_input)

if TYPE_CHECKING:
    from verifier.context import EvalContext, FormatResult

I, S = Indication, SubIndication


HOCBA_ROOT = f"{{{RECORD_NS}}}HocBa"
HOCBA_IDENTITY = f"{{{RECORD_NS}}}HocSinh"
HOCBA_YEAR = f"{{{RECORD_NS}}}NamHoc"


@dataclass
class _Judged:
    """One signature under evaluation."""

    core: SignatureCore
    qual: Qualifying | None = None
    cert: asn1_x509.Certificate | None = None
    other_certs: list[asn1_x509.Certificate] = field(default_factory=list)
    verdicts: list[tuple[Indication, SubIndication | None, Finding]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    integrity: bool | None = False
    covered: int = 0
    # What could not be established (EN 319 102-1 INDETERMINATE), reported after the
    # certificate's own verdicts: a chain that cannot be built explains more than the
    # data that could not be checked.
    unknown: list[tuple[SubIndication, Finding]] = field(default_factory=list)
    # EN 319 102-1 5.5 / 5.6.3: this signature's own timestamps (filled by _judge_timestamps)
    ts_info: TimestampInfo | None = None
    sig_ts_times: list[datetime] = field(default_factory=list)
    ats_times: list[datetime] = field(default_factory=list)
    # (token, genTime, kind, result) of every timestamp judged: ETSI validation objects
    ts_objects: list[tuple[Any, datetime | None, str, Any]] = field(default_factory=list)


def _fail(j: _Judged, ind: Indication, sub: SubIndication | None, finding: Finding) -> None:
    j.verdicts.append((ind, sub, finding))


def _finding(e: DsigError) -> Finding:
    return Finding(e.code, tuple(e.args_.items()))


def _dsig_indication(e: DsigError) -> Indication:
    return I.INDETERMINATE if e.subindication in (
        S.SIGNED_DATA_NOT_FOUND, S.NO_SIGNING_CERTIFICATE_FOUND) else I.TOTAL_FAILED


def evaluate_xml(data: bytes, ctx: "EvalContext") -> "FormatResult":
    from verifier.context import FormatResult

    limits = ctx.policy.limits
    try:
        tree = parse_xml(data, max_depth=limits.max_xml_depth)
    except XmlFormatError as e:
        return FormatResult("xml", (), (Check("format", False, Finding.of(
            # the technical detail, in English as the other Foreign details (not the CLI's language)
            "format_error", detail=Foreign(e.render("en"))), I.TOTAL_FAILED, S.FORMAT_FAILURE),))
    doc = Document(tree)
    sig_els = [el for el in doc.root.iter(q(DS, "Signature"))]
    if len(sig_els) > limits.max_signatures:
        return FormatResult("xml", (), (Check("format", False, Finding.of(
            "too_many_signatures", count=len(sig_els), limit=limits.max_signatures),
            I.TOTAL_FAILED, S.FORMAT_FAILURE),))

    # Validation data embedded anywhere in the document is offered to the trust engine
    # first (EN 319 102-1 5.2.6 / 5.6.2: XAdES CertificateValues, RevocationValues,
    # TimeStampValidationData).
    judged = [_judge_core(doc, el, i) for i, el in enumerate(sig_els)]
    outside = _outside_mask(doc, sig_els)
    layout = _record_layout(doc, outside)
    vouches = _vouches(doc, judged, outside, layout)
    for j, v in zip(judged, vouches):
        if v is False:
            j.findings.insert(0, Finding.of("not_a_record_signature"))
    emb_certs, emb_ocsp, emb_crl = [], [], []
    for j in judged:
        if j.qual is not None:
            emb_certs.extend(load_asn1_certs(j.qual.certificate_values))
            emb_ocsp.extend(load_ocsps(j.qual.ocsp_values))
            emb_crl.extend(load_crls(j.qual.crl_values))
    for j in judged:
        _judge_timestamps(doc, j, ctx, emb_ocsp, emb_crl)
    cross = _poe_from_other_signatures(doc, judged)
    reports = [_judge_trust(doc, j, ctx, emb_certs, emb_ocsp, emb_crl, cross[i])
               for i, j in enumerate(judged)]

    # ``covered``: what intact signatures provably cover (the record is read from it);
    # ``claimed``: also what signatures of unknown integrity cover with matching
    # digests - content there is not "unsigned", although nothing vouches for it yet
    # (such a signature is INDETERMINATE, so the file cannot pass).
    covered = claimed = 0
    for j in judged:
        if j.integrity:
            covered |= j.covered
        if j.integrity is not False:
            claimed |= j.covered
    checks = [_duplicate_ids_check(doc)]
    if sig_els:
        checks.append(_unsigned_content_check(doc, outside, claimed))
    if layout is not None:
        checks.append(layout.check)
    record = _record(doc, covered, layout)
    groups, labels = _record_groups(doc, judged, vouches, layout)
    precedes, covered_by = _order_evidence(doc, judged)
    reports = _protected_levels(judged, reports, covered_by)
    # Report the signatures in an order the evidence allows (document order otherwise).
    perm = _topological(len(judged), precedes)
    inv = {old: new for new, old in enumerate(perm)}
    return FormatResult(
        "xml", tuple(reports[i] for i in perm), tuple(checks), record,
        tuple(tuple(sorted(inv[i] for i in g)) for g in groups) if groups is not None else None,
        vouches=tuple(vouches[i] for i in perm), group_labels=labels,
        precedes=frozenset((inv[a], inv[b]) for a, b in precedes),
        covers=frozenset((inv[a], inv[b]) for a, b in covered_by),
        extras={"covered": covered})


def _order_evidence(doc: Document, judged: list[_Judged]
                    ) -> tuple[frozenset[tuple[int, int]], frozenset[tuple[int, int]]]:
    """Which signature was made before which, from signed evidence only (CONTRACT 6).

    1. Coverage: an intact signature T whose valid reference covers the
       ``ds:SignatureValue`` of S was made after S (S's value existed when T was made:
       countersignature semantics, as hocba's signer writes records).
    2. Trusted signature-timestamp times, for pairs that coverage does not relate:
       the earliest valid timestamp of each (EN 319 102-1 best-signature-time).
    Where a ``ds:Signature`` element stands in the file is never evidence. Returns the
    transitive closure; pairs in conflict (a cycle) are dropped, so the order of those
    signatures is "not established" rather than either way.

    Also returns the coverage relation alone, (a, b): b's signed content covers a's
    signature value, directly or through signatures in between (what a school seal
    vouches for, CONTRACT 8)."""
    n = len(judged)
    rel = [[False] * n for _ in range(n)]
    for si, sj in enumerate(judged):
        value = sj.core.element.find(q(DS, "SignatureValue"))
        if value is None or value not in doc.e_idx:
            continue
        for ti, t in enumerate(judged):
            if ti == si or t.integrity is not True or any(
                    v[0] is I.TOTAL_FAILED for v in t.verdicts):
                continue
            if any(r.valid and doc.contains_subtree(r.covered, value) for r in t.core.references):
                rel[si][ti] = True
    _close(rel)
    covered_by = frozenset((a, b) for a in range(n) for b in range(n)
                           if rel[a][b] and not rel[b][a])
    times = [min(j.sig_ts_times) if j.sig_ts_times else None for j in judged]
    for a in range(n):
        for b in range(n):
            ta, tb = times[a], times[b]
            if (a != b and ta is not None and tb is not None and ta < tb
                    and not rel[a][b] and not rel[b][a]):
                rel[a][b] = True
    _close(rel)
    return frozenset((a, b) for a in range(n) for b in range(n)
                     if rel[a][b] and not rel[b][a]), covered_by


_LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")


def _protected_levels(judged: list[_Judged], reports: list[SignatureReport],
                      covered_by: frozenset[tuple[int, int]]) -> list[SignatureReport]:
    """One definition of a signature's level for both formats (issue 16 item 8): what
    the file provides for validating it. B-T: its own valid signature timestamp. B-LT:
    also validation data for its signing certificate in the file - its own
    CertificateValues/RevocationValues, or those of a later intact signature that covers
    it (as a PAdES DSS serves every signature of the PDF). B-LTA: also a valid archive
    timestamp over that data and this signature (its own, or that covering signature's,
    as a later document timestamp does in a PDF)."""
    out = list(reports)
    for s, (j, rep) in enumerate(zip(judged, reports)):
        if rep.level not in ("B-T", "B-LT") or j.cert is None:
            continue
        der = j.cert.dump()
        best = _LEVELS.index(rep.level)
        for t, other in enumerate(judged):
            if (s, t) not in covered_by or other.qual is None or not other.integrity:
                continue
            if not (other.qual.has_lt_values and der in other.qual.certificate_values):
                continue
            best = max(best, _LEVELS.index("B-LTA" if other.ats_times else "B-LT"))
        if best != _LEVELS.index(rep.level):
            out[s] = replace(rep, level=_LEVELS[best])
    return out


def _close(rel: list[list[bool]]) -> None:
    n = len(rel)
    for k in range(n):
        rk = rel[k]
        for i in range(n):
            if rel[i][k]:
                ri = rel[i]
                for j in range(n):
                    if rk[j]:
                        ri[j] = True


def _topological(n: int, precedes: frozenset[tuple[int, int]]) -> list[int]:
    """Indices ordered so that every proven "a before b" holds; ties in document order."""
    out: list[int] = []
    left = list(range(n))
    while left:
        nxt = next((i for i in left if not any((j, i) in precedes for j in left if j != i)),
                   left[0])
        out.append(nxt)
        left.remove(nxt)
    return out


# --- 5.3 basic signature validation: format, ISC, cryptographic verification ---------------

# Reference errors that leave integrity *unknown* (EN 319 102-1: INDETERMINATE), not
# broken: the signed data is outside the file by design, or an algorithm or transform
# this verifier does not run. Everything else (digest mismatch, duplicate Id, malformed
# structure) is a failure.
_UNKNOWN_CODES = {
    "ref_external": (S.SIGNED_DATA_NOT_FOUND, "ref_external"),
    "ref_detached": (S.SIGNED_DATA_NOT_FOUND, "ref_detached"),
    "unsupported_digest": (S.CRYPTO_CONSTRAINTS_FAILURE, "unsupported_digest"),
    "unsupported_signature_method": (S.CRYPTO_CONSTRAINTS_FAILURE, "unsupported_signature_method"),
    "unsupported_transform": (S.SIG_CONSTRAINTS_FAILURE, "unsupported_transform"),
    "unsupported_nodeset": (S.SIG_CONSTRAINTS_FAILURE, "unsupported_nodeset"),
}


def _judge_core(doc: Document, sig: Any, index: int) -> _Judged:
    core = parse_signature(doc, sig, index)
    j = _Judged(core)
    # 5.2.2 format checking.
    if core.error is not None:
        _fail(j, _dsig_indication(core.error), core.error.subindication, _finding(core.error))
        j.integrity = False
        return j
    try:
        j.qual = find_qualifying(sig, sig.get("Id"))
    except DsigError as e:
        _fail(j, I.TOTAL_FAILED, e.subindication, _finding(e))
    if j.qual is not None and not j.qual.target_ok:
        j.findings.append(Finding.of("xades_target_mismatch", target=j.qual.qp.get("Target") or ""))

    # 5.2.7 cryptographic verification: every reference, then the signature value.
    # Integrity is False only when a digest or the value provably does not match; None
    # (unknown) when it cannot be established.
    refs_ok: bool | None = True
    for r in core.references:
        if r.error is None:
            continue
        unknown = _UNKNOWN_CODES.get(r.error.code)
        if unknown is not None:
            refs_ok = None if refs_ok is not False else False
            j.unknown.append((unknown[0], _finding(r.error)))
        else:
            refs_ok = False
            _fail(j, _dsig_indication(r.error), r.error.subindication, _finding(r.error))
    candidates: list[tuple[asn1_x509.Certificate, Any]] = []
    for der in core.keyinfo_certs:
        c = load_cert(der)
        if c is not None:
            candidates.append(c)
    if j.qual is not None:
        for der in j.qual.certificate_values:
            c = load_cert(der)
            if c is not None:
                candidates.append(c)
    value_ok: bool | None = None
    verified = None
    if core.algorithm is None:
        # 5.2.8: a signature algorithm this verifier cannot apply: neither valid nor invalid.
        assert core.unsupported_method is not None
        j.unknown.insert(0, (S.CRYPTO_CONSTRAINTS_FAILURE, _finding(core.unsupported_method)))
    else:
        kind, digest, pad, salt = core.algorithm
        for a, c in candidates:
            if verify_signature_value(c.public_key(), kind, digest, pad, salt,
                                      core.signature_value, core.c14n_signed_info):
                verified = (a, c)
                break
        # 5.2.3 identification of the signing certificate.
        if not candidates:
            # No certificate at all (KeyName, a bare KeyValue, nothing): the value cannot
            # be checked against anyone - unknown, and no chain can be built.
            j.unknown.append((S.NO_CERTIFICATE_CHAIN_FOUND, Finding.of("no_certificate_in_signature")))
        elif verified is None:
            value_ok = False
            _fail(j, I.TOTAL_FAILED, S.SIG_CRYPTO_FAILURE, Finding.of("sig_value_invalid"))
        else:
            value_ok = True
            j.cert = verified[0]
            j.other_certs = [a for a, _ in candidates if a is not verified[0]]
            if j.qual is not None and j.qual.has_signing_cert_property:
                der = verified[0].dump()
                if not any(hash_bytes(r.digest_algorithm, der) == r.digest
                           for r in j.qual.cert_refs):
                    # EN 319 102-1 5.2.3.4: the certificate does not match the signed reference.
                    _fail(j, I.INDETERMINATE, S.NO_SIGNING_CERTIFICATE_FOUND,
                          Finding.of("signing_cert_digest_mismatch"))
    if refs_ok is False or value_ok is False:
        j.integrity = False
    elif refs_ok is None or value_ok is None:
        j.integrity = None
    else:
        j.integrity = True
    if j.integrity is not False:
        # What the valid references hashed. For an unknown integrity it still tells what
        # the signature claims to cover (the signature itself is never PASSED then).
        for r in core.references:
            if r.valid:
                j.covered |= r.covered
    if j.integrity:
        j.findings.append(Finding.of("sig_intact"))

    # XAdES: the SignedProperties of THIS signature must be covered by one of its valid
    # references (EN 319 132-1 6.3; with or without the Type attribute, which XAdES
    # 1.1.1-1.3.2 signers often omit) - XSW "fake signedProperties".
    if j.qual is not None and j.integrity is not False:
        sp = j.qual.signed_props
        if sp is None or sp not in doc.e_idx or not any(
                r.valid and doc.contains_subtree(r.covered, sp) for r in core.references):
            _fail(j, I.TOTAL_FAILED, S.FORMAT_FAILURE, Finding.of("signed_props_not_signed"))
        elif not j.qual.has_signing_cert_property:
            _fail(j, I.INDETERMINATE, S.NO_SIGNING_CERTIFICATE_FOUND, Finding.of("no_signing_cert"))
    # A countersignature must sign the SignatureValue of the signature it sits in.
    parent = _countersigned(sig)
    if parent is not None and j.integrity is not False:
        value = parent.find(q(DS, "SignatureValue"))
        if value is None or not any(
                (r.type or "").endswith(COUNTERSIGNED_TYPE_SUFFIX)
                and doc.contains_subtree(r.covered, value) for r in core.references):
            _fail(j, I.TOTAL_FAILED, S.FORMAT_FAILURE, Finding.of("countersignature_not_covering"))
    # 5.2.8 cryptographic constraints on the digests used (the key is checked with
    # the certificate by the trust engine).
    used = [r.digest_algorithm for r in core.references]
    if core.algorithm is not None:
        used.append(core.algorithm[1])
    weak = sorted({d for d in used if d and (d in WEAK_DIGESTS or d not in _allowed(j))})
    if weak:
        _fail(j, I.INDETERMINATE, S.CRYPTO_CONSTRAINTS_FAILURE,
              Finding.of("weak_algorithm", detail=", ".join(weak)))
    return j


def _allowed(j: _Judged) -> frozenset[str]:
    from ground.policy import ALLOWED_DIGESTS

    return ALLOWED_DIGESTS


def _countersigned(sig: Any) -> Any:
    parent = sig.getparent()
    if parent is None or not isinstance(parent.tag, str) or not parent.tag.endswith("}CounterSignature"):
        return None
    anc = parent.getparent()
    while anc is not None and anc.tag != q(DS, "Signature"):
        anc = anc.getparent()
    return anc


# --- 5.4/5.5/5.6: timestamps, certificate validation, levels --------------------------------

def _judge_timestamps(doc: Document, j: _Judged, ctx: "EvalContext", emb_ocsp: list[Any],
                      emb_crl: list[Any]) -> None:
    """5.5 / 5.6.3: validate this signature's archive and signature timestamps."""
    qual = j.qual
    sig = j.core.element
    ts_info: TimestampInfo | None = None
    sig_ts_times = j.sig_ts_times
    ats_times = j.ats_times
    if qual is not None and j.integrity:
        # Archive timestamps first: their times are POE for what they cover (5.6.2.x).
        # EN 319 102-1 5.6.3 (validation process for LTA): newest first; the newest is
        # judged at the validation time, each older one at the time proven by the next
        # newer valid one (its genTime is POE for everything it covers, including the
        # older timestamp and its TimeStampValidationData) -- as pdf.py does for document
        # timestamps. Findings keep document order.
        ats_findings: list[Finding] = []
        next_poe: datetime | None = None
        archives = [t for t in qual.timestamps if t.kind == "archive"]
        # Numbered in document order: two renewals within one second stay two findings.
        for n, ts in reversed(list(enumerate(archives, 1))):
            res = _validate_ts(doc, sig, qual, ts, ctx, emb_ocsp, emb_crl, next_poe)
            if ts.token is not None:
                j.ts_objects.append((ts.token, res.time if res is not None else None,
                                     "archive", res))
            if res is not None and res.valid:
                ats_times.append(res.time)
                next_poe = res.time
                ats_findings.append(Finding.of("archive_timestamp_ok", n=n,
                                               time=fmt_time(res.time)))
            else:
                ats_findings.append(Finding.of("archive_timestamp_invalid", n=n,
                                               detail=_ts_detail(res, ts)))
        j.findings.extend(reversed(ats_findings))
        ats_poe = min(ats_times) if ats_times else None
        for ts in [t for t in qual.timestamps if t.kind == "signature"]:
            res = _validate_ts(doc, sig, qual, ts, ctx, emb_ocsp, emb_crl, ats_poe)
            if ts.token is not None:
                j.ts_objects.append((ts.token, res.time if res is not None else None,
                                     "signature", res))
            if res is not None and res.info is not None and (ts_info is None or res.valid):
                if ts_info is None or not ts_info.valid:
                    ts_info = res.info
            if res is not None and res.valid:
                sig_ts_times.append(res.time)
                j.findings.append(Finding.of("sig_timestamp_ok", time=fmt_time(res.time),
                                             tsa=res.info.tsa))
            else:
                j.findings.append(Finding.of("sig_timestamp_invalid", detail=_ts_detail(res, ts)))
    j.ts_info = ts_info


def _poe_from_other_signatures(doc: Document, judged: list[_Judged]) -> list[datetime | None]:
    """EN 319 102-1 5.6.2.x POE extraction across signatures: an object whose digest lies
    inside time-stamped data existed at the timestamp's genTime. A later signature T of
    the record references (by Id) the ``ds:SignatureValue`` of each earlier one S
    (countersignature semantics, docs/xades-design.md); T's signature timestamp covers
    T's SignatureValue (hence its SignedInfo with S's digest) and T's archive timestamps
    cover T's reference outputs and SignedInfo. So when T is intact (every reference
    verified, its value verified, no failed format check) and has a *valid* timestamp
    (archive chain judged newest first), S's SignatureValue has POE at that timestamp's
    time. Per S: the earliest such time, or None. Only direct coverage by a timestamped
    signature counts (no chains of POE through untimestamped signatures)."""
    out: list[datetime | None] = []
    for s in judged:
        best: datetime | None = None
        value = s.core.element.find(q(DS, "SignatureValue")) if s.integrity else None
        if value is not None and value in doc.e_idx:
            for t in judged:
                times = [*t.ats_times, *t.sig_ts_times]
                if t is s or not t.integrity or not times or any(
                        v[0] is I.TOTAL_FAILED for v in t.verdicts):
                    continue
                if any(r.valid and r.error is None and doc.contains_subtree(r.covered, value)
                       for r in t.core.references):
                    tmin = min(times)
                    best = tmin if best is None or tmin < best else best
        out.append(best)
    return out


def _judge_trust(doc: Document, j: _Judged, ctx: "EvalContext", emb_certs: list[Any],
                 emb_ocsp: list[Any], emb_crl: list[Any],
                 other_poe: datetime | None = None) -> SignatureReport:
    trust = ctx.trust
    qual = j.qual
    ts_info = j.ts_info
    sig_ts_times = j.sig_ts_times
    ats_times = j.ats_times
    poe = min(sig_ts_times) if sig_ts_times else (min(ats_times) if ats_times else None)
    if other_poe is not None and (poe is None or other_poe < poe):
        # POE of this SignatureValue proven by another signature's valid timestamp.
        poe = other_poe
        j.findings.append(Finding.of("poe_other_signature", time=fmt_time(other_poe)))

    signer = role = None
    chain: tuple[str, ...] = ()
    revocation = None
    cr = None
    if j.cert is not None:
        signer = trust.signer_info(j.cert)
        role = trust.role(j.cert)
        # 5.2.6 X.509 certificate validation (5.6.2.1 at the POE when needed).
        cr = trust.validate_certificate(
            j.cert, other_certs=[*j.other_certs, *emb_certs], embedded_ocsps=emb_ocsp,
            embedded_crls=emb_crl, validation_time=ctx.validation_time, usage="signing",
            poe_time=poe, claimed_time=qual.signing_time if qual else None,
            explicit_time=ctx.explicit_time)
        chain, revocation = cr.chain, cr.revocation
        if not cr.passed:
            _fail(j, cr.indication, cr.subindication,
                  cr.findings[0] if cr.findings else Finding.of("signature_not_passed", id=j.core.id))
            j.findings.extend(cr.findings[1:])
        else:
            j.findings.extend(cr.findings)
        if j.core.algorithm is not None:
            for f in trust.check_algorithms(j.cert):
                if f not in [v[2] for v in j.verdicts]:
                    _fail(j, I.INDETERMINATE, S.CRYPTO_CONSTRAINTS_FAILURE, f)

    claimed = None
    if qual is not None:
        for text in qual.claimed_roles:
            value = xades_claimed_role(text)
            if value is not None:
                claimed = value
                break
        else:
            if qual.claimed_roles:
                j.findings.append(Finding.of("claimed_role_unknown", role=qual.claimed_roles[0]))

    level = None
    if qual is not None and qual.signed_props is not None and qual.has_signing_cert_property:
        level = Level.B_B.value
        if sig_ts_times:
            level = Level.B_T.value
            if qual.has_lt_values:
                level = Level.B_LT.value
                if ats_times:
                    level = Level.B_LTA.value
    if j.integrity:
        j.findings.append(Finding.of("signed_elements", elements=_describe(doc, j.covered)))

    for sub_u, f_u in j.unknown:
        _fail(j, I.INDETERMINATE, sub_u, f_u)
    # Worst verdict first (TOTAL_FAILED over INDETERMINATE), in the order found.
    ind, sub, first = I.TOTAL_PASSED, None, None
    for v_ind, v_sub, f in j.verdicts:
        if v_ind.severity > ind.severity:
            ind, sub, first = v_ind, v_sub, f
    findings = ([first] if first else []) + [v[2] for v in j.verdicts if v[2] is not first] + [
        f for f in j.findings]
    return SignatureReport(
        id=j.core.id, indication=ind, subindication=sub, role=role, claimed_role=claimed,
        signer=signer, signing_time=qual.signing_time if qual else None, timestamp=ts_info,
        level=level, integrity=j.integrity,
        coverage=_coverage(doc, j) if j.integrity else None,
        modifications_after=None, chain=chain, revocation=revocation,
        findings=tuple(_dedupe(findings)), evidence=_evidence(j, cr))


def _evidence(j: _Judged, cr: Any) -> Any:
    """The ETSI report's validation objects of one XML signature (verifier.evidence)."""
    from verifier import evidence
    from verifier.xml_dsig import DIGESTS

    core = j.core
    dtbs = None
    if core.c14n_signed_info and core.algorithm is not None:
        dtbs = evidence.digest(core.algorithm[1], core.c14n_signed_info)
    signers_doc = None
    for r in core.references:
        dv = r.element.find(q(DS, "DigestValue"))
        dm = r.element.find(q(DS, "DigestMethod"))
        name = DIGESTS.get(dm.get("Algorithm") or "") if dm is not None else None
        if r.valid and dv is not None and name:
            try:
                signers_doc = (name, base64.b64decode("".join((dv.text or "").split())))
            except ValueError:
                continue
            break
    return evidence.build(j.cert, cr, signature_value=core.signature_value or None,
                          dtbs_digest=dtbs, signers_document=signers_doc,
                          timestamps=j.ts_objects)


def _dedupe(items: list[Finding]) -> list[Finding]:
    seen: set[Finding] = set()
    out = []
    for f in items:
        if f not in seen:
            seen.add(f)
            out.append(f)
    return out


def _validate_ts(doc: Document, sig: Any, qual: Qualifying, ts: Timestamp, ctx: "EvalContext",
                 emb_ocsp: list[Any], emb_crl: list[Any], poe: datetime | None) -> Any:
    if ts.token is None or ts.error:
        return None
    try:
        if ts.kind == "signature":
            inputs = [signature_timestamp_input(doc, sig, ts)]
        else:
            inputs = archive_timestamp_inputs(doc, sig, qual, ts)
    except DsigError:
        return None
    best = None
    def digester(d: bytes) -> Callable[[str], bytes]:
        return lambda algo: hashlib.new(algo, d).digest()

    for data in inputs:
        res = ctx.trust.validate_timestamp_token(
            ts.token, digester(data), ctx.validation_time,
            embedded_ocsps=emb_ocsp, embedded_crls=emb_crl, poe_time=poe,
            explicit_time=ctx.explicit_time)
        if best is None or res.intact:
            best = res
        if res.intact:
            break
    return best


def _ts_detail(res: Any, ts: Timestamp) -> Any:
    if res is None:
        return Foreign(ts.error or "?")
    return tuple(res.findings) or "?"


def _coverage(doc: Document, j: _Judged) -> Coverage:
    return Coverage.ENTIRE_FILE if doc.contains_subtree(j.covered, doc.root) else Coverage.PARTIAL


def _describe(doc: Document, mask: int, limit: int = 8) -> str:
    """The top elements a node-set covers, e.g. ``HocSinh#HS-1-hocsinh, NamHoc#...``."""
    names: list[str] = []
    bits = doc.bits(mask)
    i = bits.find("1")
    while i != -1 and len(names) < limit:
        kind, el = doc.nodes[i]
        if kind == "E" and isinstance(el.tag, str):
            ident = el.get("Id")
            names.append(etree.QName(el).localname + (f"#{ident}" if ident else ""))
            i = bits.find("1", doc.end[i])
            continue
        i = bits.find("1", i + 1)
    return ", ".join(names) or "-"


# --- document checks ------------------------------------------------------------------------

def _duplicate_ids_check(doc: Document) -> Check:
    if doc.duplicate_ids:
        return Check("duplicate_ids", False, Finding.of(
            "duplicate_ids_failed", ids=", ".join(doc.duplicate_ids[:5])),
            I.TOTAL_FAILED, S.FORMAT_FAILURE)
    return Check("duplicate_ids", True, Finding.of("duplicate_ids_ok"))


def _outside_mask(doc: Document, sig_els: list[Any]) -> int:
    """The nodes outside ds:Signature elements, where content must be signed (CONTRACT 6)."""
    sig_mask = 0
    for s in sig_els:
        sig_mask |= doc.subtree(s)
    # Signed data carried inside a signature (enveloping ds:Object, ds:Manifest) is
    # content too: an Object no signature covers is injected (XSW "fake object").
    # The QualifyingProperties' Object is the signature's own (unsigned properties).
    for s in sig_els:
        for obj in s.iterchildren(q(DS, "Object")):
            if any(isinstance(c.tag, str) and c.tag.endswith("}QualifyingProperties") for c in obj):
                continue
            sig_mask &= ~doc.subtree(obj)
    for s in sig_els:
        for inner in s.iter(q(DS, "Signature")):
            if inner is not s:
                sig_mask |= doc.subtree(inner)
    return doc.all_mask & ~sig_mask


def _uncovered_content(doc: Document, rest: int, limit: int) -> list[str]:
    """Where content lies among the nodes of ``rest`` (outside the signatures, not
    covered), at most ``limit`` places. Content (CONTRACT 6): a non-blank text node;
    an attribute other than namespace declarations and ``Id``; an element with no
    child element (its presence is information, e.g. an empty second ``<HocSinh/>``).
    An uncovered element is fine only when it merely wraps other elements (covered
    ones, signatures - or uncovered ones, which are judged themselves). Comments and
    processing instructions are not content. Linear time: the set bits are found in
    a bit string, never by shifting a document-sized int per node."""
    where: list[str] = []
    reported: set[Any] = set()  # one place per element (its E and T nodes say the same)
    bits = doc.bits(rest)
    i = bits.find("1")
    while i != -1 and len(where) < limit:
        kind, el = doc.nodes[i]
        i = bits.find("1", i + 1)
        about = el.getparent() if kind == "L" else el
        if about in reported:
            continue
        w = None
        if kind == "E" and isinstance(el.tag, str):
            attrs = [k for k in el.attrib if k != "Id" and not _fixed_attr(doc, el, k)]
            if attrs:
                w = (f"{etree.QName(el).localname}/@{etree.QName(attrs[0]).localname}"
                     f" (line {el.sourceline})")
            elif not any(isinstance(c.tag, str) for c in el):
                w = f"{etree.QName(el).localname} (line {el.sourceline})"
        elif kind == "T" and el.text and el.text.strip():
            w = f"{etree.QName(el).localname} (line {el.sourceline})"
        elif kind == "L" and el.tail and el.tail.strip():
            parent = el.getparent()
            w = (f"{etree.QName(parent).localname if parent is not None else '?'}"
                 f" (line {el.sourceline})")
        if w is not None:
            reported.add(about)
            where.append(w)
    return where


def _unsigned_content_check(doc: Document, outside: int, covered: int) -> Check:
    """CONTRACT 6: content outside ds:Signature must be covered."""
    where = _uncovered_content(doc, outside & ~covered, 5)
    if where:
        return Check("unsigned_content", False, Finding.of(
            "unsigned_content_failed", where="; ".join(where)),
            I.TOTAL_FAILED, S.SIG_CONSTRAINTS_FAILURE)
    return Check("unsigned_content", True, Finding.of("unsigned_content_ok"))


def _fixed_attr(doc: Document, el: Any, name: str) -> bool:
    # The record book's root carries version="1", fixed by the schema (recordbook.xsd):
    # a value nobody can change without failing this exemption, so it carries nothing.
    return el is doc.root and el.tag == HOCBA_ROOT and name == "version" and el.get(name) == "1"


@dataclass
class _Layout:
    """A record book's blocks (root ``HocBa`` in the record namespace)."""

    identity: Any  # the one identity block, None when there is not exactly one
    years: list[Any]
    check: Check


def _record_layout(doc: Document, outside: int) -> _Layout | None:
    """The record book's identity and year blocks, and whether they are unambiguous:
    exactly one ``HocSinh`` and one ``NamHoc`` per school year, as children of the
    root, and no such block elsewhere outside the signatures. An ambiguous record
    has no ``record`` summary and fails the ``record_structure`` check."""
    root = doc.root
    if root.tag != HOCBA_ROOT:
        return None
    identities = list(root.iterchildren(HOCBA_IDENTITY))
    years = list(root.iterchildren(HOCBA_YEAR))
    problem: Finding | None = None
    if len(identities) != 1:
        problem = Finding.of("record_identity_count", count=len(identities))
    if problem is None:
        seen: set[str] = set()
        for y in years:
            sy = (y.get("schoolYear") or "").strip()
            if sy in seen:
                problem = Finding.of("record_duplicate_year", year=sy or "?")
                break
            seen.add(sy)
    if problem is None:
        bits = doc.bits(outside)
        for el in root.iter(HOCBA_IDENTITY, HOCBA_YEAR):
            if el.getparent() is not root and bits[doc.e_idx[el]] == "1":
                problem = Finding.of("record_misplaced_block", block=etree.QName(el).localname,
                                     line=el.sourceline or "?")
                break
    if problem is not None:
        return _Layout(None, years, Check("record_structure", False, problem,
                                          I.TOTAL_FAILED, S.FORMAT_FAILURE))
    return _Layout(identities[0], years, Check("record_structure", True,
                                               Finding.of("record_structure_ok")))


def _vouches(doc: Document, judged: list[_Judged], outside: int,
             layout: _Layout | None) -> list[bool | None]:
    """Per signature: does it vouch for the record (None: integrity not established)?

    A record book's signature must cover the identity block and at least one year
    block (which years: :func:`_record_groups`); any other document's signature must
    cover all content outside the signatures (the nodes ``unsigned_content`` judges).
    A valid signature over something else - e.g. the principal's signature of an
    unrelated notice pasted into the record - does not count toward the roles."""
    out: list[bool | None] = []
    for j in judged:
        if not j.integrity:
            out.append(None)
        elif layout is not None:
            out.append(layout.identity is not None
                       and doc.contains_subtree(j.covered, layout.identity)
                       and (not layout.years
                            or any(doc.contains_subtree(j.covered, y) for y in layout.years)))
        else:
            out.append(not _uncovered_content(doc, outside & ~j.covered, 1))
    return out


def _record(doc: Document, covered: int, layout: _Layout | None) -> dict[str, str] | None:
    """Record summary from signed content only (CONTRACT 6); None when ambiguous."""
    if layout is None or layout.identity is None:
        return None
    identity = layout.identity
    if not doc.contains_subtree(covered, identity):
        return None
    years = [y for y in layout.years if doc.contains_subtree(covered, y)]
    # Comments and PIs are not signed content; lxml's findtext would stop at one
    # ("Phan <!-- x -->Văn" reads "Phan "), so read a copy without them.
    clean = copy.deepcopy(identity)
    etree.strip_elements(clean, etree.Comment, etree.ProcessingInstruction, with_tail=False)
    try:
        from recordbook.xmlio import record_summary

        summary = record_summary(clean, years)
    except Exception:
        return None
    return {k: v for k, v in summary.items() if v is not None} or None


def _record_groups(doc: Document, judged: list[_Judged], vouches: list[bool | None],
                   layout: _Layout | None
                   ) -> tuple[tuple[tuple[int, ...], ...] | None, tuple[str, ...] | None]:
    """Record books: one group per school-year block - the vouching signatures that
    cover it (with the identity block), labelled with the school year. Each group
    must hold the required roles and follow the signing order (core.record_checks),
    so last year's principal signature does not vouch for this year's block."""
    if layout is None:
        return None, None
    ok = [i for i, v in enumerate(vouches) if v]
    if not layout.years:
        return (tuple(ok),), ("",)
    groups = []
    labels = []
    for y in layout.years:
        groups.append(tuple(i for i in ok if doc.contains_subtree(judged[i].covered, y)))
        labels.append((y.get("schoolYear") or y.get("Id") or "?").strip())
    return tuple(groups), tuple(labels)


_ = key_size

"""Role evidence beyond the certificate's title (CONTRACT 8), for both formats.

Real Vietnamese personal certificates carry no title, so a signer's role may also come
from, in this order (each switchable in ``[roles] sources``):

1. ``certificate``: the title (or, for the seal, CN = O), read by the format modules;
2. ``registry``: a role registry CSV published by the school system or the Department
   of Education; the entry must be valid at the signing time (the trusted timestamp's
   time; without one, at both the claimed signing time and the validation time, since
   a claimed time proves nothing) and, when it names a school, be the record's school;
3. ``seal``: the role the signature declares, counted only when a later, TOTAL_PASSED
   signature by the record's school seal covers it (PDF: a later revision; XML: the
   seal's references cover its ``ds:SignatureValue``) and nothing above gave it
   another role; a registry that lists the certificate, but not for that time or school,
   speaks against the declaration and is not overridden by a seal.

Nothing else makes a declared role count: an unproven declaration leaves ``role``
null with a finding that says why, and the record checks then say INDETERMINATE.
Runs once per file, after the format module and before the record checks.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ground.findings import Finding, fmt_time
from ground.policy import Policy
from ground.vocab import Indication, Role, nfc
from verifier.context import FormatResult
from verifier.report import SignatureReport



def _same_name(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return " ".join(nfc(a).casefold().split()) == " ".join(nfc(b).casefold().split())


def _moments(s: SignatureReport, validation_time: datetime) -> tuple[datetime, ...]:
    """When the signature was made, as far as evidence goes: the trusted timestamp's
    time; otherwise both the claimed signing time and the validation time must hold."""
    if s.timestamp is not None and s.timestamp.valid:
        return (s.timestamp.time,)
    if s.signing_time is not None:
        return (s.signing_time, validation_time)
    return (validation_time,)


def _covers(result: FormatResult, earlier: int, later: int) -> bool:
    if result.covers is None:
        return earlier < later
    return (earlier, later) in result.covers


def resolve_roles(result: FormatResult, policy: Policy, validation_time: datetime) -> FormatResult:
    """``result`` with each signature's ``role`` and ``role_source`` settled."""
    sigs = list(result.signatures)
    if not sigs:
        return result
    sources = policy.role_sources
    record = result.record or {}
    school, school_code = record.get("school"), record.get("school_code")
    # Step 1: the certificate (the format modules read the title / CN = O).
    for i, s in enumerate(sigs):
        if s.is_document_timestamp:
            continue
        if s.role is not None and "certificate" in sources:
            sigs[i] = replace(s, role_source="certificate")
        elif s.role is not None:
            sigs[i] = replace(s, role=None, role_source=None)
    # Step 2: the registry.
    registry = policy.registry if "registry" in sources else None
    if registry is not None:
        for i, s in enumerate(sigs):
            if s.is_document_timestamp or s.role is not None or s.signer is None \
                    or not s.signer.sha256:
                continue
            entries = registry.entries_for(s.signer.sha256)
            if not entries:
                continue
            moments = _moments(s, validation_time)
            hit = registry.role_at(s.signer.sha256, moments, school_code)
            if hit is not None:
                sigs[i] = replace(s, role=hit.role.value, role_source="registry", findings=(
                    Finding.of("role_from_registry", role=hit.role.value,
                               registry=registry.source.name, line=str(hit.line),
                               period=hit.describe()),) + s.findings)
                continue
            e = entries[0]
            if all(e.valid_at(m) for m in moments) and e.school_code:
                note = Finding.of("registry_other_school", role=e.role.value, school=e.school_code,
                                  record_code=f" ({school_code})" if school_code else "")
            else:
                note = Finding.of("registry_out_of_dates", role=e.role.value,
                                  period=e.describe(), when=fmt_time(moments[0]))
            sigs[i] = replace(s, findings=s.findings + (note,))
    # Step 3: a declared role vouched for by a later valid seal of the record's school.
    seals = [j for j, t in enumerate(sigs)
             if not t.is_document_timestamp and t.role == Role.SEAL.value
             and t.role_source in ("certificate", "registry")
             and t.indication is Indication.TOTAL_PASSED]
    for i, s in enumerate(sigs):
        if s.is_document_timestamp or s.role is not None or not s.claimed_role:
            continue
        notes: list[Finding] = []
        vouched_by: SignatureReport | None = None
        # The registry speaks about this certificate but not for this moment or school:
        # evidence against the declaration, which a seal does not override.
        contradicted = registry is not None and s.signer is not None and bool(
            s.signer.sha256 and registry.entries_for(s.signer.sha256))
        if "seal" in sources and s.claimed_role != Role.SEAL.value and not contradicted:
            for j in seals:
                if j == i or not _covers(result, i, j):
                    continue
                seal = sigs[j]
                org = seal.signer.organization if seal.signer else None
                if not school:
                    notes.append(Finding.of("seal_record_unknown"))
                elif _same_name(org, school):
                    vouched_by = seal
                    break
                else:
                    notes.append(Finding.of("seal_other_school", seal=org or "?", school=school))
        if vouched_by is not None:
            who = (vouched_by.signer.common_name if vouched_by.signer else None) or vouched_by.id
            sigs[i] = replace(s, role=s.claimed_role, role_source="seal", findings=(
                Finding.of("role_vouched_by_seal", role=s.claimed_role, seal=who),)
                + s.findings)
        else:
            sigs[i] = replace(s, findings=s.findings + tuple(dict.fromkeys(notes)) + (
                Finding.of("role_unproven", role=s.claimed_role),))
    return replace(result, signatures=tuple(sigs))

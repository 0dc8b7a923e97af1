"""The verification core: bytes + frozen policy + validation time -> Report.

One :class:`Verifier` per policy, immutable and shared by every thread (STYLE 6):
it holds only the policy and the :class:`~ground.judge.TrustEngine` (trust
anchors, parsed certificates, the revocation cache). Each call gets its own
:class:`EvalContext`; format modules (``verifier.pdf``, ``verifier.xml``) take
``(data, ctx)`` and return a :class:`FormatResult`; the record-level checks
shared by both formats (roles, required roles, signing order) are done here.

The core never raises for bad input: whatever the bytes, the answer is a
:class:`~verifier.report.Report` (FORMAT_FAILURE when it cannot be evaluated).
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Protocol

from ground.vocab import Indication, Role, SubIndication
from ground.findings import fmt_time
from ground.formats import PDF, XML, sniff
from verifier.context import EvalContext, FormatResult
from verifier.formats import FORMATS
from ground.policy import Policy
from verifier.report import Check, Finding, Foreign, Report, SignatureReport, format_failure
from ground.judge import TrustEngine

log = logging.getLogger(__name__)



def detect_format(data: bytes) -> str | None:
    """PDF or XML by content (CONTRACT 5: never by name)."""
    fmt = sniff(data)
    return fmt if fmt in (PDF, XML) else None


class Verifier:
    """Immutable, thread-safe verifier: ``Verifier(policy).verify(data, name=...)``."""

    __slots__ = ("_policy", "_trust")
    _policy: Policy
    _trust: TrustEngine

    def __init__(self, policy: Policy, trust: TrustEngine | None = None) -> None:
        object.__setattr__(self, "_policy", policy)
        object.__setattr__(self, "_trust", trust or TrustEngine(policy))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Verifier is immutable")

    @property
    def policy(self) -> Policy:
        return self._policy

    @property
    def trust(self) -> TrustEngine:
        return self._trust

    def verify(self, data: bytes, *, name: str,
               validation_time: datetime | None = None) -> Report:
        explicit = validation_time is not None
        if validation_time is None:
            validation_time = datetime.now(timezone.utc)
        elif validation_time.tzinfo is None:
            validation_time = validation_time.replace(tzinfo=timezone.utc)
        sha = hashlib.sha256(data).hexdigest()
        limit = self.policy.limits.max_file_mb
        if len(data) > limit * 1024 * 1024:
            return _stamp(format_failure(name, sha, None, Finding.of(
                "file_too_large", size=f"{len(data) / 1048576:.1f}", limit=f"{limit:g}")),
                validation_time)
        fmt = detect_format(data)
        if fmt is None:
            return _stamp(format_failure(name, sha, None, Finding.of("unknown_format")),
                          validation_time)
        ctx = EvalContext(self.policy, self.trust, validation_time, explicit, name)
        try:
            result = FORMATS[fmt].evaluate(data, ctx)
        except RecursionError:
            return _stamp(format_failure(name, sha, fmt, Finding.of(
                "format_error", detail="nesting too deep")), validation_time)
        except Exception as e:  # never a traceback for hostile input (CONTRACT 6)
            log.debug("evaluation of sha256=%s failed", sha, exc_info=True)  # no file names: privacy
            return _stamp(format_failure(name, sha, fmt, Finding.of(
                "internal_error", detail=Foreign(f"{type(e).__name__}: {e}"[:300]))), validation_time)
        if explicit:
            result = replace(result, signatures=tuple(
                _not_yet_signed(s, validation_time) for s in result.signatures))
        from verifier.roles import resolve_roles

        result = resolve_roles(result, self.policy, validation_time)
        checks = tuple(result.checks) + record_checks(result, self.policy)
        return Report(file=name, sha256=sha, format=result.format,
                      signatures=result.signatures, checks=checks, record=result.record,
                      validation_time=validation_time)


def _not_yet_signed(s: SignatureReport, validation_time: datetime) -> SignatureReport:
    """An inspector's ``--validation-time`` before the signature existed (its timestamp,
    else its claimed signing time): nothing can be judged at that moment (EN 319 102-1:
    no proof of existence at the validation time), said in plain words instead of the
    revocation-data errors the certificate checks would give."""
    made = s.timestamp.time if s.timestamp is not None else s.signing_time
    if made is None or validation_time >= made or s.indication is Indication.TOTAL_FAILED:
        return s
    return replace(s, indication=Indication.INDETERMINATE, subindication=SubIndication.NO_POE,
                   findings=(Finding.of("validation_time_before_signature",
                                        when=fmt_time(validation_time),
                                        made=fmt_time(made)),) + s.findings)





def _stamp(report: Report, validation_time: datetime) -> Report:
    from dataclasses import replace

    return replace(report, validation_time=validation_time)


def _role_label(role: str | None, lang: str = "vi") -> str:
    try:
        return Role(role).label(lang) if role else "?"
    except ValueError:
        return role or "?"


def record_checks(result: FormatResult, policy: Policy) -> tuple[Check, ...]:
    """The record-level checks shared by both formats, as small policy objects applied in
    order (each may read the checks before it): roles, required roles per record part,
    signing order."""
    if not [s for s in result.signatures if not s.is_document_timestamp]:
        return ()
    scope = _Scope.of(result)
    checks: list[Check] = []
    for rule in RECORD_POLICY:
        c = rule.check(scope, policy, tuple(checks))
        if c is not None:
            checks.append(c)
    return tuple(checks)


@dataclass(frozen=True)
class _Scope:
    """What the record rules look at: the signatures, which of them vouch for the record,
    and the groups (record parts, e.g. school years) they are judged in."""

    result: FormatResult
    vouching: tuple[int, ...]
    groups: tuple[tuple[int, ...], ...]

    @staticmethod
    def of(result: FormatResult) -> "_Scope":
        n = len(result.signatures)
        vouching = tuple(i for i in range(n) if _vouch(result, i)
                         and not result.signatures[i].is_document_timestamp)
        if result.order_groups is not None:
            groups = tuple(tuple(i for i in g if 0 <= i < n and _vouch(result, i))
                           for g in result.order_groups)
        else:
            groups = (vouching,)
        return _Scope(result, vouching, groups)


def _vouch(result: FormatResult, i: int) -> bool | None:
    if result.vouches is None:
        return True
    return result.vouches[i] if i < len(result.vouches) else None


class RolesMatchCertificates:
    """``roles``: the role a signature declares must be its certificate's (CONTRACT 8)."""

    def check(self, scope: _Scope, policy: Policy, before: tuple[Check, ...]) -> Check:
        sigs = [s for s in scope.result.signatures if not s.is_document_timestamp]
        # A declaration no evidence settles (role null) is not a mismatch: it does not
        # count (verifier.roles), and required_roles says so.
        mismatched = [s for s in sigs if s.claimed_role is not None and s.role is not None
                      and s.claimed_role != s.role]
        if mismatched:
            s = mismatched[0]
            return Check("roles", False, Finding.of(
                "role_mismatch", id=s.id, claimed=s.claimed_role, actual=s.role or "?"),
                Indication.TOTAL_FAILED, SubIndication.SIG_CONSTRAINTS_FAILURE)
        return Check("roles", True, Finding.of("roles_ok"))


class RequiredRolesPerPart:
    """``required_roles``: each required role present AND TOTAL_PASSED, by a signature
    that vouches for the record (a valid signature over something else proves nothing
    about it), in every record part (school year) when the format names parts. A role
    that is missing while a signature that might count could not be validated (its role
    or coverage cannot be trusted) is INDETERMINATE."""

    def check(self, scope: _Scope, policy: Policy, before: tuple[Check, ...]) -> Check | None:
        result = scope.result
        n = len(result.signatures)
        if not policy.required_roles:
            return None  # nothing required: no check
        labelled = (result.group_labels is not None and result.order_groups is not None
                    and len(result.group_labels) == len(scope.groups))
        parts: list[tuple[str, tuple[int, ...]]] = (
            list(zip(result.group_labels or (), scope.groups)) if labelled
            else [("", scope.vouching)])
        unknown = [i for i in range(n) if _vouch(result, i) is None
                   and result.signatures[i].indication is Indication.INDETERMINATE]
        # per part: (label, missing roles, kind) with kind "missing" (a definite gap),
        # "unproven" (every missing role is declared by a valid signature that no
        # evidence backs: no title, no registry entry, no seal) or "undetermined".
        short: list[tuple[str, list[Role], str]] = []
        for label, idx in parts:
            members = [result.signatures[i] for i in idx
                       if not result.signatures[i].is_document_timestamp]
            missing = [r for r in policy.required_roles
                       if not any(s.role == r.value and s.indication is Indication.TOTAL_PASSED
                                  for s in members)]
            if not missing:
                continue
            if all(any(s.role is None and s.claimed_role == r.value
                       and s.indication is Indication.TOTAL_PASSED for s in members)
                   for r in missing):
                kind = "unproven"
            elif unknown or any(s.indication is Indication.INDETERMINATE for s in members):
                kind = "undetermined"
            else:
                kind = "missing"
            short.append((label, missing, kind))
        if not short:
            names = ", ".join(r.value for r in policy.required_roles)
            return Check("required_roles", True, Finding.of("required_roles_ok", roles=names))
        rank = {"missing": 0, "unproven": 1, "undetermined": 2}
        label, missing, kind = min(short, key=lambda p: rank[p[2]])  # a definite gap wins
        names = ", ".join(r.value for r in missing)
        if kind == "unproven":
            finding = (Finding.of("required_role_unproven_year", year=label, roles=names)
                       if label else Finding.of("required_role_unproven", roles=names))
            return Check("required_roles", False, finding, Indication.INDETERMINATE,
                         SubIndication.SIG_CONSTRAINTS_FAILURE)
        if kind == "undetermined":
            finding = (Finding.of("required_role_undetermined_year", year=label, roles=names)
                       if label else Finding.of("required_role_undetermined", roles=names))
            return Check("required_roles", False, finding, Indication.INDETERMINATE, None)
        others = len(short) - 1
        if not label:
            finding = Finding.of("required_role_missing", roles=names)
        elif others:
            finding = Finding.of("required_role_missing_years", year=label, roles=names,
                                 others=others)
        else:
            finding = Finding.of("required_role_missing_year", year=label, roles=names)
        return Check("required_roles", False, finding,
                     Indication.TOTAL_FAILED, SubIndication.SIG_CONSTRAINTS_FAILURE)


class SigningOrderFromEvidence:
    """``signing_order``: subject teacher → teacher → principal → seal among the
    signatures that vouch for the record (per part), judged from signed evidence only:
    the revision order (PDF) or ``precedes`` (XML). A pair of roles that no evidence
    orders is "not established" (INDETERMINATE), never "right"; so is the order of a
    record that still lacks a required role."""

    def check(self, scope: _Scope, policy: Policy, before: tuple[Check, ...]) -> Check:
        result = scope.result
        wrong: tuple[str, str] | None = None
        unproven: tuple[str, str] | None = None
        for group in scope.groups:
            ranked: list[tuple[int, Role]] = []
            for i in group:
                s = result.signatures[i]
                if s.is_document_timestamp or s.role is None:
                    continue
                try:
                    ranked.append((i, Role(s.role)))
                except ValueError:
                    continue
            for ia, ra in ranked:
                for ib, rb in ranked:
                    if ra.rank >= rb.rank:
                        continue  # only pairs where ra must come first
                    if result.precedes is None:
                        first, second = ia < ib, ib < ia
                    else:
                        first = (ia, ib) in result.precedes
                        second = (ib, ia) in result.precedes
                    if second and not first:
                        wrong = wrong or (ra.value, rb.value)
                    elif not first:
                        unproven = unproven or (ra.value, rb.value)
        if wrong:
            return Check("signing_order", False, Finding.of(
                "signing_order_wrong", first=wrong[0], second=wrong[1]),
                Indication.TOTAL_FAILED, SubIndication.SIG_CONSTRAINTS_FAILURE)
        if unproven:
            return Check("signing_order", False, Finding.of(
                "signing_order_unproven", first=unproven[0], second=unproven[1]),
                Indication.INDETERMINATE, SubIndication.SIG_CONSTRAINTS_FAILURE)
        if any(c.name == "required_roles" and not c.passed for c in before):
            return Check("signing_order", False, Finding.of("signing_order_incomplete"),
                         Indication.INDETERMINATE, SubIndication.SIG_CONSTRAINTS_FAILURE)
        return Check("signing_order", True, Finding.of("signing_order_ok"))


class RecordRule(Protocol):
    def check(self, scope: _Scope, policy: Policy,
              before: tuple[Check, ...]) -> Check | None: ...


# The record-book policy: applied in this order (signing_order reads required_roles).
RECORD_POLICY: tuple[RecordRule, ...] = (
    RolesMatchCertificates(), RequiredRolesPerPart(), SigningOrderFromEvidence())

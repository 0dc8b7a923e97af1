"""Check the signer's certificate before signing (Thông tư 15/2025/TT-BKHCN).

Once per batch: the certificate must chain to a configured trust anchor, be
within its validity period now, not be revoked (judged by the one certificate
judge, :class:`ground.judge.TrustEngine`, with the configuration's revocation mode,
as verification does: ``require`` refuses an unknown status), carry a signing key
usage (digitalSignature or nonRepudiation, RFC 5280 4.2.1.3), and entitle its
holder to the role being signed (CONTRACT 8). Any failure refuses the batch
with one clear line (catalog ``signer.precheck.*``, in the command line's or the
request's language; the judge's own finding inside it renders through ``msg.*``).

The :class:`ValidationContext` built here keeps the fetched OCSP responses and
CRLs; the PAdES signer reuses it for every file of the batch (B-LT embedding).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from asn1crypto import x509
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

from ground.config import Config
from ground.judge import CertResult, TrustEngine
from ground.policy import Policy
from ground.vocab import SubIndication
from ground.certificates import load_all
from ground.errors import HocbaError, UsageError
from ground.names import CertName
from ground.roles import role_from_certificate
from ground.vocab import Role


class PrecheckError(HocbaError):
    """The signer's certificate may not sign (exit 1).

    Fields may be roles, lists of roles or the judge's findings: they are rendered in
    the message's language (a role as its label, a finding through ``msg.*``)."""


def build_validation_context(config: Config, *, extra_certs: list[x509.Certificate] | None = None,
                             fetch: bool | None = None,
                             moment: datetime | None = None,
                             revocation_mode: str | None = None) -> ValidationContext:
    if not config.trust.anchors and not config.trust.bundles:
        raise UsageError("signer.precheck.no_anchors")
    roots = load_all(config.trust.anchors)
    others = load_all(config.trust.intermediates)
    from ground.bundles import bundle_certificates

    for name in config.trust.bundles:  # shipped bundles (CONTRACT 9), as the verifier uses them
        b_roots, b_helpers = bundle_certificates(name)
        roots += list(b_roots)
        others += list(b_helpers)
    others += list(extra_certs or ())
    allow = config.revocation.online if fetch is None else fetch
    return ValidationContext(
        trust_roots=roots, other_certs=others, allow_fetching=allow,
        revocation_mode=revocation_mode or (
            "require" if config.revocation.mode != "off" else "soft-fail"),
        moment=moment,
        fetcher_backend=RequestsFetcherBackend(per_request_timeout=config.revocation.timeout),
    )


def _judge(config: Config) -> TrustEngine:
    return TrustEngine(Policy.from_config(config))


_REFUSALS: dict[SubIndication, str] = {
    SubIndication.REVOKED: "signer.precheck.refused.revoked",
    SubIndication.REVOKED_NO_POE: "signer.precheck.refused.revoked",
    SubIndication.REVOKED_CA_NO_POE: "signer.precheck.refused.issuer_revoked",
    SubIndication.EXPIRED: "signer.precheck.refused.expired",
    SubIndication.OUT_OF_BOUNDS_NO_POE: "signer.precheck.refused.expired",
    SubIndication.NOT_YET_VALID: "signer.precheck.refused.not_yet_valid",
    SubIndication.NO_CERTIFICATE_CHAIN_FOUND: "signer.precheck.refused.untrusted",
    SubIndication.TRY_LATER: "signer.precheck.refused.no_revocation_answer",
    SubIndication.REVOCATION_OUT_OF_BOUNDS_NO_POE: "signer.precheck.refused.revocation_unknown",
    SubIndication.CRYPTO_CONSTRAINTS_FAILURE: "signer.precheck.refused.weak_algorithm",
}


def _refusal(res: CertResult, who: str) -> PrecheckError:
    head = _REFUSALS.get(res.subindication) if res.subindication else None
    reason = PrecheckError(head or "signer.precheck.refused.invalid")
    if not res.findings:
        return PrecheckError("signer.precheck.refusal", reason=reason, who=who)
    # the judge's first finding says why, in the message's language (msg.*)
    return PrecheckError("signer.precheck.refusal_detail", reason=reason, who=who,
                         detail=res.findings[0])


def _describe(cert: x509.Certificate) -> CertName:
    return CertName.subject_of(cert)


def precheck_certificate(cert: x509.Certificate, chain: list[x509.Certificate], role: Role,
                         config: Config, *, claim_role: bool = False) -> ValidationContext:
    """Run the pre-signing checks; return the (warmed) validation context."""
    who = _describe(cert)
    now = datetime.now(timezone.utc)
    # Validity now (RFC 5280 4.1.2.5), with a message of its own.
    nb, na = cert["tbs_certificate"]["validity"]["not_before"].native, \
        cert["tbs_certificate"]["validity"]["not_after"].native
    if now > na:
        raise PrecheckError("signer.precheck.expired", date=na, who=who)
    if now < nb:
        raise PrecheckError("signer.precheck.not_yet_valid", date=nb, who=who)
    # Signing key usage (RFC 5280 4.2.1.3).
    ku = cert.key_usage_value
    usages = set(ku.native) if ku is not None else {"digital_signature", "non_repudiation"}
    if not usages & {"digital_signature", "non_repudiation"}:
        raise PrecheckError("signer.precheck.no_signing_usage",
                            usages=", ".join(sorted(usages)), who=who)
    # Role from the certificate, else the registry, else only declared (CONTRACT 8).
    check_role(cert, role, config, now, claim_role=claim_role)
    # Chain, validity, revocation and algorithms: the one certificate judge, with the
    # revocation semantics the configuration gives verification too (ground.judge).
    res = _judge(config).validate_certificate(cert, other_certs=chain, validation_time=now,
                                              usage="signing")
    if not res.passed:
        raise _refusal(res, who)
    vc = build_validation_context(config, extra_certs=chain, fetch=True)
    return vc


def precheck_signer(signer: Any, role: Role, config: Config, *,
                    claim_role: bool = False) -> ValidationContext:
    cert: x509.Certificate = signer.signing_cert
    chain = [c for c in (signer.cert_registry or ()) if c.dump() != cert.dump()]
    return precheck_certificate(cert, chain, role, config, claim_role=claim_role)


def check_role(cert: x509.Certificate, role: Role, config: Config, now: datetime, *,
               claim_role: bool = False) -> str:
    """May this certificate sign as ``role``? Returns the evidence ("certificate",
    "registry" or "claimed"); raises :class:`PrecheckError` otherwise.

    The certificate's title decides when it has one (a teacher's certificate never
    signs as principal, ``--claim-role`` or not); a title-less certificate needs a role
    registry entry valid now for that role, or ``--claim-role``: the role is then only
    declared and counts when the school's seal signs after it (CONTRACT 8)."""
    who = _describe(cert)
    sources = config.roles.sources
    cert_role = role_from_certificate(cert, config.policy) if "certificate" in sources else None
    if cert_role is not None:
        if cert_role != role:
            raise PrecheckError("signer.precheck.role_mismatch", actual=cert_role, role=role)
        return "certificate"
    listed = None
    if config.roles.registry is not None and "registry" in sources:
        from ground.registry import RegistryError, load_registry

        try:
            registry = load_registry(config.roles.registry)
        except RegistryError as e:
            raise PrecheckError("signer.precheck.registry_unreadable", detail=e) from None
        fp = cert.sha256.hex()
        entries = registry.entries_for(fp)
        hit = registry.role_at(fp, now)
        if hit is not None and hit.role == role:
            return "registry"
        if hit is not None:
            raise PrecheckError("signer.precheck.registry_role_differs", listed=hit.role,
                                role=role, who=who)
        listed = entries[0] if entries else None
    if claim_role and role is not Role.SEAL:
        return "claimed"
    if role is Role.SEAL:
        raise PrecheckError("signer.precheck.seal_not_organisation", who=who)
    why = (PrecheckError("signer.precheck.why.registry_not_today", period=listed.describe())
           if listed is not None else
           PrecheckError("signer.precheck.why.not_in_registry")
           if config.roles.registry is not None else
           PrecheckError("signer.precheck.why.no_registry"))
    raise PrecheckError("signer.precheck.no_title", role=role, why=why, who=who)

"""Check the signer's certificate before signing (Thông tư 15/2025/TT-BKHCN).

Once per batch: the certificate must chain to a configured trust anchor, be
within its validity period now, not be revoked (judged by the one certificate
judge, :class:`ground.judge.TrustEngine`, with the configuration's revocation mode,
as verification does: ``require`` refuses an unknown status), carry a signing key
usage (digitalSignature or nonRepudiation, RFC 5280 4.2.1.3), and entitle its
holder to the role being signed (CONTRACT 8). Any failure refuses the batch
with one clear line in Vietnamese with the English gist.

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
from ground.roles import role_from_certificate
from ground.vocab import Role


class PrecheckError(HocbaError):
    """The signer's certificate may not sign (exit 1)."""


def build_validation_context(config: Config, *, extra_certs: list[x509.Certificate] | None = None,
                             fetch: bool | None = None,
                             moment: datetime | None = None,
                             revocation_mode: str | None = None) -> ValidationContext:
    if not config.trust.anchors and not config.trust.bundles:
        raise UsageError("cấu hình không có điểm tin cậy (trust.anchors trống) — "
                         "no trust anchors configured")
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
    SubIndication.REVOKED: "chứng thư số đã bị thu hồi — certificate revoked",
    SubIndication.REVOKED_NO_POE: "chứng thư số đã bị thu hồi — certificate revoked",
    SubIndication.REVOKED_CA_NO_POE: "CA cấp chứng thư đã bị thu hồi — issuer revoked",
    SubIndication.EXPIRED: "chứng thư số (hoặc CA cấp) đã hết hạn — certificate or issuer expired",
    SubIndication.OUT_OF_BOUNDS_NO_POE: "chứng thư số (hoặc CA cấp) đã hết hạn — certificate or "
                                        "issuer expired",
    SubIndication.NOT_YET_VALID: "chứng thư số chưa có hiệu lực — not yet valid",
    SubIndication.NO_CERTIFICATE_CHAIN_FOUND: "chứng thư số không được cấp bởi CA tin cậy — "
                                              "untrusted: no path to a configured trust anchor",
    SubIndication.TRY_LATER: "không xác định được trạng thái thu hồi (OCSP/CRL không trả lời) — "
                             "revocation status unknown",
    SubIndication.REVOCATION_OUT_OF_BOUNDS_NO_POE: "không xác định được trạng thái thu hồi — "
                                                   "revocation status unknown",
    SubIndication.CRYPTO_CONSTRAINTS_FAILURE: "thuật toán của chứng thư số không được chấp nhận "
                                              "— weak algorithm",
}


def _refusal(res: CertResult, who: str) -> str:
    head = _REFUSALS.get(res.subindication) if res.subindication else None
    head = head or "chứng thư số không hợp lệ — certificate invalid"
    why = res.findings[0] if res.findings else None
    detail = f": {why.render('vi')} / {why.render('en')}" if why is not None else ""
    return f"{head} ({who}){detail}"


def _describe(cert: x509.Certificate) -> str:
    name: str = cert.subject.human_friendly  # asn1crypto is untyped
    return name


def precheck_certificate(cert: x509.Certificate, chain: list[x509.Certificate], role: Role,
                         config: Config, *, claim_role: bool = False) -> ValidationContext:
    """Run the pre-signing checks; return the (warmed) validation context."""
    who = _describe(cert)
    now = datetime.now(timezone.utc)
    # Validity now (RFC 5280 4.1.2.5), with a message of its own.
    nb, na = cert["tbs_certificate"]["validity"]["not_before"].native, \
        cert["tbs_certificate"]["validity"]["not_after"].native
    if now > na:
        raise PrecheckError(f"chứng thư số đã hết hạn ngày {na:%d/%m/%Y} — "
                            f"certificate expired ({who})")
    if now < nb:
        raise PrecheckError(f"chứng thư số chưa có hiệu lực (đến {nb:%d/%m/%Y}) — "
                            f"certificate not yet valid ({who})")
    # Signing key usage (RFC 5280 4.2.1.3).
    ku = cert.key_usage_value
    usages = set(ku.native) if ku is not None else {"digital_signature", "non_repudiation"}
    if not usages & {"digital_signature", "non_repudiation"}:
        raise PrecheckError("chứng thư số không có mục đích ký số (key usage: "
                            f"{', '.join(sorted(usages))}) — certificate is not for "
                            f"signing ({who})")
    # Role from the certificate, else the registry, else only declared (CONTRACT 8).
    check_role(cert, role, config, now, claim_role=claim_role)
    # Chain, validity, revocation and algorithms: the one certificate judge, with the
    # revocation semantics the configuration gives verification too (ground.judge).
    res = _judge(config).validate_certificate(cert, other_certs=chain, validation_time=now,
                                              usage="signing")
    if not res.passed:
        raise PrecheckError(_refusal(res, who))
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
            raise PrecheckError(
                f"chứng thư số thuộc vai trò «{cert_role.label()}», không phải «{role.label()}»"
                f" — role mismatch: certificate is {cert_role.value}, --role {role.value}")
        return "certificate"
    listed = None
    if config.roles.registry is not None and "registry" in sources:
        from ground.registry import RegistryError, load_registry

        try:
            registry = load_registry(config.roles.registry)
        except RegistryError as e:
            raise PrecheckError(f"danh sách vai trò không đọc được — roles.registry: {e}") from None
        fp = cert.sha256.hex()
        entries = registry.entries_for(fp)
        hit = registry.role_at(fp, now)
        if hit is not None and hit.role == role:
            return "registry"
        if hit is not None:
            raise PrecheckError(
                f"danh sách vai trò ghi chứng thư số này là «{hit.role.label()}», không phải "
                f"«{role.label()}» — the role registry lists this certificate as "
                f"{hit.role.value}, not {role.value} ({who})")
        listed = entries[0] if entries else None
    if claim_role and role is not Role.SEAL:
        return "claimed"
    if role is Role.SEAL:
        raise PrecheckError(
            "chứng thư số không phải của tổ chức (CN khác O) — a seal certificate is an "
            f"organisation certificate whose commonName equals its organizationName ({who})")
    why = (f"danh sách vai trò chỉ ghi chứng thư này trong thời gian {listed.describe()} — the "
           f"registry entry is not valid today" if listed is not None else
           "danh sách vai trò không có chứng thư này — not in the role registry"
           if config.roles.registry is not None else "chưa cấu hình danh sách vai trò "
           "([roles] registry) — no role registry configured")
    raise PrecheckError(
        f"chứng thư số không ghi chức danh nên không xác định được vai trò «{role.label()}»; "
        f"{why}. Dùng --claim-role để chỉ khai báo vai trò (chỉ được công nhận khi con dấu "
        f"nhà trường ký sau xác nhận) — the certificate has no title; use --claim-role to "
        f"declare the role ({who})")

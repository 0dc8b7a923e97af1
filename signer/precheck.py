"""Check the signer's certificate before signing (Thông tư 15/2025/TT-BKHCN).

Once per batch: the certificate must chain to a configured trust anchor, be
within its validity period now, not be revoked (OCSP or CRL fetched live,
revocation mode ``require``: unknown status refuses too), carry a signing key
usage (digitalSignature or nonRepudiation, RFC 5280 4.2.1.3), and entitle its
holder to the role being signed (CONTRACT 8). Any failure refuses the batch
with one clear line in Vietnamese with the English gist.

The :class:`ValidationContext` built here keeps the fetched OCSP responses and
CRLs; the PAdES signer reuses it for every file of the batch (B-LT embedding).
"""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

from asn1crypto import pem, x509
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator import errors as cv_errors
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

from ground.config import Config
from ground.certificates import load_all
from ground.errors import HocbaError, UsageError
from ground.roles import role_from_certificate
from ground.vocab import Role


class PrecheckError(HocbaError):
    """The signer's certificate may not sign (exit 1)."""


def build_validation_context(config: Config, *, extra_certs: list[x509.Certificate] | None = None,
                             fetch: bool | None = None,
                             moment: datetime | None = None) -> ValidationContext:
    if not config.trust.anchors:
        raise UsageError("cấu hình không có điểm tin cậy (trust.anchors trống) — "
                         "no trust anchors configured")
    roots = load_all(config.trust.anchors)
    others = load_all(config.trust.intermediates)
    others += list(extra_certs or ())
    allow = config.revocation.online if fetch is None else fetch
    return ValidationContext(
        trust_roots=roots, other_certs=others, allow_fetching=allow,
        revocation_mode="require" if config.revocation.mode != "off" else "soft-fail",
        moment=moment,
        fetcher_backend=RequestsFetcherBackend(per_request_timeout=config.revocation.timeout),
    )


def _describe(cert: x509.Certificate) -> str:
    name: str = cert.subject.human_friendly  # asn1crypto is untyped
    return name


def precheck_certificate(cert: x509.Certificate, chain: list[x509.Certificate], role: Role,
                         config: Config) -> ValidationContext:
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
    # Role from the certificate (CONTRACT 8).
    cert_role = role_from_certificate(cert, config.policy)
    if cert_role != role:
        got = cert_role.label() if cert_role else "không xác định"
        raise PrecheckError(f"chứng thư số thuộc vai trò «{got}», không phải «{role.label()}» "
                            f"— role mismatch: certificate is "
                            f"{cert_role.value if cert_role else 'no role'}, --role {role.value}")
    vc = build_validation_context(config, extra_certs=chain, fetch=True)
    validator = CertificateValidator(cert, intermediate_certs=chain, validation_context=vc)
    try:
        asyncio.run(validator.async_validate_usage(  # type: ignore[no-untyped-call]
            key_usage=set()))  # pyhanko-certvalidator: unannotated
    except cv_errors.RevokedError as e:
        raise PrecheckError(f"chứng thư số đã bị thu hồi — certificate revoked ({who}): "
                            f"{e}") from None
    except cv_errors.ExpiredError:
        raise PrecheckError(f"chứng thư số (hoặc CA cấp) đã hết hạn — certificate or "
                            f"issuer expired ({who})") from None
    except cv_errors.NotYetValidError:
        raise PrecheckError(f"chứng thư số chưa có hiệu lực — not yet valid ({who})") from None
    except cv_errors.InsufficientRevinfoError as e:
        raise PrecheckError("không xác định được trạng thái thu hồi (OCSP/CRL không trả lời) — "
                            f"revocation status unknown ({who}): {e}") from None
    except cv_errors.PathBuildingError:
        raise PrecheckError("chứng thư số không được cấp bởi CA tin cậy — untrusted: no "
                            f"path to a configured trust anchor ({who})") from None
    except (cv_errors.PathValidationError, cv_errors.InvalidCertificateError) as e:
        raise PrecheckError(f"chứng thư số không hợp lệ — certificate invalid ({who}): "
                            f"{e}") from None
    return vc


def precheck_signer(signer: Any, role: Role, config: Config) -> ValidationContext:
    cert: x509.Certificate = signer.signing_cert
    chain = [c for c in (signer.cert_registry or ()) if c.dump() != cert.dump()]
    return precheck_certificate(cert, chain, role, config)

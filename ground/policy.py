"""The verification policy: what a verifier trusts and requires, frozen (STYLE 4).

Built once (per CLI run, per web app) from the configuration plus command-line
overrides, and passed explicitly to :class:`verifier.core.Verifier`. Secure
defaults: revocation ``require``, RSA ≥ 2048, ECDSA ≥ 256, SHA-256 or stronger
(Thông tư 15/2025 / ETSI TS 119 312). Like pyca/cryptography's verifier builder,
it refuses to exist with an empty trust store rather than fall back to anything.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from asn1crypto import x509

from ground.certificates import load_certificates
from ground.bundles import bundle_certificates
from ground.config import REVOCATION_MODES, ROLE_SOURCES, Config, LimitsConfig, PolicyConfig
from ground.registry import RegistryError, RoleRegistry, load_registry
from ground.errors import UsageError
from ground.vocab import Role

# Digests a signature may use (EN 319 102-1 5.2.8 cryptographic constraints).
ALLOWED_DIGESTS: frozenset[str] = frozenset(
    {"sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512"})


@dataclass(frozen=True)
class Policy:
    """Trust, revocation, roles, algorithms and limits for one verifier."""

    trust_anchors: tuple[x509.Certificate, ...]
    intermediates: tuple[x509.Certificate, ...] = ()
    revocation_mode: str = "require"  # require | soft-fail | off
    online: bool = True  # fetch OCSP/CRL when embedded data does not settle the status
    fetch_timeout: float = 10.0
    required_roles: tuple[Role, ...] = (Role.TEACHER, Role.PRINCIPAL)
    roles: PolicyConfig = PolicyConfig()
    min_rsa_bits: int = 2048
    min_ec_bits: int = 256
    allowed_digests: frozenset[str] = ALLOWED_DIGESTS
    limits: LimitsConfig = LimitsConfig()
    # Role evidence beyond the title (CONTRACT 8), tried in this order.
    role_sources: tuple[str, ...] = ROLE_SOURCES
    registry: RoleRegistry | None = None

    def __post_init__(self) -> None:
        if not self.trust_anchors:
            raise UsageError("ground.policy.err.no_anchors")
        if self.revocation_mode not in REVOCATION_MODES:
            raise UsageError("ground.policy.err.revocation_mode",
                             modes=", ".join(REVOCATION_MODES), got=repr(self.revocation_mode))

    @classmethod
    def from_config(
        cls,
        cfg: Config,
        extra_anchors: Iterable[Path | str] = (),
        revocation_mode: str | None = None,
        required_roles: Sequence[Role | str] | None = None,
        extra_bundles: Iterable[str] = (),
    ) -> "Policy":
        anchors: list[x509.Certificate] = []
        for p in (*cfg.trust.anchors, *(Path(a) for a in extra_anchors)):
            anchors.extend(load_certificates(Path(p)))
        intermediates: list[x509.Certificate] = []
        for p in cfg.trust.intermediates:
            intermediates.extend(load_certificates(p))
        for name in dict.fromkeys((*cfg.trust.bundles, *extra_bundles)):
            b_anchors, b_helpers = bundle_certificates(name)  # or UnknownBundle, a UsageError
            anchors.extend(b_anchors)
            intermediates.extend(b_helpers)
        registry = None
        if cfg.roles.registry is not None and "registry" in cfg.roles.sources:
            try:
                registry = load_registry(cfg.roles.registry)
            except RegistryError as e:
                raise UsageError("ground.policy.err.registry", cause=e) from None
        # De-duplicate anchors given twice (config and command line).
        seen: set[bytes] = set()
        unique = []
        for c in anchors:
            if c.sha256 not in seen:
                seen.add(c.sha256)
                unique.append(c)
        roles_src: Sequence[Role | str] = (
            required_roles if required_roles is not None else cfg.policy.required_roles)
        roles = tuple(_role(r) for r in roles_src)
        return cls(
            trust_anchors=tuple(unique),
            intermediates=tuple(intermediates),
            revocation_mode=revocation_mode or cfg.revocation.mode,
            online=cfg.revocation.online,
            fetch_timeout=cfg.revocation.timeout,
            required_roles=roles,
            roles=cfg.policy,
            min_rsa_bits=cfg.policy.min_rsa_bits,
            min_ec_bits=cfg.policy.min_ec_bits,
            limits=cfg.limits,
            role_sources=cfg.roles.sources,
            registry=registry,
        )

    def replace(self, **changes: object) -> "Policy":
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def _role(value: Role | str) -> Role:
    if isinstance(value, Role):
        return value
    try:
        return Role.parse(value)
    except ValueError:
        raise UsageError("ground.policy.err.unknown_role", role=repr(value),
                         known=", ".join(r.value for r in Role)) from None

"""A signer's role, read from the certificate (CONTRACT 8).

Shared by the signer (pre-signing role check) and the verifier (``role`` in the
report). The rules, tried in this order:

- ``principal``: subject ``title`` (2.5.4.12) contains one of
  ``policy.principal_titles`` ("Hiệu trưởng", "Principal");
- ``subject_teacher``: title contains one of ``policy.subject_teacher_titles``;
- ``teacher``: title contains one of ``policy.teacher_titles``;
- ``seal``: no title, and commonName equals organizationName;
- otherwise ``None``.

Matching is case-insensitive on NFC text.
"""
from __future__ import annotations

from asn1crypto import x509

from ground.config import PolicyConfig
from ground.vocab import Role, nfc


def _attr_values(cert: x509.Certificate, name: str) -> list[str]:
    values: list[str] = []
    for rdn in cert.subject.chosen:
        for ava in rdn:
            if ava["type"].native == name:
                v = ava["value"].native
                if isinstance(v, str):
                    values.append(nfc(v).strip())
    return values


def _norm(text: str) -> str:
    return nfc(text).casefold()


def role_from_certificate(cert: x509.Certificate, policy: PolicyConfig) -> Role | None:
    """The role a certificate entitles its holder to, or ``None``."""
    titles = [_norm(t) for t in _attr_values(cert, "title") if t]
    rules: tuple[tuple[Role, tuple[str, ...]], ...] = (
        (Role.PRINCIPAL, policy.principal_titles),
        (Role.SUBJECT_TEACHER, policy.subject_teacher_titles),
        (Role.TEACHER, policy.teacher_titles),
    )
    for role, patterns in rules:
        for title in titles:
            if any(_norm(p) in title for p in patterns if p):
                return role
    if not titles:
        cns = _attr_values(cert, "common_name")
        orgs = _attr_values(cert, "organization_name")
        if cns and orgs and any(_norm(c) == _norm(o) for c in cns for o in orgs):
            return Role.SEAL
    return None

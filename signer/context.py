"""What a signing batch shares across every file, built once per batch.

Both format signers (``signer.pades.PadesSigner`` and ``signer.xades.XadesSigner``)
take a :class:`SigningContext` and expose ``sign(data: bytes) -> bytes``. The
key is always a pyHanko :class:`~pyhanko.sign.signers.Signer` (PKCS#12,
PKCS#11 token or CSC remote signing): one key abstraction for both formats,
signing through ``Signer.sign_raw`` / ``async_sign_raw``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ground.config import Config
from ground.vocab import Level, Role


@dataclass(frozen=True)
class SigningContext:
    signer: Any  # pyhanko.sign.signers.Signer: signing_cert, cert_registry, sign_raw()
    role: Role
    level: Level
    config: Config
    # pyhanko.sign.timestamps.HTTPTimeStamper for B-T and above (None at B-B)
    timestamper: Any = None
    # pyhanko_certvalidator.ValidationContext with the configured anchors, fetchers
    # and revocation data already gathered for the signer's chain (reused per file).
    validation_context: Any = None
    # When the batch started (informational; each signature gets its own signing time).
    started: datetime | None = None
    extras: dict[str, Any] = field(default_factory=dict)


class FormatSigner(Protocol):
    """One format's signer, built once per batch from a context."""

    def sign(self, data: bytes) -> bytes: ...

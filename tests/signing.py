"""Sign one document through the public API (``signer.api.sign_bytes``), for fixtures."""
from __future__ import annotations

from certs.pki import DEMO_PIN, PkiLayout
from ground.config import Config


def sign_one(cfg: Config, pki: PkiLayout, data: bytes, role: str, *, name: str = "record",
             level: str = "B-T", label: str | None = None, pin: str = DEMO_PIN) -> bytes:
    """``data`` signed as ``role`` with the test PKI's key ``label`` (default: the role's)."""
    from signer.api import sign_bytes

    [res] = sign_bytes([(name, data)], config=cfg, role=role, key=pki.p12(label or role),
                       pin=pin, level=level)
    assert res.ok, res.error
    assert res.data is not None
    return res.data

"""Fixtures for two-step signing: sample records, a SoftHSM2 token, the signing service."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from certs.pki import PkiLayout, load_pkcs12
from ground.config import Config
from tests.tokens import make_nssdb, make_softhsm_token

REPO = Path(__file__).resolve().parents[3]
TOKEN = "test-token-5f1c"

@pytest.fixture(scope="session")
def sample_records(test_config: Config, test_pki: PkiLayout, trust_services: object
                   ) -> list[tuple[str, bytes]]:
    """10 record books of one class as PDF and as XML: 20 records (recordbook.sample),
    already signed by the homeroom teacher, so the principal may sign them (CONTRACT 4)."""
    from recordbook.pdf import render_pdf
    from recordbook.sample import sample_class
    from recordbook.xmlio import to_xml
    from signer.api import sign_bytes

    out: list[tuple[str, bytes]] = []
    for i, rec in enumerate(sample_class(10, seed=9)):
        out.append((f"hb{i:02d}.pdf", render_pdf(rec)))
        out.append((f"hb{i:02d}.xml", to_xml(rec)))
    signed = sign_bytes(out, config=test_config, role="teacher", key=test_pki.p12("teacher"),
                        pin="123456", level="B-B")
    assert all(r.ok for r in signed), [r.error for r in signed if not r.ok]
    return [(r.name, r.data) for r in signed if r.data is not None]


@pytest.fixture(scope="session")
def principal_certs(test_pki: PkiLayout) -> list[bytes]:
    return [test_pki.cert("principal").read_bytes(), test_pki.cert("interm").read_bytes()]


@pytest.fixture(scope="session")
def principal_key(test_pki: PkiLayout) -> Any:
    key, _, _ = load_pkcs12(test_pki.p12("principal"), "123456")
    return key


def says(text: str | None, key: str, lang: str = "vi") -> bool:
    """``text`` holds the catalog message ``key`` in ``lang``: every fixed part of its
    template, whatever its fields (a wrapped or nested message still counts)."""
    import re

    from ground.i18n import template

    parts = [p for p in re.split(r"\{[^{}]*\}", template(key, lang)) if p.strip()]
    return bool(parts) and all(p in (text or "") for p in parts)


def sign_digest(key: Any, digest: bytes) -> bytes:
    """What a key holder does for rsassa_pkcs1v15/sha256 (in-process, for negative tests)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

    return bytes(key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256())))


@pytest.fixture(scope="session")
def softhsm_env(test_pki: PkiLayout, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A SoftHSM2 token 'hocba' (PIN 123456) holding the test principal's key and chain."""
    env = make_softhsm_token(test_pki, tmp_path_factory.mktemp("softhsm-twostep"))
    return {**env, "PYTHONPATH": f"{REPO}"}


def hocba(*args: str, env: dict[str, str] | None = None,
          timeout: int = 120) -> subprocess.CompletedProcess[str]:
    """``hocba`` in a child process (PKCS#11 modules read their environment when loaded)."""
    e = env or {**os.environ, "PYTHONPATH": f"{REPO}"}
    return subprocess.run([sys.executable, "-m", "hocba", *args], env=e, capture_output=True,
                          text=True, timeout=timeout)


class Clock:
    """A settable clock for expiry tests."""

    def __init__(self) -> None:
        from datetime import datetime, timezone

        self.now = datetime.now(timezone.utc)

    def __call__(self) -> Any:
        return self.now


@pytest.fixture
def make_app(test_config: Config, trust_services: Any,
             tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Signing-service app factory: each call is a fresh app (a 'restart') on one state_dir."""
    from signer.service import create_app

    def make(**over: Any) -> Any:
        cfg = {"HOCBA_CONFIG_OBJ": test_config, "TWOSTEP_TOKEN": TOKEN,
               "TWOSTEP_STATE_DIR": str(tmp_path / "state"), "TESTING": True}
        cfg.update(over)
        return create_app(cfg)

    yield make


AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="session")
def nssdb(test_pki: PkiLayout, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An NSS database trusting the test root (pdfsig -nssdir)."""
    return make_nssdb(test_pki.anchor, tmp_path_factory.mktemp("nssdb-twostep"))

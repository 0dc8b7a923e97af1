"""Signing with a real PKCS#11 token (SoftHSM2) holding the demo principal key: one login,
a whole batch, the result valid in pdfsig."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from certs.pki import PkiLayout
from tests.tokens import pdfsig_output, sig_blocks
from tests.tokens import SOFTHSM_MODULE as MODULE, make_softhsm_token

pytestmark = pytest.mark.slow  # end to end: not in the fast suite (pytest -m "not slow")

REPO = Path(__file__).resolve().parents[2]

@pytest.fixture(scope="module")
def softhsm_token(test_pki: PkiLayout, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return make_softhsm_token(test_pki, tmp_path_factory.mktemp("softhsm"))


def test_pkcs11_batch_one_login_valid_in_pdfsig(softhsm_token: dict[str, str],
                                                test_pki: PkiLayout, trust_services: object,
                                                record_pdfs: list[bytes], nssdb: str,
                                                tmp_path: Path) -> None:
    from signer.api import sign_bytes

    # the homeroom teacher signs first (CONTRACT 4), then the principal on the token
    teacher = sign_bytes([(f"rec{i}.pdf", pdf) for i, pdf in enumerate(record_pdfs)],
                         config=str(test_pki.config), role="teacher",
                         key=test_pki.p12("teacher"), pin="123456", level="B-B")
    files = []
    for r in teacher:
        assert r.ok and r.data is not None, r.error
        p = tmp_path / r.name
        p.write_bytes(r.data)
        files.append(str(p))
    out = tmp_path / "out"
    out.mkdir()
    env = {**softhsm_token, "HOCBA_PIN": "123456",
           "PYTHONPATH": f"{REPO}"}
    proc = subprocess.run(
        [sys.executable, "-m", "hocba", "sign", "--config", str(test_pki.config),
         "--role", "principal", "--level", "B-T", "--pkcs11-module", str(MODULE),
         "--token-label", "hocba", "--key-label", "principal", "--out", str(out), *files],
        env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"{len(files)}/{len(files)}" in proc.stderr
    for f in files:
        blocks = sig_blocks(pdfsig_output(nssdb, out / Path(f).name))
        assert blocks.get("Sig_principal", "").startswith("Signature is Valid"), blocks


def test_pkcs11_wrong_pin_refused(softhsm_token: dict[str, str], test_pki: PkiLayout,
                                  record_pdfs: list[bytes], tmp_path: Path) -> None:
    p = tmp_path / "rec.pdf"
    p.write_bytes(record_pdfs[0])
    env = {**softhsm_token, "HOCBA_PIN": "000000",
           "PYTHONPATH": f"{REPO}"}
    proc = subprocess.run(
        [sys.executable, "-m", "hocba", "sign", "--config", str(test_pki.config),
         "--role", "principal", "--pkcs11-module", str(MODULE), "--token-label", "hocba",
         "--in-place", str(p)], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode in (1, 2) and "PIN" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert p.read_bytes() == record_pdfs[0]

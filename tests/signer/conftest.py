"""Fixtures for the signing tests: record PDFs, an NSS db for pdfsig, a CLI runner."""
from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from certs.pki import PkiLayout
from tests.signer.pdfs import sample_pdfs
from tests.tokens import make_nssdb
from tests.tooling import require_tool


@pytest.fixture(scope="session")
def record_pdfs() -> list[bytes]:
    return sample_pdfs(3, seed=7)


@pytest.fixture(scope="session")
def nssdb(test_pki: PkiLayout, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An NSS database trusting the test root (pdfsig -nssdir)."""
    return make_nssdb(test_pki.anchor, tmp_path_factory.mktemp("nssdb"))


def pdfsig_output(nssdb: str, path: Path) -> str:
    pdfsig = require_tool("pdfsig")
    proc = subprocess.run([pdfsig, "-nssdir", nssdb, "-no-ocsp", str(path)],
                          capture_output=True, text=True, timeout=60)
    return proc.stdout


def sig_blocks(output: str) -> dict[str, str]:
    """Field name -> the 'Signature Validation' line of each pdfsig signature block."""
    blocks: dict[str, str] = {}
    name = None
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("- Signature Field Name:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("- Signature Validation:") and name:
            blocks[name] = line.split(":", 1)[1].strip()
    return blocks


@pytest.fixture
def hocba_sign(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
               test_pki: PkiLayout, pin: str) -> Callable[..., tuple[int, str]]:
    """Run ``hocba sign`` in-process; returns (exit code, stderr)."""
    from hocba.cli import main

    def run(*args: str) -> tuple[int, str]:
        monkeypatch.setenv("HOCBA_PIN", pin)
        capsys.readouterr()
        rc = main(["sign", "--config", str(test_pki.config), *args])
        return rc, capsys.readouterr().err

    return run

"""Fixtures for the signing tests: record PDFs, an NSS db for pdfsig, a CLI runner."""
from __future__ import annotations

from collections.abc import Callable

import pytest

from certs.pki import PkiLayout
from tests.signer.pdfs import sample_pdfs
from tests.tokens import make_nssdb


@pytest.fixture(scope="session")
def record_pdfs() -> list[bytes]:
    return sample_pdfs(3, seed=7)


@pytest.fixture(scope="session")
def nssdb(test_pki: PkiLayout, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An NSS database trusting the test root (pdfsig -nssdir)."""
    return make_nssdb(test_pki.anchor, tmp_path_factory.mktemp("nssdb"))


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

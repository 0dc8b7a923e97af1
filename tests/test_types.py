"""The core packages type-check under mypy --strict (STYLE 9): a regression fails the suite."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # end to end: not in the fast suite (pytest -m "not slow")

ROOT = Path(__file__).resolve().parents[1]


def test_core_packages_pass_mypy_strict(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    r = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"),
         "-p", "ground", "-p", "hocba", "-p", "certs", "-p", "verifier", "-p", "signer",
         "-p", "recordbook"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]

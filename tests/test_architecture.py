"""The layout the design card asks for (CONTRACT 1, issue 15), checked by code:
signer and verifier never import each other, the shared ground imports neither
(import-linter contracts in pyproject.toml), and the rooms sit at the root."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold() -> None:
    pytest.importorskip("importlinter")
    r = subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command;"
                        " lint_imports_command()"], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "0 broken" in r.stdout and "4 kept" in r.stdout


@pytest.mark.parametrize("room", ["signer", "verifier", "certs", "config", "tests", "ground",
                                  "hocba", "recordbook"])
def test_rooms_at_the_repository_root(room: str) -> None:
    assert (ROOT / room).is_dir()


def test_no_src_folder_and_no_records_package() -> None:
    assert not (ROOT / "src").exists()
    # "records" is a well-known PyPI package: the record-book room may not shadow it
    assert not (ROOT / "records").exists()

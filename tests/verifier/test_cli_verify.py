"""`hocba verify` as CONTRACT 5: exit codes, JSON Lines, text, HTML, unreadable input."""
from __future__ import annotations

import pytest

import json
import subprocess
import sys
from pathlib import Path

from certs.pki import PkiLayout

pytestmark = pytest.mark.slow  # end to end: not in the fast suite (pytest -m "not slow")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hocba", "verify", *args],
                          capture_output=True, text=True, timeout=120)


def test_cli_json_lines_and_exit_codes(tmp_path: Path, two_signed: bytes, base_pdf: bytes,
                                       test_pki: PkiLayout) -> None:
    good = tmp_path / "good.pdf"
    good.write_bytes(two_signed)
    r = _run("--config", str(test_pki.config), "--format", "json", str(good))
    assert r.returncode == 0, r.stderr
    line = json.loads(r.stdout.strip())
    assert line["indication"] == "TOTAL_PASSED" and line["format"] == "pdf"
    assert len(line["sha256"]) == 64

    unsigned = tmp_path / "unsigned.pdf"
    unsigned.write_bytes(base_pdf)
    r = _run("--config", str(test_pki.config), "--format", "json", str(good), str(unsigned))
    assert r.returncode == 1
    assert len(r.stdout.strip().splitlines()) == 2


def test_cli_text_html_and_bad_input(tmp_path: Path, two_signed: bytes, test_pki: PkiLayout) -> None:
    good = tmp_path / "good.pdf"
    good.write_bytes(two_signed)
    html = tmp_path / "r.html"
    r = _run("--config", str(test_pki.config), "--report-html", str(html), str(good))
    assert r.returncode == 0, r.stderr
    assert "Hợp lệ" in r.stdout and "Hiệu trưởng" in r.stdout
    page = html.read_text(encoding="utf-8")
    assert "<style>" in page and "http" not in page.split("<body>")[0].replace("http-equiv", "")
    r = _run("--config", str(test_pki.config), "--lang", "en", str(good))
    assert "Valid" in r.stdout

    other = tmp_path / "notes.txt"
    other.write_text("hello")
    r = _run("--config", str(test_pki.config), str(other))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = _run("--config", str(test_pki.config), str(tmp_path / "missing.pdf"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = _run("--trust-anchor", str(tmp_path / "nope.pem"), str(good))
    assert r.returncode == 2


def test_cli_no_trust_anchor_is_usage_error(tmp_path: Path, two_signed: bytes) -> None:
    good = tmp_path / "good.pdf"
    good.write_bytes(two_signed)
    r = subprocess.run([sys.executable, "-m", "hocba", "verify", str(good)], capture_output=True,
                       text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 2 and "chưa có chứng thư gốc tin cậy" in r.stderr  # vi by default
    r = subprocess.run([sys.executable, "-m", "hocba", "verify", "--lang", "en", str(good)],
                       capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 2 and "no trust anchors" in r.stderr


def test_cli_indeterminate_exit_3(tmp_path: Path, two_signed: bytes, test_pki: PkiLayout) -> None:
    # Trusting only an unrelated root: signatures are INDETERMINATE (no chain), nothing failed.
    good = tmp_path / "good.pdf"
    good.write_bytes(two_signed)
    rogue_root = test_pki.cert("rogue_root")
    r = _run("--trust-anchor", str(rogue_root), "--require-roles", "", str(good))
    assert r.returncode == 3, r.stdout + r.stderr

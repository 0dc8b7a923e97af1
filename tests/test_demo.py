"""`hocba demo` end to end: sign teacher (B-T) → principal (B-T) → seal (B-LTA), verify offline."""
from __future__ import annotations

import pytest

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import free_port

pytestmark = pytest.mark.slow  # end to end: not in the fast suite (pytest -m "not slow")


def test_demo_signs_and_verifies_every_record_offline(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    r = subprocess.run([sys.executable, "-m", "hocba", "demo", "--out", str(out), "--count", "3",
                        "--port", str(free_port())], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Hợp lệ                    : 6  (PDF 3, XML 3)" in r.stdout, r.stdout
    assert "Traceback" not in r.stderr
    index = (out / "reports" / "index.html").read_text(encoding="utf-8")
    assert "Hiệu trưởng" in index and "Con dấu đơn vị" in index
    # a real index: one row per file, linking to that file's own report (issue 16 item 9)
    import re

    links = re.findall(r'<a href="([^"]+)">', index)
    assert len(links) == 6 and all((out / "reports" / link).is_file() for link in links)
    assert "6 tệp: 6 hợp lệ" in index and index.count("<tr>") == 7
    # The signed files verify with the CLI too, offline (the demo's services are stopped).
    signed = sorted((out / "signed").iterdir())
    v = subprocess.run([sys.executable, "-m", "hocba", "verify", "--config",
                        str(out / "pki" / "hocba.toml"), "--format", "json",
                        *map(str, signed)], capture_output=True, text=True, timeout=300)
    assert v.returncode == 0, v.stdout + v.stderr
    reports = [json.loads(line) for line in v.stdout.splitlines()]
    assert len(reports) == 6
    for rep in reports:
        assert rep["indication"] == "TOTAL_PASSED", rep
        roles = [s["role"] for s in rep["signatures"] if not s.get("document_timestamp")]
        assert roles == ["teacher", "principal", "seal"], roles
        assert rep["record"] and rep["record"]["student"]


def test_demo_vn_profile_registry_seal_and_neither(tmp_path: Path) -> None:
    """Issue 13: title-less certificates; roles by registry, by seal vouching, or neither
    (then INDETERMINATE with the reason in plain Vietnamese, never TOTAL_PASSED)."""
    out = tmp_path / "demo"
    r = subprocess.run([sys.executable, "-m", "hocba", "demo", "--profile", "vn", "--out",
                        str(out), "--count", "3", "--port", str(free_port())],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    signed = sorted((out / "signed-vn").iterdir())
    assert len(signed) == 6
    v = subprocess.run([sys.executable, "-m", "hocba", "verify", "--config",
                        str(out / "pki-vn" / "hocba.toml"), "--format", "json",
                        *map(str, signed)], capture_output=True, text=True, timeout=300)
    assert v.returncode == 3, v.stdout + v.stderr  # nothing failed, the "neither" group is INDETERMINATE
    reports = {Path(rep["file"]).name: rep for rep in map(json.loads, v.stdout.splitlines())}
    sources = {}
    for name, rep in reports.items():
        sigs = [s for s in rep["signatures"] if not s.get("document_timestamp")]
        assert all(s["signer"]["title"] is None for s in sigs), name
        sources[name] = tuple(s["role_source"] for s in sigs)
        if rep["indication"] == "INDETERMINATE":
            assert "tự khai" in rep["message"], rep["message"]
    # pupils 1..3: one per group, each with its PDF and XML
    kinds = set(sources.values())
    assert kinds == {(None, "registry"), ("registry", "registry", "certificate"),
                     ("seal", "registry", "certificate")}, kinds
    passed = [n for n, rep in reports.items() if rep["indication"] == "TOTAL_PASSED"]
    assert len(passed) == 4 and all(sources[n][0] in ("registry", "seal") for n in passed)

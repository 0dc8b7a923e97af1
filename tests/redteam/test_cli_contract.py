"""`hocba verify --format json` on other vendors' records and on forgeries: exit codes
0/1/2/3, JSON Lines, record null when the identity is not signed, Vietnamese by default."""
from __future__ import annotations

import pytest

import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

from certs.pki import PkiLayout
from tests.redteam._util import deep, dump, rec, sigs, tree
from tests.redteam.conftest import VgPki, pyhanko_sign, pyhanko_signer

pytestmark = pytest.mark.slow  # end to end: not in the fast suite (pytest -m "not slow")


def _hocba(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "hocba"
    env = {k: v for k, v in os.environ.items() if k != "HOCBA_CONFIG"}
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=60, env=env)


def _lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.strip().splitlines()]


def test_cli_exit_codes_and_json_lines_on_vendor_and_forged_files(
        tmp_path: Path, test_pki: PkiLayout, vg_pki: VgPki, vg_services: Any, trust_services: Any,
        record_pdf: bytes, our_xml: bytes, our_xml_teacher: bytes) -> None:
    base = ("verify", "--config", str(test_pki.config), "--trust-anchor", str(vg_pki.anchor),
            "--format", "json")
    # 0: a legit record from another vendor under another PKI
    good = tmp_path / "vendor.pdf"
    pdf = pyhanko_sign(record_pdf, pyhanko_signer(vg_pki.p12("teacher")), "Sig_teacher",
                       tsa_url=vg_pki.tsa_url)
    good.write_bytes(pyhanko_sign(pdf, pyhanko_signer(vg_pki.p12("principal")), "Sig_principal",
                                  tsa_url=vg_pki.tsa_url))
    r = _hocba(*base, str(good))
    assert r.returncode == 0, r.stdout + r.stderr
    [line] = _lines(r.stdout)
    assert line["indication"] == "TOTAL_PASSED" and [s["role"] for s in line["signatures"]] == \
        ["teacher", "principal"]

    # 1: XSW - signed identity hidden in a ds:Object, forged copy in place: record is null
    root = tree(our_xml)
    ident = root.find(rec("HocSinh"))
    forged = deep(ident)
    forged.find(rec("HoTen")).text = "Nguyễn Giả Mạo"
    ident.addprevious(forged)
    root.remove(ident)
    obj = sigs(root)[0].makeelement("{http://www.w3.org/2000/09/xmldsig#}Object")
    sigs(root)[0].append(obj)
    obj.append(ident)
    forged.set("Id", ident.get("Id") + "-2")
    xsw = tmp_path / "xsw.xml"
    xsw.write_bytes(dump(root))
    r = _hocba(*base, str(good), str(xsw))
    assert r.returncode == 1, r.stdout + r.stderr
    lines = _lines(r.stdout)
    assert len(lines) == 2
    bad = lines[1]
    assert bad["indication"] == "TOTAL_FAILED"
    assert bad["record"] is None, bad["record"]
    # Vietnamese by default, human-readable findings (no Python reprs), NFC text
    assert any(ch in bad["message"] for ch in "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệịỉĩọỏốồổỗộớờởỡợụủứừửữựỳỷỹýĐ")
    assert unicodedata.is_normalized("NFC", bad["message"])
    for s in bad["signatures"]:
        for f in s["findings"]:
            assert isinstance(f, str) and f and "<" not in f and "object at 0x" not in f
    assert any(not c["passed"] and c["detail"] for c in bad["checks"])

    # 3: indeterminate - a teacher certificate from an unknown CA (the lookalike chain)
    from cryptography.hazmat.primitives.serialization import pkcs12  # noqa: F401

    und = tmp_path / "unknown-ca.pdf"
    und.write_bytes(pyhanko_sign(record_pdf, pyhanko_signer(test_pki.p12("rogue_teacher")),
                                 "Sig_teacher"))
    r = _hocba(*base, "--require-roles", "teacher", str(und))
    assert r.returncode == 3, r.stdout + r.stderr
    [line] = _lines(r.stdout)
    assert line["indication"] == "INDETERMINATE"

    # 2: not a PDF or XML
    junk = tmp_path / "diem.csv"
    junk.write_text("ho_ten,diem\nNguyen Van A,10\n", encoding="utf-8")
    r = _hocba(*base, str(junk))
    assert r.returncode == 2 or (_lines(r.stdout)[0]["subindication"] == "FORMAT_FAILURE"), r.stdout
    assert "Traceback" not in r.stderr

    _ = our_xml_teacher


def test_cli_english_on_request(tmp_path: Path, test_pki: PkiLayout, our_xml: bytes,
                                trust_services: Any) -> None:
    f = tmp_path / "r.xml"
    f.write_bytes(our_xml)
    r = _hocba("verify", "--config", str(test_pki.config), "--format", "json", "--lang", "en", str(f))
    assert r.returncode == 0, r.stdout + r.stderr
    [line] = _lines(r.stdout)
    assert line["message"].startswith("The record is valid")

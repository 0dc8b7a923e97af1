"""The README as a newcomer reads it (issue 16 item 11): what it says is there, and the
commands it gives work as written (SoftHSM2 token, class.zip for bulk upload)."""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from certs.pki import DEMO_PIN, PkiLayout
from ground.i18n import t
from tests.tooling import require_path, require_tool

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    return README.split(f"\n## {title}", 1)[1].split("\n## ", 1)[0]


def blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, re.S)


def prose(text: str) -> str:
    return " ".join(re.sub(r"```.*?```", "", text, flags=re.S).split())


def test_quick_start_is_two_commands_and_says_where_hocba_is() -> None:
    quick = section("Quick start")
    (block,) = blocks(quick)[:1]
    commands = [line for line in block.splitlines() if line.strip()]
    assert [c.split()[:2] for c in commands] == [["make", "demo"], ["make", "test"]]
    text = prose(quick)
    assert "`.venv/bin/`" in text and "source .venv/bin/activate" in text


@pytest.mark.parametrize("option, words", [
    ("--jobs", "worker processes"),
    ("--revocation", "soft-fail"),
    ("--require-roles", "must have signed"),
    ("--level secondary", "lower-secondary"),
    ("--school-year", "latest school year"),
    ("--count", "pupils"),
    ("--lang en", "English"),
    ("--profile vn", "real Vietnamese"),
])
def test_options_are_explained_in_prose(option: str, words: str) -> None:
    text = prose(README)
    m = re.search(r"`[^`]*" + re.escape(option), text)
    assert m is not None, f"{option} is not explained outside code blocks"
    at = m.start()
    assert words in text[max(0, at - 300): at + 400], (option, words)


def _readme_env(tmp: Path) -> dict[str, str]:
    bindir = str(Path(sys.executable).parent)  # where `hocba` is installed with this Python
    return {**os.environ, "PATH": f"{bindir}:{os.environ.get('PATH', '')}",
            "HOCBA_PIN": DEMO_PIN, "HOME": str(tmp)}


@pytest.mark.slow
@pytest.mark.tool
def test_softhsm_token_walkthrough_signs(tmp_path: Path, test_pki: PkiLayout,
                                         trust_services: Any) -> None:
    """The README's SoftHSM2 commands, run as written, give a token the README's
    --pkcs11-module line signs with."""
    for tool in ("softhsm2-util", "pkcs11-tool", "openssl"):
        require_tool(tool)
    require_path(Path("/usr/lib/softhsm/libsofthsm2.so"), "SoftHSM2 PKCS#11 module")
    integrating = section("Integrating a school system")
    token_block = next(b for b in blocks(integrating) if "softhsm2-util --init-token" in b)
    sign_block = blocks(integrating)[0]
    pkcs11_line = re.search(r"(hocba sign [^\n]*--pkcs11-module[^\n]*\\\n[^\n]*)", sign_block)
    assert pkcs11_line is not None
    (tmp_path / "pki").symlink_to(test_pki.root)
    (tmp_path / "class").mkdir()
    from recordbook.pdf import render_pdf
    from recordbook.sample import sample_record

    record = tmp_path / "class" / "hs.pdf"
    record.write_bytes(render_pdf(sample_record(0)))
    env = _readme_env(tmp_path)
    teacher = subprocess.run(
        ["hocba", "sign", "--config", "pki/hocba.toml", "--role", "teacher", "--key",
         "pki/keys/teacher.p12", "--in-place", "class/hs.pdf"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert teacher.returncode == 0, teacher.stderr
    script = token_block + "\n" + pkcs11_line.group(1) + "\n"
    r = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert t("cli.sign.msg.summary", "vi", ok=1, total=1, role="Hiệu trưởng", level="B-T",
             failed=0) in r.stderr, r.stderr
    v = subprocess.run(["hocba", "verify", "--config", "pki/hocba.toml", "class/hs.pdf"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert v.returncode == 0, v.stdout + v.stderr


@pytest.mark.slow
def test_class_zip_for_bulk_upload(tmp_path: Path, test_pki: PkiLayout, test_config: Any,
                                   trust_services: Any) -> None:
    """`(cd demo-out/signed && zip -q ../class.zip *)`, then the README's curl line."""
    require_tool("zip")
    bulk = section("Bulk verification for universities")
    line = next(l for l in blocks(bulk)[0].splitlines() if "zip -q" in l)
    zip_cmd = line.split("#", 1)[0].strip()
    signed = tmp_path / "demo-out" / "signed"
    signed.mkdir(parents=True)
    from recordbook.pdf import render_pdf
    from recordbook.sample import sample_record
    from recordbook.xmlio import to_xml

    (signed / "a.pdf").write_bytes(render_pdf(sample_record(0)))
    (signed / "a.xml").write_bytes(to_xml(sample_record(0)))
    r = subprocess.run(["bash", "-c", zip_cmd], cwd=tmp_path, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    body = (tmp_path / "demo-out" / "class.zip").read_bytes()
    assert "--data-binary @demo-out/class.zip" in blocks(bulk)[0]
    from verifier.app import create_app

    client = create_app({"HOCBA_CONFIG_OBJ": test_config, "TESTING": True}).test_client()
    resp = client.post("/api/v1/verify", data=io.BytesIO(body).read(),
                       content_type="application/zip")
    assert resp.status_code == 200
    assert sorted(x["file"] for x in resp.json["results"]) == ["upload.zip/a.pdf",
                                                               "upload.zip/a.xml"]
    shutil.rmtree(signed)

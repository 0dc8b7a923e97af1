"""One exit-code rule for every command (issue 16 item 6, hocba/exitcodes.py, README).

2 = the work could not be done as asked: an unreadable path, a bad option or config,
    no PIN, a key file that is not PKCS#12, a file that is not a PDF or XML at all;
1 = the work was done and did not pass: a judged file failed (a damaged or unsigned PDF,
    a non-record XML: FORMAT_FAILURE), a file not signed, the key or certificate refused
    before anything was signed (wrong PIN, certificate not allowed to sign as that role);
3 = (verify) nothing failed but something is INDETERMINATE; 0 = success.
"""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from certs.pki import DEMO_PIN, PkiLayout

pytestmark = pytest.mark.slow  # end to end: not in the fast suite

README = Path(__file__).resolve().parents[2] / "README.md"


def hocba(*args: str, pin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("HOCBA_PIN", "HOCBA_CONFIG")}
    if pin is not None:
        env["HOCBA_PIN"] = pin
    return subprocess.run([sys.executable, "-m", "hocba", *args], capture_output=True,
                          text=True, timeout=180, env=env, stdin=subprocess.DEVNULL)


def _docx(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, two_signed: bytes,
          base_pdf: bytes) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("exit-codes")
    out = {
        "valid": d / "valid.pdf", "truncated": d / "truncated.pdf", "unsigned": d / "unsigned.pdf",
        "plain_xml": d / "plain.xml", "random": d / "random.bin", "docx": _docx(d / "thu.docx"),
        "docx_as_pdf": _docx(d / "renamed.pdf"),
    }
    out["valid"].write_bytes(two_signed)
    out["truncated"].write_bytes(two_signed[: len(two_signed) // 3])
    out["unsigned"].write_bytes(base_pdf)
    out["plain_xml"].write_text("<a>x</a>", encoding="utf-8")
    out["random"].write_bytes(bytes((i * 73 + 41) % 256 for i in range(3000)))
    return out


@pytest.mark.parametrize("name, code", [
    ("valid", 0),
    ("truncated", 1), ("unsigned", 1), ("plain_xml", 1),   # judged: FORMAT_FAILURE
    ("random", 2), ("docx", 2), ("docx_as_pdf", 2),        # not a PDF or XML at all
])
def test_verify_exit_code_by_what_the_file_is(files: dict[str, Path], test_pki: PkiLayout,
                                              name: str, code: int) -> None:
    r = hocba("verify", "--config", str(test_pki.config), str(files[name]))
    assert r.returncode == code, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr


def test_verify_usage_errors_are_2(files: dict[str, Path], test_pki: PkiLayout,
                                   tmp_path: Path) -> None:
    cfg = ["--config", str(test_pki.config)]
    assert hocba("verify", *cfg, str(tmp_path / "missing.pdf")).returncode == 2
    assert hocba("verify", *cfg, str(tmp_path)).returncode == 2  # a directory
    assert hocba("verify", *cfg, "--revocation", "sometimes", str(files["valid"])).returncode == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("[nope]\n", encoding="utf-8")
    assert hocba("verify", "--config", str(bad), str(files["valid"])).returncode == 2
    # a judged failure beside an unreadable path: the usage error wins (nothing was asked
    # of the missing file), the judged file still gets its report
    r = hocba("verify", *cfg, "--format", "json", str(files["unsigned"]),
              str(tmp_path / "missing.pdf"))
    assert r.returncode == 2 and len(r.stdout.strip().splitlines()) == 1


def test_verify_prints_its_one_line_once(files: dict[str, Path], test_pki: PkiLayout) -> None:
    r = hocba("verify", "--config", str(test_pki.config), str(files["random"]))
    assert r.returncode == 2
    lines = [line for line in (r.stderr + r.stdout).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("hocba: ") and "PDF" in lines[0]


def test_sign_refusals_follow_the_rule(test_pki: PkiLayout, base_pdf: bytes,
                                       tmp_path: Path) -> None:
    record = tmp_path / "hs.pdf"
    record.write_bytes(base_pdf)
    out = tmp_path / "out"
    cfg = ["--config", str(test_pki.config), "--out", str(out)]

    def sign(role: str, key: Path, pin: str | None = DEMO_PIN, *files: Path) -> \
            subprocess.CompletedProcess[str]:
        return hocba("sign", *cfg, "--role", role, "--key", str(key), "--level", "B-B",
                     *map(str, files or (record,)), pin=pin)

    from ground.i18n import lang_of, t
    from ground.vocab import Role

    lang = lang_of(os.environ.get("HOCBA_LANG"))  # the subprocess's language (vi by default)
    # refused before anything is signed, by the key or the certificate: 1
    wrong_pin = sign("teacher", test_pki.p12("teacher"), "000000")
    assert wrong_pin.returncode == 1, wrong_pin.stderr
    assert t("signer.keys.wrong_pin", lang, path=test_pki.p12("teacher")) in wrong_pin.stderr
    wrong_role = sign("principal", test_pki.p12("teacher"))
    assert wrong_role.returncode == 1, wrong_role.stderr
    assert t("signer.precheck.role_mismatch", lang, actual=Role.TEACHER.label(lang),
             role=Role.PRINCIPAL.label(lang)) in wrong_role.stderr, wrong_role.stderr
    assert len(wrong_pin.stderr.strip().splitlines()) == 1
    assert len(wrong_role.stderr.strip().splitlines()) == 1
    assert record.read_bytes() == base_pdf and not (out / record.name).exists()
    # what was asked cannot be done: 2
    assert sign("teacher", tmp_path / "none.p12").returncode == 2
    assert sign("teacher", test_pki.cert("teacher")).returncode == 2  # a PEM, not PKCS#12
    assert sign("teacher", test_pki.p12("teacher"), None).returncode == 2  # no PIN, no terminal
    assert sign("teacher", test_pki.p12("teacher"), DEMO_PIN,
                tmp_path / "missing.pdf").returncode == 2
    # signed: 0
    ok = sign("teacher", test_pki.p12("teacher"))
    assert ok.returncode == 0, ok.stderr


def test_the_rule_is_written_in_readme_and_help() -> None:
    from hocba import exitcodes

    readme = README.read_text(encoding="utf-8")
    assert "### Exit codes" in readme
    section = readme.split("### Exit codes", 1)[1].split("\n## ", 1)[0]
    for needle in ("unreadable path", "not a PDF or XML", "wrong PIN", "FORMAT_FAILURE",
                   "INDETERMINATE"):
        assert needle in section, needle
    for lang, wrong_pin in (("vi", "sai mã PIN"), ("en", "wrong PIN")):
        top = hocba("--lang", lang, "--help").stdout
        assert exitcodes.table(lang) in top
        sign = hocba("sign", "--lang", lang, "--help").stdout
        assert wrong_pin in " ".join(sign.split())


def test_verify_help_states_the_rule() -> None:
    text = " ".join(hocba("verify", "--help").stdout.split())  # Vietnamese by default
    assert "không phải PDF/XML" in text and "bị hỏng" in text
    text = " ".join(hocba("verify", "--lang", "en", "--help").stdout.split())
    assert "not a PDF/XML" in text and "damaged or unsigned" in text

"""The shipped Vietnamese trust bundle (CONTRACT 9): files, README table and signatures agree;
the packaging installs it; the real VGCA-signed samples chain to its root; gunicorn loads
config/gunicorn.conf.py with it."""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from tests.tooling import require_path

ROOT = Path(__file__).resolve().parents[1]
TRUST = ROOT / "config" / "trust"
BUNDLE = TRUST / "vn"
README = TRUST / "README.md"
SHARED_VN = Path(__file__).resolve().parents[2] / "shared" / "trust" / "vn"
ROLE_DIRS = {"anchor": "roots", "intermediate": "intermediates", "TSA": "tsa"}

VGCA_G1_ROOT = "CN=Co quan chung thuc so chuyen dung Chinh phu (RootCA),O=Ban Co yeu Chinh phu,C=VN"
VGCA_G1_CP = "CN=Co quan chung thuc so Chinh phu,O=Ban Co yeu Chinh phu,C=VN"


def _files() -> list[Path]:
    return sorted(BUNDLE.glob("*/*.pem"))


def _cert(p: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(p.read_bytes())


def _readme_rows() -> list[dict[str, str]]:
    """The table of config/trust/README.md under '## Files', one dict per row."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Files", 1)[1].split("\n## ", 1)[0]
    lines = [ln for ln in section.splitlines() if ln.startswith("|")]
    header = [h.strip() for h in lines[0].strip("|").split("|")]
    rows = []
    for ln in lines[2:]:
        cells = [c.strip() for c in ln.strip().strip("|").split("|")]
        assert len(cells) == len(header), ln
        rows.append(dict(zip(header, cells)))
    return rows


def _verifies(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """``issuer``'s key verifies ``cert``'s signature (SHA-1 too: these are old CAs)."""
    if cert.issuer != issuer.subject:
        return False
    key = issuer.public_key()
    algo = cert.signature_hash_algorithm
    assert algo is not None
    try:
        if isinstance(key, rsa.RSAPublicKey):
            params = cert.signature_algorithm_parameters
            pad = params if isinstance(params, padding.PSS) else padding.PKCS1v15()
            key.verify(cert.signature, cert.tbs_certificate_bytes, pad, algo)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(algo))
        else:  # pragma: no cover - no such key in the bundle
            return False
    except Exception:
        return False
    return True


def test_the_bundle_has_the_expected_layout() -> None:
    roots = {p.name for p in (BUNDLE / "roots").glob("*.pem")}
    assert roots == {
        "vnrca256-vietnam-national-root-ca-sha256-g2.pem",
        "micnrca-mic-national-root-ca-sha1.pem",
        "rootca-g1-co-quan-chung-thuc-so-chuyen-dung-chinh-phu.pem",
        "rootcag2-rootca-chuyen-dung-chinh-phu-g2.pem",
    }
    assert len(list((BUNDLE / "intermediates").glob("*.pem"))) == 17
    assert len(list((BUNDLE / "tsa").glob("*.pem"))) == 2
    assert {p.parent.name for p in _files()} == {"roots", "intermediates", "tsa"}


def test_every_file_is_one_certificate_of_its_role() -> None:
    for p in _files():
        assert p.read_bytes().count(b"-----BEGIN CERTIFICATE-----") == 1, p
        c = _cert(p)
        try:
            bc = c.extensions.get_extension_for_class(x509.BasicConstraints).value
            is_ca = bc.ca
        except x509.ExtensionNotFound:
            is_ca = False
        if p.parent.name == "tsa":
            assert not is_ca, p
            eku = c.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            assert x509.oid.ExtendedKeyUsageOID.TIME_STAMPING in eku, p
        else:
            assert is_ca, p
        if p.parent.name == "roots":
            assert c.subject == c.issuer and _verifies(c, c), p


def test_readme_lists_every_file_with_its_sha256_and_every_entry_has_its_file() -> None:
    rows = _readme_rows()
    listed = {}
    for row in rows:
        m = re.fullmatch(r"`vn/(\w+)/([^`]+\.pem)`", row["file"])
        assert m, row["file"]
        sub, name = m.groups()
        assert ROLE_DIRS[row["role"]] == sub, row
        assert row["sources"], row
        listed[BUNDLE / sub / name] = row
    assert set(listed) == set(_files())  # every file listed, every entry has its file
    for p, row in listed.items():
        c = _cert(p)
        der = c.public_bytes(serialization.Encoding.DER)
        assert row["SHA-256"] == f"`{hashlib.sha256(der).hexdigest()}`", p
        assert row["subject"] == c.subject.rfc4514_string(), p
        assert row["issuer"] == c.issuer.rfc4514_string(), p
        assert row["not after"] == f"{c.not_valid_after_utc:%Y-%m-%d %H:%M:%SZ}", p
        assert row["not before"] == f"{c.not_valid_before_utc:%Y-%m-%d %H:%M:%SZ}", p


def test_readme_names_the_known_gaps_with_their_pins() -> None:
    text = README.read_text(encoding="utf-8")
    for pin in ("383aa3f6b69841473e7f9c36f2a3cc5dfc1af4c4",   # NEAC Root CA G3
                "e837e8d7077fc4d369c177c751832c16bc39b6a0",   # NEAC TSA
                "d7ad01de8df0d139e12abaeb16fd25ea8c126824"):  # NEAC RS
        assert pin in text
    assert "hocba trust add" in text and "rootca.gov.vn" in text and "ca.gov.vn" in text


def test_every_intermediate_and_tsa_certificate_verifies_against_an_issuer_in_the_bundle() -> None:
    certs = {p: _cert(p) for p in _files()}
    roots = {p for p in certs if p.parent.name == "roots"}
    for p, c in certs.items():
        if p in roots:
            continue
        issuers = [q for q, i in certs.items() if q != p and _verifies(c, i)]
        assert issuers, f"{p.name}: no issuer in the bundle verifies its signature"
        # and every chain ends at a shipped root (all these CAs are issued by roots)
        assert any(q in roots for q in issuers), p


def test_the_files_are_the_collected_ones_byte_for_byte() -> None:
    shared = SHARED_VN if SHARED_VN.is_dir() else None
    if shared is None:
        require_path(SHARED_VN, "shared trust material (../shared/trust/vn)")
        return
    meta = json.loads((shared / "certs.json").read_text(encoding="utf-8"))
    by_name = {Path(m["file"]).name: m for m in meta}
    for p in _files():
        m = by_name[p.name]
        assert p.read_bytes() == (shared / m["file"]).read_bytes(), p
        expected = {"root": "roots", "intermediate": "intermediates", "TSA": "tsa"}[m["role"]]
        assert p.parent.name == expected, p


def test_ground_finds_the_bundle_and_the_example_config_uses_it() -> None:
    from ground.bundles import available_bundles, bundle_certificates
    from ground.config import load_config
    from ground.policy import Policy

    assert "vn" in available_bundles()
    anchors, helpers = bundle_certificates("vn")
    assert len(anchors) == 4 and len(helpers) == 19
    cfg = load_config(ROOT / "config" / "hocba.example.toml")
    assert cfg.trust.bundles == ("vn",)
    assert cfg.revocation.mode == "require"
    policy = Policy.from_config(cfg)
    assert len(policy.trust_anchors) == 4


def test_pyproject_installs_every_bundle_file_under_share_hocba_trust() -> None:
    """The data-files globs cover exactly the bundle (the wheel test is done by hand and in
    the packaging check; this keeps a new sub-directory from being forgotten)."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    data_files: dict[str, list[str]] = meta["tool"]["setuptools"]["data-files"]
    covered: set[Path] = set()
    for target, patterns in data_files.items():
        assert target.startswith("share/hocba/trust"), target
        for pat in patterns:
            for p in ROOT.glob(pat):
                covered.add(p)
                rel = p.relative_to(TRUST).parent.as_posix()
                assert target == ("share/hocba/trust" + ("" if rel == "." else f"/{rel}")), p
    assert set(_files()) <= covered
    assert "tomlkit" in " ".join(meta["project"]["dependencies"])


# -- the real samples ---------------------------------------------------------------------
def _samples() -> list[Path]:
    d = require_path(SHARED_VN / "samples", "shared trust samples (../shared/trust/vn/samples)")
    return sorted(d.glob("*.pdf"))


def _verify(pdfs: list[Path], *extra: str) -> list[tuple[int, dict[str, Any]]]:
    """``hocba verify --trust-bundle vn --format json`` on all ``pdfs`` in one process."""
    proc = subprocess.run(
        [sys.executable, "-m", "hocba.cli", "verify", "--trust-bundle", "vn", "--format", "json",
         *extra, *map(str, pdfs)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
        env={**os.environ, "HOCBA_CONFIG": ""})
    lines = proc.stdout.splitlines()
    assert len(lines) == len(pdfs), proc.stderr
    return [(proc.returncode, json.loads(line)) for line in lines]


@pytest.fixture(scope="module", params=["--revocation=off", "default"])
def sample_reports(request: pytest.FixtureRequest) -> list[tuple[int, dict[str, Any]]]:
    extra = () if request.param == "default" else (request.param,)
    return _verify(_samples(), *extra)


def test_real_samples_are_intact_vgca_signatures_never_called_forgeries(
        sample_reports: list[tuple[int, dict[str, Any]]]) -> None:
    assert len(sample_reports) == 2
    for code, rep in sample_reports:
        assert code in (0, 3), rep  # never TOTAL_FAILED: intact, genuinely signed documents
        assert rep["indication"] != "TOTAL_FAILED", rep
        (sig,) = rep["signatures"]
        assert sig["integrity"] is True and sig["coverage"] == "entire_file"
        assert sig["signer"]["common_name"] == "Cổng Thông tin điện tử Chính phủ"
        assert sig["signer"]["issuer"] == VGCA_G1_CP
        text = json.dumps(rep, ensure_ascii=False).lower()
        for word in ("giả mạo", "forg", "bị thay đổi sau khi ký"):
            assert word not in text, word


def test_real_samples_chain_to_the_shipped_vgca_g1_root(
        sample_reports: list[tuple[int, dict[str, Any]]]) -> None:
    for _, rep in sample_reports:
        (sig,) = rep["signatures"]
        chain = sig["chain"]
        assert chain[-1] == VGCA_G1_ROOT, chain
        assert chain[-2] == VGCA_G1_CP, chain
        # what it really is, in words: the chain to the shipped anchor, SHA-1, expired
        text = " ".join(sig["findings"])
        assert "Co quan chung thuc so chuyen dung Chinh phu (RootCA)" in text, text
        assert "SHA-1" in text and "hết hạn ngày 14/01/2019" in text, text
        assert rep["indication"] == "INDETERMINATE", rep["indication"]


# -- gunicorn -----------------------------------------------------------------------------
GUNICORN_CONF = ROOT / "config" / "gunicorn.conf.py"


def _gunicorn() -> str:
    exe = Path(sys.executable).parent / "gunicorn"
    if not exe.exists():
        pytest.skip("gunicorn not installed in this environment")
    return str(exe)


@pytest.mark.slow
def test_gunicorn_loads_the_configuration_and_the_app(tmp_path: Path) -> None:
    cfg = tmp_path / "hocba.toml"
    cfg.write_text('[trust]\nbundles = ["vn"]\n[limits]\nrequest_timeout = 45.0\n', encoding="utf-8")
    env = {**os.environ, "HOCBA_CONFIG": str(cfg)}
    proc = subprocess.run(
        [_gunicorn(), "--check-config", "--print-config", "-c", str(GUNICORN_CONF),
         "verifier.app:create_app()"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    settings = dict(re.findall(r"^(\w+)\s+= (.*)$", proc.stdout, re.M))
    assert settings["bind"] == "['127.0.0.1:8000']"
    assert settings["timeout"] == "75"  # above the app's request timeout (45 s)
    assert settings["preload_app"] == "True"
    assert settings["limit_request_line"] == "4094"
    assert settings["limit_request_fields"] == "50"
    assert int(settings["max_requests"]) > 0 and int(settings["max_requests_jitter"]) > 0
    assert int(settings["workers"]) >= 1
    fmt = settings["access_log_format"]
    for leak in ("%(r)s", "%(q)s", "%(f)s", "%(a)s", "%(h)s", "%(u)s"):
        assert leak not in fmt, leak
    assert "%(U)s" in fmt

    bad = {**env, "HOCBA_CONFIG": str(tmp_path / "missing.toml")}
    proc = subprocess.run(
        [_gunicorn(), "--check-config", "-c", str(GUNICORN_CONF), "verifier.app:create_app()"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=bad)
    assert proc.returncode != 0  # a missing configuration stops the server at start


@pytest.mark.slow
def test_gunicorn_serves_healthz_on_loopback(tmp_path: Path) -> None:
    from hocba.ports import free_port

    cfg = tmp_path / "hocba.toml"
    cfg.write_text('[trust]\nbundles = ["vn"]\n', encoding="utf-8")
    port = free_port()
    env = {**os.environ, "HOCBA_CONFIG": str(cfg), "HOCBA_BIND": f"127.0.0.1:{port}",
           "HOCBA_WORKERS": "1", "HOCBA_THREADS": "2"}
    proc = subprocess.Popen(
        [_gunicorn(), "-c", str(GUNICORN_CONF), "verifier.app:create_app()"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        body = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz?x=secret",
                                            timeout=5) as r:
                    body = json.loads(r.read())
                    break
            except OSError:
                time.sleep(0.2)
        assert body is not None and body["status"] == "ok", proc.poll()
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert "GET /healthz 200" in out  # the access log line, on stdout
    assert "secret" not in err and "secret" not in out  # no query strings in the log

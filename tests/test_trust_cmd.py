"""``hocba trust list|add|check`` (CONTRACT 9). The PKI here is made in the test (throwaway
EC certificates), never committed."""
from __future__ import annotations

import json
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import cms
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ground.config import load_config
from hocba.cli import main

NOW = datetime.now(timezone.utc)
CONFIG_TEXT = """\
# Cấu hình của trường — school configuration (a comment that must survive)
[trust]
# our own root
anchors = ["trust/existing.pem"]   # trailing comment

[revocation]
mode = "soft-fail"  # kept as is
"""


class CA:
    def __init__(self, cn: str, issuer: "CA | None" = None, *, ca: bool = True,
                 not_before: datetime | None = None, not_after: datetime | None = None) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sở Giáo dục và Đào tạo Thử nghiệm"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ])
        signer = issuer or self
        b = (x509.CertificateBuilder()
             .subject_name(self.name)
             .issuer_name(signer.name)
             .public_key(self.key.public_key())
             .serial_number(x509.random_serial_number())
             .not_valid_before(not_before or NOW - timedelta(days=30))
             .not_valid_after(not_after or NOW + timedelta(days=3650))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        self.cert = b.sign(signer.key, hashes.SHA256())

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def sha256(self) -> str:
        return self.cert.fingerprint(hashes.SHA256()).hex()


def p7b(*certs: CA) -> bytes:
    """A certs-only PKCS#7 SignedData (.p7b, DER), as rootca.gov.vn serves them."""
    sd = cms.SignedData({
        "version": "v1",
        "digest_algorithms": [],
        "encap_content_info": {"content_type": "data"},
        "certificates": [ax509.Certificate.load(c.der) for c in certs],
        "signer_infos": [],
    })
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": sd}).dump())


def snapshot(d: Path) -> dict[str, bytes | None]:
    """Every file (content) and directory (None) under ``d``."""
    return {p.relative_to(d).as_posix(): (p.read_bytes() if p.is_file() else None)
            for p in sorted(d.rglob("*"))}


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config directory with one existing anchor and a config with comments."""
    monkeypatch.delenv("HOCBA_CONFIG", raising=False)
    d = tmp_path / "etc"
    (d / "trust").mkdir(parents=True)
    (d / "trust" / "existing.pem").write_bytes(CA("Existing Root").pem)
    (d / "hocba.toml").write_text(CONFIG_TEXT, encoding="utf-8")
    return d


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def list_json(capsys: pytest.CaptureFixture[str], cfg: Path) -> dict[str, Any]:
    code, out, err = run(capsys, "trust", "list", "--config", str(cfg), "--format", "json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


# -- add ----------------------------------------------------------------------------------
def test_add_der_imports_the_anchor_and_keeps_the_config(site: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    root = CA("Trường THPT Đông Đô Root CA")
    f = site.parent / "root.cer"
    f.write_bytes(root.der)
    cfg = site / "hocba.toml"
    code, out, err = run(capsys, "trust", "add", str(f), "--sha256", root.sha256,
                         "--config", str(cfg))
    assert code == 0, err
    pem = site / "trust" / f"truong-thpt-dong-do-root-ca-{root.sha256[:8]}.pem"
    assert pem.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert x509.load_pem_x509_certificate(pem.read_bytes()) == root.cert
    text = cfg.read_text(encoding="utf-8")
    # the rest of the file, comments included, is intact
    assert text.startswith(CONFIG_TEXT.split("anchors")[0])
    for kept in ("# trailing comment", 'mode = "soft-fail"  # kept as is', "# our own root",
                 "a comment that must survive"):
        assert kept in text
    loaded = load_config(cfg)
    assert loaded.trust.anchors == ((site / "trust/existing.pem").resolve(), pem.resolve())
    assert loaded.revocation.mode == "soft-fail"
    assert "Đã thêm" in out and root.sha256 in out
    listed = list_json(capsys, cfg)
    shas = [a["sha256"] for a in listed["anchors"]]
    assert root.sha256 in shas
    entry = next(a for a in listed["anchors"] if a["sha256"] == root.sha256)
    assert entry["subject"].startswith("CN=Trường THPT Đông Đô Root CA,")
    assert entry["subject"] == unicodedata.normalize("NFC", entry["subject"])
    assert entry["sources"] == [f"file trust/{pem.name}"]
    # text output names it too
    code, out, _ = run(capsys, "trust", "list", "--config", str(cfg))
    assert code == 0 and "CN=Trường THPT Đông Đô Root CA" in out and root.sha256 in out


def test_add_p7b_with_fingerprint_in_any_notation(site: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    root = CA("Vietnam National Root CA G3 (test)")
    sub = CA("Licensed CA (test)", root)
    f = site.parent / "vnrca-g3.p7b"
    f.write_bytes(p7b(sub, root))
    colons = ":".join(root.sha256[i:i + 2] for i in range(0, 64, 2)).upper()
    cfg = site / "hocba.toml"
    code, out, err = run(capsys, "trust", "add", str(f), "--sha256", f" {colons} ",
                         "--config", str(cfg), "--lang", "en")
    assert code == 0, err
    assert "Added trust anchor" in out
    shas = [a["sha256"] for a in list_json(capsys, cfg)["anchors"]]
    assert root.sha256 in shas and sub.sha256 not in shas
    # the same again: already present, nothing changes
    before = snapshot(site)
    code, out, err = run(capsys, "trust", "add", str(f), "--sha256", root.sha256.replace("", " "),
                         "--config", str(cfg))
    assert code == 0, err
    assert "không thay đổi gì" in out
    assert snapshot(site) == before


def test_add_pem_via_hocba_config_and_a_config_without_trust(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "hocba.toml"
    cfg.write_text("# only revocation\n[revocation]\nmode = \"off\"\n", encoding="utf-8")
    monkeypatch.setenv("HOCBA_CONFIG", str(cfg))
    root = CA("Root PEM")
    f = tmp_path / "root.pem"
    f.write_bytes(root.pem)
    code, _, err = run(capsys, "trust", "add", str(f), "--sha256", root.sha256)
    assert code == 0, err
    loaded = load_config(cfg)
    assert len(loaded.trust.anchors) == 1 and loaded.revocation.mode == "off"
    assert cfg.read_text(encoding="utf-8").startswith("# only revocation\n")


@pytest.mark.parametrize("case", ["mismatch", "end_entity", "not_a_cert", "bad_hex", "missing"])
def test_add_refusals_change_nothing(site: Path, capsys: pytest.CaptureFixture[str],
                                     case: str) -> None:
    root = CA("Refused Root")
    other = CA("Other Root")
    leaf = CA("Nguyễn Văn A", root, ca=False)
    f = site.parent / "input.crt"
    sha = root.sha256
    if case == "mismatch":
        f.write_bytes(p7b(root, other))
        sha = CA("Third").sha256
    elif case == "end_entity":
        f.write_bytes(leaf.der)
        sha = leaf.sha256
    elif case == "not_a_cert":
        f.write_bytes(b"<html>404 Not Found</html>\n")
    elif case == "bad_hex":
        f.write_bytes(root.der)
        sha = sha[:40]
    cfg = site / "hocba.toml"
    before = snapshot(site.parent)
    args = ["trust", "add", str(f if case != "missing" else site / "nope.p7b"), "--sha256", sha,
            "--config", str(cfg)]
    code, out, err = run(capsys, *args)
    assert snapshot(site.parent) == before  # byte-identical config and trust directory
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("hocba: "), err
    assert "Traceback" not in err
    if case == "mismatch":
        assert code == 1
        assert sha in err and root.sha256 in err and other.sha256 in err  # what the file holds
    elif case == "end_entity":
        assert code == 1 and "không phải chứng thư CA" in err and "basicConstraints" in err
    else:
        assert code == 2


def test_add_needs_a_config(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOCBA_CONFIG", raising=False)
    root = CA("Root")
    f = tmp_path / "root.der"
    f.write_bytes(root.der)
    before = snapshot(tmp_path)
    code, _, err = run(capsys, "trust", "add", str(f), "--sha256", root.sha256)
    assert code == 2 and "--config" in err and "HOCBA_CONFIG" in err
    assert snapshot(tmp_path) == before


def test_add_refuses_a_broken_config_untouched(site: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    cfg = site / "hocba.toml"
    cfg.write_text(CONFIG_TEXT + "[nonsense]\nx = 1\n", encoding="utf-8")
    root = CA("Root")
    f = site.parent / "root.der"
    f.write_bytes(root.der)
    before = snapshot(site.parent)
    code, _, err = run(capsys, "trust", "add", str(f), "--sha256", root.sha256,
                       "--config", str(cfg))
    assert code == 2 and "nonsense" in err
    assert snapshot(site.parent) == before


# -- list ---------------------------------------------------------------------------------
def test_list_without_anchors_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOCBA_CONFIG", raising=False)
    code, out, _ = run(capsys, "trust", "list")
    assert code == 1 and "Không có chứng thư gốc tin cậy" in out
    code, out, _ = run(capsys, "trust", "list", "--lang", "en")
    assert code == 1 and "No trust anchors" in out


def test_list_the_vn_bundle(capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOCBA_CONFIG", raising=False)
    code, out, err = run(capsys, "trust", "list", "--trust-bundle", "vn", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    subjects = [a["subject"] for a in data["anchors"]]
    assert len(subjects) == 4
    assert "CN=RootCA chuyên dùng Chính phủ G2,O=Ban Cơ yếu Chính phủ,C=VN" in subjects
    assert all(s == unicodedata.normalize("NFC", s) for s in subjects)
    assert all(a["sources"][0].startswith("bundle vn: roots/") for a in data["anchors"])
    assert len(data["intermediates"]) == 19
    code, out, _ = run(capsys, "trust", "list", "--trust-bundle", "vn")
    assert code == 0
    assert "Chứng thư gốc tin cậy (4):" in out and "Chứng thư trung gian" in out
    assert "bac8bf609ab420a8ee1780d74f4de5c7f7184959d2a7375b0a75e4c29f0908e7" in out
    code, out, err = run(capsys, "trust", "list", "--trust-bundle", "nope")
    assert code == 2 and "nope" in err


# -- check --------------------------------------------------------------------------------
def _config_with(tmp_path: Path, *cas: CA) -> Path:
    (tmp_path / "trust").mkdir(exist_ok=True)
    names = []
    for i, c in enumerate(cas):
        (tmp_path / "trust" / f"a{i}.pem").write_bytes(c.pem)
        names.append(f'"trust/a{i}.pem"')
    cfg = tmp_path / "hocba.toml"
    cfg.write_text(f"[trust]\nanchors = [{', '.join(names)}]\n", encoding="utf-8")
    return cfg


def test_check_flags_an_expired_anchor(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = CA("Old Root", not_before=NOW - timedelta(days=4000), not_after=NOW - timedelta(days=2))
    cfg = _config_with(tmp_path, CA("Good Root"), old)
    code, out, _ = run(capsys, "trust", "check", "--config", str(cfg))
    assert code == 1
    assert "đã hết hạn" in out and "CN=Old Root" in out and old.sha256 in out
    code, out, _ = run(capsys, "trust", "check", "--config", str(cfg), "--format", "json")
    data = json.loads(out)
    assert code == 1 and not data["ok"]
    assert [a["sha256"] for a in data["expired_anchors"]] == [old.sha256]


def test_check_warns_about_an_anchor_expiring_within_a_year(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    soon = CA("Soon Root", not_after=NOW + timedelta(days=100))
    cfg = _config_with(tmp_path, CA("Good Root"), soon)
    code, out, _ = run(capsys, "trust", "check", "--config", str(cfg), "--lang", "en")
    assert code == 0
    assert "WARNING" in out and "CN=Soon Root" in out and "expire within 365 days" in out
    code, out, _ = run(capsys, "trust", "check", "--config", str(cfg), "--within-days", "30")
    assert code == 0 and "Soon Root" not in out and "không có vấn đề" in out


def test_check_the_vn_bundle_reports_expired_intermediates_as_information(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOCBA_CONFIG", raising=False)
    code, out, _ = run(capsys, "trust", "check", "--trust-bundle", "vn", "--format", "json")
    data = json.loads(out)
    assert code == (1 if data["expired_anchors"] else 0)
    expired = {Path(e["sources"][0]).name for e in data["expired_intermediates"]}
    assert "viettel-ca-sha1-2015-expired.pem" in expired
    code, out, _ = run(capsys, "trust", "check")
    assert code == 1  # no anchor at all


@pytest.mark.parametrize("lang, exit_codes, no_anchor", [
    ("vi", "Mã thoát", "không có chứng thư gốc nào"), ("en", "Exit codes", "no anchor at all")])
def test_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str], lang: str,
                                       exit_codes: str, no_anchor: str) -> None:
    for action in ("list", "add", "check"):
        with pytest.raises(SystemExit) as e:
            main(["trust", action, "--lang", lang, "--help"])
        assert e.value.code == 0
        out = " ".join(capsys.readouterr().out.split())
        assert exit_codes in out
    assert no_anchor in out  # check


def test_fingerprint_and_name_helpers() -> None:
    from ground.errors import UsageError
    from hocba.commands.trust import normalise_fingerprint, sanitised_name

    h = "AB" * 32
    assert normalise_fingerprint("sha256:" + ":".join(["ab"] * 32)) == h.lower()
    assert normalise_fingerprint(h) == h.lower()
    with pytest.raises(UsageError):
        normalise_fingerprint("zz" * 32)
    cert = ax509.Certificate.load(CA("Cơ quan chứng thực số Bộ Ngoại giao / Đắk Lắk").der)
    assert sanitised_name(cert) == "co-quan-chung-thuc-so-bo-ngoai-giao-dak-lak"

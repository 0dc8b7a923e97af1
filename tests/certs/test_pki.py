"""The demo/test PKI: layout, chains, names, key usages, negative certificates."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from certs.pki import DEMO_PIN, ROLE_CERTS, PkiLayout, create_pki, load_pkcs12
from hocba.cli import main
from tests.tooling import require_tool


def _cert(layout: PkiLayout, label: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(layout.cert(label).read_bytes())


def _attr(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> str | None:
    attrs = cert.subject.get_attributes_for_oid(oid)
    return str(attrs[0].value) if attrs else None


def test_demo_command_creates_contract_layout_and_is_idempotent(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    assert main(["certs", "demo", "--out", str(out), "--port", "8765"]) == 0
    for rel in ("trust/root.pem", "keys/teacher.p12", "keys/principal.p12", "keys/seal.p12",
                "hocba.toml"):
        assert (out / rel).is_file(), rel
    toml = (out / "hocba.toml").read_text(encoding="utf-8")
    assert 'url = "http://127.0.0.1:8765/' in toml
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert main(["certs", "demo", "--out", str(out), "--port", "8765"]) == 0
    assert "không thay đổi gì" in capsys.readouterr().err
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert before == after


def test_role_certificates_chain_to_root_with_openssl(test_pki: PkiLayout) -> None:
    openssl = require_tool("openssl")
    for role in ROLE_CERTS:
        r = subprocess.run([openssl, "verify", "-CAfile", str(test_pki.anchor), "-untrusted",
                            str(test_pki.cert("interm")), str(test_pki.cert(role))],
                           capture_output=True, text=True)
        assert r.returncode == 0 and ": OK" in r.stdout, r.stdout + r.stderr


def test_rogue_teacher_does_not_chain_to_demo_root(test_pki: PkiLayout) -> None:
    openssl = require_tool("openssl")
    r = subprocess.run([openssl, "verify", "-CAfile", str(test_pki.anchor), "-untrusted",
                        str(test_pki.cert("interm")), str(test_pki.cert("rogue_teacher"))],
                       capture_output=True, text=True)
    assert r.returncode != 0


@pytest.mark.parametrize("role,title", [("teacher", "Giáo viên chủ nhiệm"),
                                        ("principal", "Hiệu trưởng"),
                                        ("subject_teacher", "Giáo viên bộ môn")])
def test_person_certificates_carry_vietnamese_title(test_pki: PkiLayout, role: str,
                                                    title: str) -> None:
    cert = _cert(test_pki, role)
    assert _attr(cert, NameOID.TITLE) == title
    assert _attr(cert, NameOID.COMMON_NAME) == ROLE_CERTS[role][0]


def test_seal_is_an_organisation_certificate(test_pki: PkiLayout) -> None:
    cert = _cert(test_pki, "seal")
    assert _attr(cert, NameOID.TITLE) is None
    assert _attr(cert, NameOID.COMMON_NAME) == _attr(cert, NameOID.ORGANIZATION_NAME)


@pytest.mark.parametrize("role", list(ROLE_CERTS))
def test_signer_certificates_have_signing_key_usage_and_service_urls(test_pki: PkiLayout,
                                                                     role: str) -> None:
    cert = _cert(test_pki, role)
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and ku.content_commitment
    port = test_pki.config.read_text().split("port = ")[1].split()[0]
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert any(f"127.0.0.1:{port}/" in d.access_location.value for d in aia)
    cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert any(f"127.0.0.1:{port}/" in n.value for d in cdp for n in d.full_name or ())


def test_p12_opens_with_demo_pin_and_holds_chain(test_pki: PkiLayout) -> None:
    key, cert, extra = load_pkcs12(test_pki.p12("principal"), DEMO_PIN)
    assert cert == _cert(test_pki, "principal")
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert {c.subject for c in extra} >= {_cert(test_pki, "interm").subject}


def test_p12_wrong_pin_is_a_clear_error(test_pki: PkiLayout) -> None:
    from ground.errors import UsageError

    with pytest.raises(UsageError) as e:
        load_pkcs12(test_pki.p12("teacher"), "000000")
    p12 = test_pki.p12("teacher")
    assert e.value.render("en") == f"{p12}: wrong PIN or not a PKCS#12 file"
    assert e.value.render("vi") == f"{p12}: sai mã PIN hoặc không phải tệp PKCS#12"


def test_negative_certificates_have_the_defect_they_claim(test_pki: PkiLayout) -> None:
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    assert _cert(test_pki, "teacher_expired").not_valid_after_utc < now
    assert _cert(test_pki, "teacher_future").not_valid_before_utc > now
    ku = _cert(test_pki, "teacher_nousage").extensions.get_extension_for_class(x509.KeyUsage).value
    assert not ku.digital_signature and not ku.content_commitment
    assert _cert(test_pki, "teacher_rsa1024").public_key().key_size == 1024  # type: ignore[union-attr]
    assert _cert(test_pki, "teacher_sha1").signature_hash_algorithm.name == "sha1"  # type: ignore[union-attr]
    assert isinstance(_cert(test_pki, "teacher_ec").public_key(), ec.EllipticCurvePublicKey)
    assert _cert(test_pki, "rogue_teacher").issuer == _cert(test_pki, "root").subject  # same name...
    assert _cert(test_pki, "rogue_root").public_key() != _cert(test_pki, "root").public_key()


def test_existing_file_as_out_dir_is_usage_error(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["certs", "demo", "--out", str(f)]) == 2

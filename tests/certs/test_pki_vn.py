"""Profile "vn" of the demo/test PKI (CONTRACT 2, issue 13): shaped like the real
Vietnamese PKI — national root -> licensed CA -> personal certificates without title
(UID=CCCD:…) and the school's organisation certificate (CN = O, UID=MST:…) — with a
role registry roles.csv (CONTRACT 8) that ground.registry reads."""
from __future__ import annotations

import csv
import hashlib
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from asn1crypto import ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from certs.pki import (
    DEMO_PIN,
    PROVINCE,
    SCHOOL,
    SCHOOL_CODE,
    VN_PERSONS,
    PkiLayout,
    build_config,
    create_pki,
    key_labels,
    load_pkcs12,
    service_urls,
)
from ground.config import load_config
from ground.registry import COLUMNS, load_registry
from ground.vocab import Role
from hocba.cli import main

UID = x509.ObjectIdentifier("0.9.2342.19200300.100.1.1")
PEOPLE = ("teacher", "principal", "substitute")
ORGS = ("seal", "seal_other")
LEAVES = (*PEOPLE, "teacher_titled", *ORGS)


def _cert(layout: PkiLayout, label: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(layout.cert(label).read_bytes())


def _attrs(name: x509.Name, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(a.value) for a in name.get_attributes_for_oid(oid)]


def _one(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    values = _attrs(name, oid)
    assert len(values) == 1, (oid, name.rfc4514_string())
    return values[0]


def _sha256(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


# --- subjects -----------------------------------------------------------------------------

@pytest.mark.parametrize("label", PEOPLE)
def test_personal_certificates_have_no_title_and_a_cccd_uid(vn_pki: PkiLayout, label: str) -> None:
    subject = _cert(vn_pki, label).subject
    assert _attrs(subject, NameOID.TITLE) == []
    assert _attrs(subject, NameOID.ORGANIZATION_NAME) == []  # a person, not an organisation
    assert _one(subject, NameOID.COMMON_NAME) == VN_PERSONS[label][0]
    assert re.fullmatch(r"CCCD:0\d{11}", _one(subject, UID))
    assert _one(subject, NameOID.STATE_OR_PROVINCE_NAME) == PROVINCE
    assert _one(subject, NameOID.COUNTRY_NAME) == "VN"


def test_people_are_distinct_and_named_as_in_the_sample_records(vn_pki: PkiLayout) -> None:
    from recordbook.sample import HOMEROOM_TEACHER, PRINCIPAL

    subjects = {label: _cert(vn_pki, label).subject for label in PEOPLE}
    assert _one(subjects["teacher"], NameOID.COMMON_NAME) == HOMEROOM_TEACHER
    assert _one(subjects["principal"], NameOID.COMMON_NAME) == PRINCIPAL
    assert len({_one(s, UID) for s in subjects.values()}) == 3
    assert len({_one(s, NameOID.COMMON_NAME) for s in subjects.values()}) == 3


def test_titled_teacher_declares_homeroom_teacher(vn_pki: PkiLayout) -> None:
    titled = _cert(vn_pki, "teacher_titled").subject
    teacher = _cert(vn_pki, "teacher").subject
    assert _one(titled, NameOID.TITLE) == "Giáo viên chủ nhiệm"
    assert _one(titled, NameOID.COMMON_NAME) == _one(teacher, NameOID.COMMON_NAME)
    assert _one(titled, UID).startswith("CCCD:")


@pytest.mark.parametrize("label", ORGS)
def test_organisation_certificates_cn_equals_o_and_carry_mst(vn_pki: PkiLayout, label: str) -> None:
    subject = _cert(vn_pki, label).subject
    assert _attrs(subject, NameOID.TITLE) == []
    assert _one(subject, NameOID.COMMON_NAME) == _one(subject, NameOID.ORGANIZATION_NAME)
    assert re.fullmatch(r"MST:01\d{8}", _one(subject, UID))
    assert _one(subject, NameOID.STATE_OR_PROVINCE_NAME) == PROVINCE
    assert _one(subject, NameOID.LOCALITY_NAME)
    assert _one(subject, NameOID.COUNTRY_NAME) == "VN"


def test_seal_is_the_sample_school_and_seal_other_is_another(vn_pki: PkiLayout) -> None:
    from recordbook.sample import PRIMARY_SCHOOL

    seal, other = (_cert(vn_pki, lbl).subject for lbl in ORGS)
    assert _one(seal, NameOID.COMMON_NAME) == SCHOOL == PRIMARY_SCHOOL.name
    assert _one(other, NameOID.COMMON_NAME) != SCHOOL
    assert _one(seal, UID) != _one(other, UID)


def test_mst_numbers_fail_their_check_digit_so_no_real_taxpayer_has_them(vn_pki: PkiLayout) -> None:
    weights = (31, 29, 23, 19, 17, 13, 7, 5, 3)
    for label in ORGS:
        mst = _one(_cert(vn_pki, label).subject, UID).removeprefix("MST:")
        check = 10 - sum(w * int(d) for w, d in zip(weights, mst)) % 11
        assert str(check) != mst[9], mst


def test_ca_names_say_they_are_fictitious(vn_pki: PkiLayout) -> None:
    for label in ("root", "interm", "tsa", "ocsp"):
        subject = _cert(vn_pki, label).subject
        assert "(DEMO)" in _one(subject, NameOID.COMMON_NAME)
        assert "(DEMO)" in _one(subject, NameOID.ORGANIZATION_NAME)
        assert _one(subject, NameOID.COUNTRY_NAME) == "VN"


@pytest.mark.parametrize("label", LEAVES)
def test_signer_certificates_have_digital_signature_and_non_repudiation(vn_pki: PkiLayout,
                                                                         label: str) -> None:
    cert = _cert(vn_pki, label)
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and ku.content_commitment
    assert not ku.key_cert_sign
    assert not any(isinstance(e.value, x509.BasicConstraints) and e.value.ca
                   for e in cert.extensions)
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert any(f"127.0.0.1:{vn_pki.port}/" in d.access_location.value for d in aia)


# --- chain --------------------------------------------------------------------------------

def test_chain_national_root_to_licensed_ca_to_every_leaf(vn_pki: PkiLayout) -> None:
    root, interm = _cert(vn_pki, "root"), _cert(vn_pki, "interm")
    assert root.subject == root.issuer
    root.verify_directly_issued_by(root)
    assert vn_pki.anchor.read_bytes() == vn_pki.cert("root").read_bytes()
    interm.verify_directly_issued_by(root)
    bc = interm.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert bc.ca and bc.path_length == 0
    for label in LEAVES + ("ocsp",):
        leaf = _cert(vn_pki, label)
        assert leaf.issuer == interm.subject, label
        leaf.verify_directly_issued_by(interm)
    _cert(vn_pki, "tsa").verify_directly_issued_by(root)


@pytest.mark.parametrize("label", ("teacher", "principal", "substitute", "seal"))
def test_p12_opens_with_demo_pin_and_holds_the_chain(vn_pki: PkiLayout, label: str) -> None:
    _, cert, extra = load_pkcs12(vn_pki.p12(label), DEMO_PIN)
    assert cert == _cert(vn_pki, label)
    assert {c.subject for c in extra} >= {_cert(vn_pki, "interm").subject}


# --- roles.csv and hocba.toml -------------------------------------------------------------

def test_roles_csv_lists_exactly_teacher_and_principal(vn_pki: PkiLayout) -> None:
    raw = vn_pki.roles.read_bytes()
    text = raw.decode("utf-8")
    assert text.splitlines()[0] == "sha256,role,school_code,valid_from,valid_to"
    assert ",".join(COLUMNS) == text.splitlines()[0]
    rows = list(csv.DictReader(text.splitlines()))
    assert sorted(r["role"] for r in rows) == ["principal", "teacher"]
    today = datetime.now(timezone(timedelta(hours=7))).date()
    for row in rows:
        assert row["sha256"] == _sha256(_cert(vn_pki, row["role"]))
        assert re.fullmatch(r"[0-9a-f]{64}", row["sha256"])
        assert row["school_code"] == SCHOOL_CODE
        vf, vt = (datetime.fromisoformat(row[k]).date() for k in ("valid_from", "valid_to"))
        assert 364 <= (today - vf).days <= 366 and 364 <= (vt - today).days <= 366


def test_roles_csv_school_code_is_the_sample_records_code() -> None:
    from recordbook.sample import PRIMARY_SCHOOL

    assert SCHOOL_CODE == PRIMARY_SCHOOL.code == "99000101"


def test_roles_csv_loads_with_ground_registry(vn_pki: PkiLayout) -> None:
    reg = load_registry(vn_pki.roles)
    assert len(reg.entries) == 2
    now = datetime.now(timezone.utc)
    teacher = reg.role_at(_sha256(_cert(vn_pki, "teacher")), now, SCHOOL_CODE)
    assert teacher is not None and teacher.role == Role.parse("teacher")
    principal = reg.role_at(_sha256(_cert(vn_pki, "principal")), now)
    assert principal is not None and principal.role == Role.parse("principal")
    for label in ("substitute", "seal", "seal_other", "teacher_titled"):
        assert reg.entries_for(_sha256(_cert(vn_pki, label))) == ()
    assert reg.role_at(_sha256(_cert(vn_pki, "teacher")), now, "99000999") is None


def test_config_loads_and_points_at_the_registry(vn_pki: PkiLayout) -> None:
    cfg = load_config(vn_pki.config)
    assert cfg.roles.registry is not None
    assert cfg.roles.registry.resolve() == vn_pki.roles.resolve()
    assert cfg.trust.anchors and cfg.trust.anchors[0].resolve() == vn_pki.anchor.resolve()
    assert cfg.services.port == vn_pki.port
    assert cfg.timestamp.url == service_urls(vn_pki.port)["tsa"]
    for role in ("teacher", "principal", "seal"):
        key = getattr(cfg.signing, f"{role}_key")
        assert key is not None and key.resolve() == vn_pki.p12(role).resolve()
    assert cfg.signing.subject_teacher_key is None
    assert vn_pki.p12("substitute").is_file()


def test_readme_names_profile_and_every_key(vn_pki: PkiLayout) -> None:
    readme = (vn_pki.root / "README.txt").read_text(encoding="utf-8")
    assert "Profile: vn" in readme and "FICTITIOUS" in readme
    for label in key_labels("vn", "test"):
        assert f"keys/{label}.p12" in readme


# --- live OCSP ----------------------------------------------------------------------------

def _ocsp_status(layout: PkiLayout, label: str) -> tuple[str, ocsp.BasicOCSPResponse]:
    cert = asn1_x509.Certificate.load(_cert(layout, label).public_bytes(serialization.Encoding.DER))
    issuer = asn1_x509.Certificate.load(
        _cert(layout, "interm").public_bytes(serialization.Encoding.DER))
    cert_id = ocsp.CertId({
        "hash_algorithm": {"algorithm": "sha256"},
        "issuer_name_hash": hashlib.sha256(issuer.subject.dump()).digest(),
        "issuer_key_hash": hashlib.sha256(issuer.public_key["public_key"].contents[1:]).digest(),
        "serial_number": cert.serial_number,
    })
    req = ocsp.OCSPRequest({"tbs_request": {"request_list": [{"req_cert": cert_id}]}})
    resp = requests.post(service_urls(layout.port)["ocsp"], data=req.dump(), timeout=10,
                         headers={"Content-Type": "application/ocsp-request"})
    assert resp.status_code == 200
    parsed = ocsp.OCSPResponse.load(resp.content)
    assert parsed["response_status"].native == "successful"
    basic = parsed["response_bytes"]["response"].parsed
    single = basic["tbs_response_data"]["responses"][0]
    assert single["cert_id"]["serial_number"].native == cert.serial_number
    return single["cert_status"].name, basic


def test_ocsp_responder_says_good_for_teacher(vn_pki: PkiLayout) -> None:
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.hashes import SHA256

    status, basic = _ocsp_status(vn_pki, "teacher")
    assert status == "good"
    # signed by the OCSP responder certificate the licensed CA issued
    responder = _cert(vn_pki, "ocsp")
    key = responder.public_key()
    assert isinstance(key, RSAPublicKey)
    assert basic["signature_algorithm"].hash_algo == "sha256"
    key.verify(basic["signature"].native, basic["tbs_response_data"].dump(),
               padding.PKCS1v15(), SHA256())


def test_ocsp_responder_answers_for_the_seal_too(vn_pki: PkiLayout) -> None:
    assert _ocsp_status(vn_pki, "seal")[0] == "good"


# --- command ------------------------------------------------------------------------------

def test_certs_demo_profile_vn_creates_layout_and_is_idempotent(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "vn"
    assert main(["certs", "demo", "--profile", "vn", "--out", str(out), "--port", "8766"]) == 0
    err = capsys.readouterr().err
    for rel in ("trust/root.pem", "keys/teacher.p12", "keys/principal.p12", "keys/seal.p12",
                "keys/substitute.p12", "hocba.toml", "roles.csv", "README.txt",
                "pki/certomancer.yml"):
        assert (out / rel).is_file(), rel
    for label in ("teacher", "principal", "substitute", "seal"):
        assert f"keys/{label}.p12" in err.replace("\\", "/")
    assert "roles.csv" in err and "(hồ sơ vn)" in err
    assert not (out / "keys" / "seal_other.p12").exists()  # test kind only
    assert not (out / "keys" / "subject_teacher.p12").exists()
    toml = (out / "hocba.toml").read_text(encoding="utf-8")
    assert '[roles]\nregistry = "roles.csv"' in toml
    assert 'url = "http://127.0.0.1:8766/' in toml
    root = x509.load_pem_x509_certificate((out / "trust/root.pem").read_bytes())
    assert "(DEMO)" in _one(root.subject, NameOID.COMMON_NAME)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert main(["certs", "demo", "--profile", "vn", "--out", str(out), "--port", "8766"]) == 0
    assert "không thay đổi gì" in capsys.readouterr().err
    assert before == {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_unknown_profile_is_a_usage_error(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["certs", "demo", "--profile", "xx", "--out", str(tmp_path / "x")])
    assert e.value.code == 2
    assert "--profile" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_unknown_profile_is_refused_by_the_api_too(tmp_path: Path) -> None:
    from ground.errors import UsageError

    with pytest.raises(UsageError) as e:
        create_pki(tmp_path / "x", profile="xx")
    assert e.value.render("en") == "unknown PKI profile 'xx' (choose from default, vn)"
    assert e.value.render("vi") == "không có kiểu PKI 'xx' (chọn một trong: default, vn)"
    with pytest.raises(UsageError) as e:
        build_config(8731, datetime.now(timezone.utc), "demo", "xx")
    assert e.value.key == "certs.pki.err.unknown_profile" and e.value.fields["profile"] == "'xx'"


def test_default_profile_is_unchanged_by_the_vn_profile() -> None:
    now = datetime.now(timezone.utc)
    cfg, keys = build_config(8731, now, "test")
    assert keys == build_config(8731, now, "test", "default")[1]
    assert keys["teacher_rsa1024"] == "rsa1024" and keys["teacher_ec"] == "ec"
    arch = cfg["pki-architectures"]["hocba"]
    assert list(arch["certs"])[:8] == ["root", "interm", "tsa", "ocsp", "teacher", "principal",
                                       "seal", "subject_teacher"]
    assert arch["entity-defaults"] == {"country-name": "VN", "state-or-province-name": PROVINCE}
    assert arch["entities"]["teacher"]["title"] == "Giáo viên chủ nhiệm"
    assert "tsa_short" in arch["services"]["time-stamping"]
    assert list(key_labels()) == ["teacher", "principal", "seal", "subject_teacher"]

"""The demo and test PKI, as code.

A fictitious province's education PKI is declared as a certomancer configuration
generated here (keys are made fresh, dates are relative to ``now``), written to
``DIR/pki/certomancer.yml`` and then materialised: trust anchor, certificates,
PKCS#12 files for each role, and a ``hocba.toml`` pointing at it all. The same
configuration drives the OCSP, CRL and time-stamping services
(:mod:`certs.services`), so certificates, revocation data and timestamps always
agree.

``kind="test"`` adds the negative certificates the test-suite needs: revoked,
expired, not yet valid, no signing key usage, RSA-1024, SHA-1-signed, an ECDSA
signer, and a second, unrelated root with its own "teacher".
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable

import yaml
from certomancer.registry import ArchLabel, CertLabel, CertomancerConfig, KeyLabel
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography import x509

from ground.errors import UsageError

ARCH = "hocba"
DEFAULT_PORT = 8731
DEMO_PIN = "123456"

PROVINCE = "Tỉnh Sông Hương"
SCHOOL = "Trường Tiểu học Lê Quý Đôn"
SCHOOL_LOCALITY = "Thành phố Hương Giang"
DEPARTMENT = "Sở Giáo dục và Đào tạo tỉnh Sông Hương"

# Role certificates every PKI has: label -> (common name, title or None)
ROLE_CERTS: dict[str, tuple[str, str | None]] = {
    "teacher": ("Nguyễn Thị Hoa", "Giáo viên chủ nhiệm"),
    "principal": ("Trần Văn Minh", "Hiệu trưởng"),
    "seal": (SCHOOL, None),
    "subject_teacher": ("Lê Thị Thu Hà", "Giáo viên bộ môn"),
}

# Negative and extra certificates for the test PKI: label -> description
TEST_CERTS: dict[str, str] = {
    "teacher_revoked": "revoked (OCSP and CRL say so)",
    "teacher_expired": "expired a year ago",
    "teacher_future": "not valid until next year",
    "teacher_nousage": "no digitalSignature/nonRepudiation key usage",
    "teacher_rsa1024": "RSA-1024 key",
    "teacher_sha1": "certificate signed with SHA-1",
    "teacher_ec": "ECDSA P-256 key (a valid signer)",
    "principal_ec": "ECDSA P-256 principal (a valid signer)",
    "rogue_teacher": "issued by an unrelated root with the real teacher's name",
}


@dataclass(frozen=True)
class PkiLayout:
    """Where a generated PKI lives on disk."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "hocba.toml"

    @property
    def anchor(self) -> Path:
        return self.root / "trust" / "root.pem"

    @property
    def certomancer(self) -> Path:
        return self.root / "pki" / "certomancer.yml"

    def p12(self, label: str) -> Path:
        return self.root / "keys" / f"{label}.p12"

    def cert(self, label: str) -> Path:
        return self.root / "certs" / f"{label}.pem"


def _ts(d: datetime) -> str:
    return d.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _validity(start: datetime, end: datetime) -> dict[str, str]:
    return {"valid-from": _ts(start), "valid-to": _ts(end)}


def _ku(*usages: str) -> dict[str, Any]:
    return {"id": "key_usage", "critical": True,
            "smart-value": {"schema": "key-usage", "params": list(usages)}}


def _serial() -> int:
    return secrets.randbits(63) | (1 << 62)


def _gen_key(path: Path, kind: str) -> None:
    key: Any
    if kind == "ec":
        key = ec.generate_private_key(ec.SECP256R1())
    elif kind == "rsa1024":
        key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    os.chmod(path, 0o600)


def build_config(port: int, now: datetime, kind: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The certomancer configuration and the key types to generate (label -> type)."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    y = timedelta(days=365)
    prefix = f"http://127.0.0.1:{port}"

    keys: dict[str, str] = {
        "root": "rsa", "interm": "rsa", "tsa": "rsa", "ocsp": "rsa",
        "teacher": "rsa", "principal": "rsa", "seal": "rsa", "subject_teacher": "rsa",
    }
    entities: dict[str, dict[str, str]] = {
        "root": {"common-name": "Hocba Demo Root CA – Giáo dục Sông Hương",
                 "organization-name": DEPARTMENT},
        "interm": {"common-name": "Sở GD&ĐT Sông Hương – CA cấp chứng thư số",
                   "organization-name": DEPARTMENT},
        "tsa": {"common-name": "Dịch vụ cấp dấu thời gian Sông Hương",
                "organization-name": DEPARTMENT},
        "ocsp": {"common-name": "OCSP Sở GD&ĐT Sông Hương", "organization-name": DEPARTMENT},
    }
    for label, (cn, title) in ROLE_CERTS.items():
        ent = {"common-name": cn, "organization-name": SCHOOL, "locality-name": SCHOOL_LOCALITY}
        if title:
            ent["title"] = title
        entities[label] = ent

    leaf_validity = _validity(day - timedelta(days=30), day + 3 * y)
    def ca_cert(subject: str, issuer: str, validity: dict[str, str],
                profiles: list[Any]) -> dict[str, Any]:
        return {"subject": subject, "issuer": issuer, "validity": validity,
                "serial": _serial(), "profiles": profiles}
    certs: dict[str, dict[str, Any]] = {
        "root": ca_cert("root", "root", _validity(day - 10 * y, day + 30 * y),
                        [{"id": "simple-ca", "params": {"crl-repo": "root"}}]),
        "interm": ca_cert("interm", "root", _validity(day - 10 * y, day + 20 * y),
                          [{"id": "simple-ca",
                            "params": {"crl-repo": "interm", "ocsp-service": "interm"}}]),
        "tsa": {
            "subject": "tsa", "issuer": "root", "serial": _serial(),
            "validity": _validity(day - 10 * y, day + 20 * y),
            "extensions": [
                _ku("digital_signature", "non_repudiation"),
                {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]},
            ],
        },
        "ocsp": {
            "subject": "ocsp", "issuer": "interm", "serial": _serial(),
            "validity": _validity(day - 10 * y, day + 20 * y), "profiles": ["ocsp-responder"],
        },
    }
    for label in ROLE_CERTS:
        certs[label] = {
            "subject": label, "issuer": "interm", "serial": _serial(),
            "validity": leaf_validity, "profiles": ["digsig-commitment"],
        }

    if kind == "test":
        base = ROLE_CERTS["teacher"]
        for label in TEST_CERTS:
            if label == "principal_ec":
                cn, title = ROLE_CERTS["principal"]
            else:
                cn, title = base
            entities[label] = {"common-name": cn, "organization-name": SCHOOL,
                               "title": title or "", "serial-number": label.upper().replace("_", "-")}
            keys[label] = "rsa"
            spec: dict[str, Any] = {
                "subject": label, "issuer": "interm", "serial": _serial(),
                "validity": leaf_validity, "profiles": ["digsig-commitment"],
            }
            if label == "teacher_revoked":
                spec["revocation"] = {"revoked-since": _ts(day - timedelta(days=10)),
                                      "reason": "key_compromise"}
            elif label == "teacher_expired":
                spec["validity"] = _validity(day - 3 * y, day - y)
            elif label == "teacher_future":
                spec["validity"] = _validity(day + y, day + 3 * y)
            elif label == "teacher_nousage":
                del spec["profiles"]
                spec["extensions"] = [_ku("key_encipherment")]
            elif label == "teacher_rsa1024":
                keys[label] = "rsa1024"
            elif label == "teacher_sha1":
                spec["digest-algo"] = "sha1"
            elif label in ("teacher_ec", "principal_ec"):
                keys[label] = "ec"
            elif label == "rogue_teacher":
                spec["issuer"] = "rogue_root"
                del spec["profiles"]
                spec["extensions"] = [_ku("digital_signature", "non_repudiation")]
            certs[label] = spec
        # the forger's root: same-looking names, unrelated key
        keys["rogue_root"] = "rsa"
        entities["rogue_root"] = dict(entities["root"])
        certs["rogue_root"] = ca_cert("rogue_root", "rogue_root",
                                      _validity(day - 10 * y, day + 30 * y), ["simple-ca"])
        # a second TSA whose certificate expires early (archive-timestamp chains: an older
        # archive timestamp judged at the time proven by a newer one, EN 319 102-1 5.6.3)
        keys["tsa_short"] = "rsa"
        entities["tsa_short"] = {**entities["tsa"],
                                 "common-name": "Dịch vụ cấp dấu thời gian Sông Hương (ngắn hạn)"}
        certs["tsa_short"] = {**certs["tsa"], "subject": "tsa_short", "serial": _serial(),
                              "validity": _validity(day - timedelta(days=30), day + 2 * y)}

    time_stamping: dict[str, Any] = {"tsa": {"signing-key": "tsa", "signing-cert": "tsa"}}
    if kind == "test":
        time_stamping["tsa_short"] = {"signing-key": "tsa_short", "signing-cert": "tsa_short"}
    arch = {
        "keyset": ARCH,
        "entity-defaults": {"country-name": "VN", "state-or-province-name": PROVINCE},
        "entities": entities,
        "certs": certs,
        "services": {
            "ocsp": {"interm": {"for-issuer": "interm", "responder-cert": "ocsp",
                                "signing-key": "ocsp"}},
            "crl-repo": {
                "root": {"for-issuer": "root", "signing-key": "root",
                         "simulated-update-schedule": "P30D"},
                "interm": {"for-issuer": "interm", "signing-key": "interm",
                           "simulated-update-schedule": "P7D"},
            },
            "time-stamping": time_stamping,
        },
    }
    cfg = {
        "external-url-prefix": prefix,
        "keysets": {ARCH: {"path-prefix": "keys",
                           "keys": {k: {"path": f"{k}.key.pem"} for k in keys}}},
        "pki-architectures": {ARCH: arch},
    }
    return cfg, keys


def service_urls(port: int, host: str = "127.0.0.1") -> dict[str, str]:
    prefix = f"http://{host}:{port}/{ARCH}"
    return {
        "tsa": f"{prefix}/tsa/tsa",
        "tsa_short": f"{prefix}/tsa/tsa_short",  # test PKI only
        "ocsp": f"{prefix}/ocsp/interm",
        "crl": f"{prefix}/crls/interm/latest.crl",
        "root_crl": f"{prefix}/crls/root/latest.crl",
    }


def load_certomancer(path: Path) -> CertomancerConfig:
    return CertomancerConfig.from_file(str(path), key_search_dir=str(path.parent))


def create_pki(out: Path, *, port: int = DEFAULT_PORT, kind: str = "demo",
               now: datetime | None = None) -> tuple[PkiLayout, bool]:
    """Create the PKI in ``out``. Returns (layout, created); existing PKIs are left alone."""
    layout = PkiLayout(out)
    if layout.config.exists() and layout.certomancer.exists():
        return layout, False
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} exists and is not a directory")
    now = now or datetime.now(timezone.utc)
    cfg, keys = build_config(port, now, kind)
    pki_dir = out / "pki"
    (pki_dir / "keys").mkdir(parents=True, exist_ok=True)
    for label, ktype in keys.items():
        _gen_key(pki_dir / "keys" / f"{label}.key.pem", ktype)
    layout.certomancer.write_text(
        "# Generated by `hocba certs` — the demo/test PKI as certomancer configuration.\n"
        + yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    cm = load_certomancer(layout.certomancer)
    arch = cm.get_pki_arch(ArchLabel(ARCH))
    for sub in ("trust", "certs", "keys"):
        (out / sub).mkdir(exist_ok=True)
    layout.anchor.write_bytes(_pem(arch.get_cert(CertLabel("root")).dump()))
    for label in cfg["pki-architectures"][ARCH]["certs"]:
        layout.cert(label).write_bytes(_pem(arch.get_cert(CertLabel(label)).dump()))
    signer_labels = [l for l in cfg["pki-architectures"][ARCH]["certs"]
                     if l not in ("root", "interm", "tsa", "tsa_short", "ocsp", "rogue_root")]
    for label in signer_labels:
        chain = list(arch.get_chain(CertLabel(label)))
        data = arch.package_pkcs12(CertLabel(label), certs_to_embed=chain,
                                   password=DEMO_PIN.encode())
        layout.p12(label).write_bytes(data)
        os.chmod(layout.p12(label), 0o600)
    urls = service_urls(port)
    layout.config.write_text(_toml(port, urls, signer_labels), encoding="utf-8")
    (out / "README.txt").write_text(_readme(kind), encoding="utf-8")
    return layout, True


def _pem(der: bytes) -> bytes:
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)


def _toml(port: int, urls: dict[str, str], signer_labels: Iterable[str]) -> str:
    keys = "\n".join(f'{r}_key = "keys/{r}.p12"' for r in ROLE_CERTS if r in signer_labels)
    return f"""# hocba configuration for the demo PKI (generated by `hocba certs demo`).
# Paths are relative to this file. See README.md, "Configuration reference".

[trust]
anchors = ["trust/root.pem"]

[revocation]
mode = "require"

[timestamp]
url = "{urls['tsa']}"

[policy]
required_roles = ["teacher", "principal"]

[signing]
{keys}

[services]
certomancer = "pki/certomancer.yml"
host = "127.0.0.1"
port = {port}
"""


def _readme(kind: str) -> str:
    return (
        f"hocba {kind} PKI — FICTITIOUS, for demonstration and tests only.\n"
        f"PKCS#12 files under keys/ use PIN {DEMO_PIN}. Private keys in pki/keys are unencrypted.\n"
        "Serve its OCSP, CRL and TSA with: hocba certs serve --config hocba.toml\n"
    )


def load_pkcs12(path: Path, pin: str) -> tuple[Any, x509.Certificate, list[x509.Certificate]]:
    """Load a PKCS#12 file into (private key, certificate, other certificates)."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UsageError(f"{path}: cannot read key file: {e.strerror}") from None
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, pin.encode())
    except ValueError:
        raise UsageError(f"{path}: wrong PIN or not a PKCS#12 file") from None
    if key is None or cert is None:
        raise UsageError(f"{path}: the PKCS#12 file holds no key and certificate")
    return key, cert, list(extra)



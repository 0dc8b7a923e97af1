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

``profile="vn"`` shapes the PKI like the real Vietnamese one (CONTRACT 2, issue 13):
a national root, a licensed public CA (``interm``, pathlen 0) issuing personal
certificates *without* title (``CN`` = full name, ``UID=CCCD:…``, ``ST``, ``C=VN``)
and the school's organisation certificate (``CN`` = ``O`` = school name,
``UID=MST:…``), plus ``DIR/roles.csv``, the role registry (CONTRACT 8) naming the
teacher's and the principal's certificates, referenced by ``[roles] registry``.
Every name and number in it is fictitious and says so.
"""
from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass
import hashlib
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable

import yaml
from certomancer.registry import ArchLabel, CertLabel, CertomancerConfig, KeyLabel
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography import x509

from ground.errors import UsageError
from ground.registry import COLUMNS as REGISTRY_COLUMNS, VN_TZ
from recordbook.sample import PRIMARY_SCHOOL

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


PROFILES = ("default", "vn")

# --- profile "vn": shaped like the real Vietnamese PKI, every name fictitious -------------
# Numbers that cannot be real: CCCD numbers start with province code 099, which is not
# assigned (as recordbook.sample's PERSONAL_ID_PREFIX); the tax codes (MST) carry a wrong
# check digit (weights 31,29,23,19,17,13,7,5,3; check = 10 - sum mod 11), so no taxpayer
# has them.
VN_ROOT_CN = "Vietnam National Root CA (DEMO)"
VN_ROOT_O = "National Electronic Authentication Centre (DEMO)"
VN_CA_CN = "Sông Hương CA (DEMO)"
VN_CA_O = "Công ty Cổ phần Chứng thực số Sông Hương (DEMO)"
VN_TSA_CN = "Vietnam National Root CA - TSA (DEMO)"
VN_OCSP_CN = "Sông Hương CA OCSP (DEMO)"
# The school's code (mã trường) as the sample records carry it (MaTruong): the role
# registry's school_code must equal it, or its entries would not match those records.
SCHOOL_CODE = PRIMARY_SCHOOL.code
OTHER_SCHOOL = "Trường Tiểu học Nguyễn Du"
OTHER_SCHOOL_LOCALITY = "Huyện Phong Điền"
TEACHER_TITLE = "Giáo viên chủ nhiệm"

# Personal certificates: label -> (full name, UID, title or None, what it is)
VN_PERSONS: dict[str, tuple[str, str, str | None, str]] = {
    "teacher": (ROLE_CERTS["teacher"][0], "CCCD:099185001234", None,
                "giáo viên chủ nhiệm / homeroom teacher (in roles.csv as teacher)"),
    "principal": (ROLE_CERTS["principal"][0], "CCCD:099075004321", None,
                  "hiệu trưởng / principal (in roles.csv as principal)"),
    "substitute": ("Đỗ Thị Lan Anh", "CCCD:099192007788", None,
                   "giáo viên dạy thay / substitute homeroom teacher (NOT in roles.csv: "
                   "a declared role counts only when the seal vouches for it)"),
}
# Organisation certificates: label -> (organisation = common name, UID, locality, what it is)
VN_ORGS: dict[str, tuple[str, str, str, str]] = {
    "seal": (SCHOOL, "MST:0199000100", SCHOOL_LOCALITY,
             "con dấu đơn vị / the school's organisation certificate (seal)"),
}
# kind "test" only
VN_TEST_PERSONS: dict[str, tuple[str, str, str | None, str]] = {
    "teacher_titled": (ROLE_CERTS["teacher"][0], "CCCD:099185001234", TEACHER_TITLE,
                       "the teacher's certificate WITH title Giáo viên chủ nhiệm"),
}
VN_TEST_ORGS: dict[str, tuple[str, str, str, str]] = {
    "seal_other": (OTHER_SCHOOL, "MST:0199000201", OTHER_SCHOOL_LOCALITY,
                   "another school's organisation certificate"),
}
# Listed in roles.csv: label -> role
VN_REGISTERED: dict[str, str] = {"teacher": "teacher", "principal": "principal"}


def key_labels(profile: str = "default", kind: str = "demo") -> dict[str, str]:
    """The key files a PKI of this profile offers for signing: label -> what it is."""
    if profile == "vn":
        out = {label: spec[3] for label, spec in VN_PERSONS.items()}
        out.update({label: spec[3] for label, spec in VN_ORGS.items()})
        if kind == "test":
            out.update({label: spec[3] for label, spec in VN_TEST_PERSONS.items()})
            out.update({label: spec[3] for label, spec in VN_TEST_ORGS.items()})
        return out
    out = {label: (title or "con dấu đơn vị / organisation certificate (seal)")
           for label, (_, title) in ROLE_CERTS.items()}
    if kind == "test":
        out.update(TEST_CERTS)
    return out


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

    @property
    def port(self) -> int:
        """The port its trust services' URLs name (``[services] port`` of its hocba.toml)."""
        with self.config.open("rb") as f:
            return int(tomllib.load(f)["services"]["port"])

    @property
    def roles(self) -> Path:
        """The role registry (profile "vn" only)."""
        return self.root / "roles.csv"


def _ts(d: datetime) -> str:
    return d.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _validity(start: datetime, end: datetime) -> dict[str, str]:
    return {"valid-from": _ts(start), "valid-to": _ts(end)}


def _ku(*usages: str) -> dict[str, Any]:
    return {"id": "key_usage", "critical": True,
            "smart-value": {"schema": "key-usage", "params": list(usages)}}


# Signers' certificates carry the extended key usages real Vietnamese personal and
# organisation certificates carry (VNPT-CA, Viettel-CA, ...): emailProtection, which is
# what NSS (poppler's pdfsig, Evince, Okular, Thunderbird) checks for a signer, and
# clientAuth.
SIGNER_EKU: dict[str, Any] = {"id": "extended_key_usage", "critical": False,
                              "value": ["email_protection", "client_auth"]}


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


def _ca_cert(subject: str, issuer: str, validity: dict[str, str],
             profiles: list[Any]) -> dict[str, Any]:
    return {"subject": subject, "issuer": issuer, "validity": validity,
            "serial": _serial(), "profiles": profiles}


def _service_certs(day: datetime) -> dict[str, dict[str, Any]]:
    """The TSA (issued by the root) and the OCSP responder (issued by interm)."""
    y = timedelta(days=365)
    return {
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


Parts = tuple[dict[str, str], dict[str, dict[str, str]], dict[str, dict[str, Any]],
              dict[str, str]]


def _default_parts(day: datetime, kind: str) -> Parts:
    """Keys, entities, certificates and entity defaults of the default profile."""
    y = timedelta(days=365)
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
    certs: dict[str, dict[str, Any]] = {
        "root": _ca_cert("root", "root", _validity(day - 10 * y, day + 30 * y),
                         [{"id": "simple-ca", "params": {"crl-repo": "root"}}]),
        "interm": _ca_cert("interm", "root", _validity(day - 10 * y, day + 20 * y),
                           [{"id": "simple-ca",
                             "params": {"crl-repo": "interm", "ocsp-service": "interm"}}]),
        **_service_certs(day),
    }
    for label in ROLE_CERTS:
        certs[label] = {
            "subject": label, "issuer": "interm", "serial": _serial(),
            "validity": leaf_validity, "profiles": ["digsig-commitment"],
            "extensions": [SIGNER_EKU],
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
        certs["rogue_root"] = _ca_cert("rogue_root", "rogue_root",
                                       _validity(day - 10 * y, day + 30 * y), ["simple-ca"])
        # a second TSA whose certificate expires early (archive-timestamp chains: an older
        # archive timestamp judged at the time proven by a newer one, EN 319 102-1 5.6.3)
        keys["tsa_short"] = "rsa"
        entities["tsa_short"] = {**entities["tsa"],
                                 "common-name": "Dịch vụ cấp dấu thời gian Sông Hương (ngắn hạn)"}
        certs["tsa_short"] = {**certs["tsa"], "subject": "tsa_short", "serial": _serial(),
                              "validity": _validity(day - timedelta(days=30), day + 2 * y)}
    return keys, entities, certs, {"country-name": "VN", "state-or-province-name": PROVINCE}


def _vn_parts(day: datetime, kind: str) -> Parts:
    """Profile "vn": national root -> licensed CA (interm, pathlen 0) -> personal and
    organisation certificates without title, as VNPT/Viettel/… issue them."""
    y = timedelta(days=365)
    entities: dict[str, dict[str, str]] = {
        "root": {"common-name": VN_ROOT_CN, "organization-name": VN_ROOT_O},
        "interm": {"common-name": VN_CA_CN, "organization-name": VN_CA_O},
        "tsa": {"common-name": VN_TSA_CN, "organization-name": VN_ROOT_O},
        "ocsp": {"common-name": VN_OCSP_CN, "organization-name": VN_CA_O},
    }
    persons = dict(VN_PERSONS)
    orgs = dict(VN_ORGS)
    if kind == "test":
        persons.update(VN_TEST_PERSONS)
        orgs.update(VN_TEST_ORGS)
    for label, (cn, uid, title, _) in persons.items():
        ent = {"common-name": cn, "user-id": uid, "state-or-province-name": PROVINCE}
        if title:
            ent["title"] = title
        entities[label] = ent
    for label, (org, uid, locality, _) in orgs.items():
        entities[label] = {"common-name": org, "organization-name": org, "user-id": uid,
                           "state-or-province-name": PROVINCE, "locality-name": locality}

    leaf_validity = _validity(day - timedelta(days=30), day + 3 * y)
    certs: dict[str, dict[str, Any]] = {
        "root": _ca_cert("root", "root", _validity(day - 10 * y, day + 30 * y),
                         [{"id": "simple-ca", "params": {"crl-repo": "root"}}]),
        "interm": _ca_cert("interm", "root", _validity(day - 5 * y, day + 10 * y),
                           [{"id": "simple-ca",
                             "params": {"crl-repo": "interm", "ocsp-service": "interm",
                                        "max-path-len": 0}}]),
        **_service_certs(day),
    }
    for label in (*persons, *orgs):
        certs[label] = {
            "subject": label, "issuer": "interm", "serial": _serial(),
            "validity": leaf_validity, "profiles": ["digsig-commitment"],
            "extensions": [SIGNER_EKU],
        }
    keys = {label: "rsa" for label in certs}
    return keys, entities, certs, {"country-name": "VN"}


def _check_profile(profile: str) -> None:
    if profile not in PROFILES:
        raise UsageError("certs.pki.err.unknown_profile", profile=repr(profile),
                         known=", ".join(PROFILES))


def build_config(port: int, now: datetime, kind: str,
                 profile: str = "default") -> tuple[dict[str, Any], dict[str, str]]:
    """The certomancer configuration and the key types to generate (label -> type)."""
    _check_profile(profile)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    prefix = f"http://127.0.0.1:{port}"
    parts = _vn_parts if profile == "vn" else _default_parts
    keys, entities, certs, entity_defaults = parts(day, kind)

    time_stamping: dict[str, Any] = {"tsa": {"signing-key": "tsa", "signing-cert": "tsa"}}
    if "tsa_short" in certs:
        time_stamping["tsa_short"] = {"signing-key": "tsa_short", "signing-cert": "tsa_short"}
    arch = {
        "keyset": ARCH,
        "entity-defaults": entity_defaults,
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
               now: datetime | None = None,
               profile: str = "default") -> tuple[PkiLayout, bool]:
    """Create the PKI in ``out``. Returns (layout, created); existing PKIs are left alone."""
    _check_profile(profile)
    layout = PkiLayout(out)
    if layout.config.exists() and layout.certomancer.exists():
        return layout, False
    if out.exists() and not out.is_dir():
        raise UsageError("certs.pki.err.not_a_directory", path=out)
    now = now or datetime.now(timezone.utc)
    cfg, keys = build_config(port, now, kind, profile)
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
    registry = None
    if profile == "vn":
        registry = layout.roles.name
        layout.roles.write_text(_roles_csv(layout, now), encoding="utf-8", newline="")
    layout.config.write_text(_toml(port, urls, signer_labels, registry), encoding="utf-8")
    (out / "README.txt").write_text(_readme(kind, profile), encoding="utf-8")
    return layout, True


def cert_sha256(path: Path) -> str:
    """Lowercase hex SHA-256 of a PEM certificate's DER (the role registry's key)."""
    der = x509.load_pem_x509_certificate(path.read_bytes()).public_bytes(
        serialization.Encoding.DER)
    return hashlib.sha256(der).hexdigest()


def _years_from(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _roles_csv(layout: PkiLayout, now: datetime) -> str:
    """The role registry (CONTRACT 8): the teacher and the principal, valid a year either side
    of today (Vietnam's calendar day), for the sample records' school."""
    today = now.astimezone(VN_TZ).date()
    lines = [",".join(REGISTRY_COLUMNS)]
    for label, role in VN_REGISTERED.items():
        lines.append(",".join((cert_sha256(layout.cert(label)), role, SCHOOL_CODE,
                               _years_from(today, -1).isoformat(),
                               _years_from(today, 1).isoformat())))
    return "\n".join(lines) + "\n"


def _pem(der: bytes) -> bytes:
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)


def _toml(port: int, urls: dict[str, str], signer_labels: Iterable[str],
          registry: str | None = None) -> str:
    labels = set(signer_labels)
    keys = "\n".join(f'{r}_key = "keys/{r}.p12"' for r in ROLE_CERTS if r in labels)
    roles = ("" if registry is None else
             f"""
[roles]
registry = "{registry}"
""")
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
{roles}
[signing]
{keys}

[services]
certomancer = "pki/certomancer.yml"
host = "127.0.0.1"
port = {port}
"""


def _readme(kind: str, profile: str = "default") -> str:
    text = (
        f"hocba {kind} PKI — FICTITIOUS, for demonstration and tests only.\n"
        f"PKCS#12 files under keys/ use PIN {DEMO_PIN}. Private keys in pki/keys are unencrypted.\n"
        "Serve its OCSP, CRL and TSA with: hocba certs serve --config hocba.toml\n"
    )
    if profile == "default":
        return text
    keys = "".join(f"  keys/{label}.p12: {what}\n"
                   for label, what in key_labels(profile, kind).items())
    return (
        text
        + f"\nProfile: {profile} — shaped like the real Vietnamese PKI: {VN_ROOT_CN}"
        f" -> {VN_CA_CN} (licensed CA, pathlen 0) -> personal certificates without title"
        " (CN = full name, UID = CCCD:…, ST, C=VN) and the school's organisation certificate"
        " (CN = O = school name, UID = MST:…). All names, CCCD and MST numbers are invented.\n"
        f"\nKeys:\n{keys}"
        f"\nroles.csv: the role registry (sha256,role,school_code,valid_from,valid_to), school"
        f" code {SCHOOL_CODE}; hocba.toml points at it with [roles] registry. Only the teacher"
        " and the principal are listed.\n"
    )


def load_pkcs12(path: Path, pin: str) -> tuple[Any, x509.Certificate, list[x509.Certificate]]:
    """Load a PKCS#12 file into (private key, certificate, other certificates)."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UsageError("certs.pki.err.key_unreadable", path=path,
                         detail=e.strerror or str(e)) from None
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, pin.encode())
    except ValueError:
        raise UsageError("certs.pki.err.wrong_pin", path=path) from None
    if key is None or cert is None:
        raise UsageError("certs.pki.err.no_key", path=path)
    return key, cert, list(extra)



"""Red-team fixtures: a second, unrelated PKI ("VGCA-like"), other vendors' signers, our records.

The second PKI is a certomancer architecture written here (not by ``certs.pki``):
root → sub-CA → teacher (ECDSA P-384), principal (RSA-3072), seal (RSA-4096);
plus a second sub-CA ``sub2`` whose principal certificate carries only an AIA
caIssuers link (the sub-CA is *not* embedded by the signer), a teacher without
AIA/OCSP (CRL only), its own OCSP responder, CRLs and TSA, served with
:class:`certs.services.TrustServices` on a free loopback port.
"""
from __future__ import annotations

import io
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from certs.pki import DEMO_PIN, PkiLayout
from certs.services import TrustServices
from ground.config import Config
from ground.vocab import Level, Role
from verifier.core import Verifier
from ground.policy import Policy
from tests.signing import sign_one

ARCH = "vgca"
PIN = DEMO_PIN
VG_ORG = "Trường THPT Chu Văn An – Hà Nội"
VG_DEPT = "Ban Cơ yếu Chính phủ (giả lập)"

# label -> (key type, issuer, common name, title or None, profiles/extra)
VG_LEAVES: dict[str, tuple[str, str, str, str | None]] = {
    "teacher": ("ec384", "sub", "Phạm Thị Lan", "Giáo viên chủ nhiệm lớp 12A1"),
    "principal": ("rsa3072", "sub", "Đỗ Văn Hùng", "Hiệu trưởng"),
    "seal": ("rsa4096", "sub", VG_ORG, None),
    "principal_aia": ("rsa2048", "sub2", "Đỗ Văn Hùng", "Hiệu trưởng"),
    "teacher_crl_only": ("rsa2048", "sub", "Phạm Thị Lan", "Teacher"),
    # left the school: revoked 10 days ago, reason cessationOfOperation (not key compromise)
    "teacher_left": ("rsa2048", "sub", "Phạm Thị Lan", "Giáo viên chủ nhiệm"),
}
VG_REVOKED_DAYS_AGO = 10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ts(d: datetime) -> str:
    return d.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _gen_key(path: Path, kind: str) -> None:
    key: Any
    if kind == "ec384":
        key = ec.generate_private_key(ec.SECP384R1())
    elif kind == "ec256":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


@dataclass(frozen=True)
class VgPki:
    root: Path
    port: int

    @property
    def certomancer(self) -> Path:
        return self.root / "certomancer.yml"

    @property
    def anchor(self) -> Path:
        return self.root / "root.pem"

    def p12(self, label: str) -> Path:
        return self.root / f"{label}.p12"

    def cert_pem(self, label: str) -> Path:
        return self.root / f"{label}.pem"

    def key_pem(self, label: str) -> Path:
        return self.root / "keys" / f"{label}.key.pem"

    @property
    def tsa_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{ARCH}/tsa/tsa"


def _vg_config(port: int) -> tuple[dict[str, Any], dict[str, str]]:
    day = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    y = timedelta(days=365)
    keys = {"root": "rsa4096", "sub": "rsa3072", "sub2": "rsa2048", "ocsp": "rsa2048",
            "tsa": "rsa2048"}
    keys.update({k: v[0] for k, v in VG_LEAVES.items()})
    entities: dict[str, dict[str, str]] = {
        "root": {"common-name": "Cơ quan chứng thực số Chính phủ (giả lập) – Root",
                 "organization-name": VG_DEPT},
        "sub": {"common-name": "CA phục vụ các cơ quan Nhà nước G2 (giả lập)",
                "organization-name": VG_DEPT},
        "sub2": {"common-name": "CA phục vụ ngành Giáo dục (giả lập)",
                 "organization-name": VG_DEPT},
        "ocsp": {"common-name": "OCSP CA G2 (giả lập)", "organization-name": VG_DEPT},
        "tsa": {"common-name": "TSA Chính phủ (giả lập)", "organization-name": VG_DEPT},
    }
    for label, (_, _, cn, title) in VG_LEAVES.items():
        ent = {"common-name": cn, "organization-name": VG_ORG, "locality-name": "Hà Nội"}
        if title:
            ent["title"] = title
        entities[label] = ent
    leaf_validity = {"valid-from": _ts(day - timedelta(days=60)), "valid-to": _ts(day + 2 * y)}
    ca_validity = {"valid-from": _ts(day - 5 * y), "valid-to": _ts(day + 15 * y)}
    ku = {"id": "key_usage", "critical": True,
          "smart-value": {"schema": "key-usage", "params": ["digital_signature", "non_repudiation"]}}
    crl_dp = {"id": "crl_distribution_points",
              "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": ["sub"]}}}
    certs: dict[str, dict[str, Any]] = {
        "root": {"subject": "root", "issuer": "root", "validity": ca_validity,
                 "profiles": [{"id": "simple-ca", "params": {"crl-repo": "root"}}]},
        "sub": {"subject": "sub", "issuer": "root", "validity": ca_validity,
                "profiles": [{"id": "simple-ca", "params": {"crl-repo": "sub", "ocsp-service": "sub"}}]},
        "sub2": {"subject": "sub2", "issuer": "root", "validity": ca_validity,
                 "profiles": [{"id": "simple-ca", "params": {"crl-repo": "sub2"}}]},
        "ocsp": {"subject": "ocsp", "issuer": "sub", "validity": ca_validity,
                 "profiles": ["ocsp-responder"]},
        "tsa": {"subject": "tsa", "issuer": "root", "validity": ca_validity,
                "extensions": [
                    {"id": "key_usage", "critical": True, "smart-value": {
                        "schema": "key-usage", "params": ["digital_signature"]}},
                    {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]}]},
    }
    for label, (_, issuer, _, _) in VG_LEAVES.items():
        spec: dict[str, Any] = {"subject": label, "issuer": issuer, "validity": leaf_validity}
        if label == "teacher_crl_only":
            spec["extensions"] = [ku, crl_dp]  # no AIA at all
        elif label == "principal_aia":
            spec["profiles"] = ["digsig-commitment"]  # sub2 adds its CRL DP
            spec["extensions"] = [{"id": "authority_information_access", "smart-value": {
                "schema": "aia-urls", "params": {"ca-issuer-links": [{"repo": "sub2"}]}}}]
        else:
            spec["profiles"] = ["digsig-commitment"]
        if label == "teacher_left":
            spec["revocation"] = {"revoked-since": _ts(day - timedelta(days=VG_REVOKED_DAYS_AGO)),
                                  "reason": "cessation_of_operation"}
        certs[label] = spec
    arch = {
        "keyset": ARCH,
        "entity-defaults": {"country-name": "VN"},
        "entities": entities,
        "certs": certs,
        "services": {
            "ocsp": {"sub": {"for-issuer": "sub", "responder-cert": "ocsp", "signing-key": "ocsp"}},
            "crl-repo": {
                "root": {"for-issuer": "root", "signing-key": "root",
                         "simulated-update-schedule": "P30D"},
                "sub": {"for-issuer": "sub", "signing-key": "sub",
                        "simulated-update-schedule": "P7D"},
                "sub2": {"for-issuer": "sub2", "signing-key": "sub2",
                         "simulated-update-schedule": "P7D"},
            },
            "cert-repo": {"sub2": {"for-issuer": "sub2", "publish-issued-certs": False}},
            "time-stamping": {"tsa": {"signing-key": "tsa", "signing-cert": "tsa"}},
        },
    }
    cfg = {
        "external-url-prefix": f"http://127.0.0.1:{port}",
        "keysets": {ARCH: {"path-prefix": "keys", "keys": {k: {"path": f"{k}.key.pem"} for k in keys}}},
        "pki-architectures": {ARCH: arch},
    }
    return cfg, keys


@pytest.fixture(scope="session")
def vg_pki(tmp_path_factory: pytest.TempPathFactory) -> VgPki:
    from asn1crypto import pem as asn1_pem
    from certomancer.registry import ArchLabel, CertLabel, CertomancerConfig

    out = tmp_path_factory.mktemp("vgca")
    port = free_port()
    cfg, keys = _vg_config(port)
    (out / "keys").mkdir()
    for label, kind in keys.items():
        _gen_key(out / "keys" / f"{label}.key.pem", kind)
    pki = VgPki(out, port)
    pki.certomancer.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False),
                               encoding="utf-8")
    cm = CertomancerConfig.from_file(str(pki.certomancer), key_search_dir=str(out))
    arch = cm.get_pki_arch(ArchLabel(ARCH))
    for label in cfg["pki-architectures"][ARCH]["certs"]:
        pki.cert_pem(label).write_bytes(asn1_pem.armor("CERTIFICATE",
                                                       arch.get_cert(CertLabel(label)).dump()))
    pki.anchor.write_bytes(pki.cert_pem("root").read_bytes())
    for label in VG_LEAVES:
        pki.p12(label).write_bytes(arch.package_pkcs12(
            CertLabel(label), certs_to_embed=list(arch.get_chain(CertLabel(label))),
            password=PIN.encode()))
    return pki


@pytest.fixture(scope="session")
def vg_services(vg_pki: VgPki) -> Iterator[TrustServices]:
    svc = TrustServices(vg_pki.certomancer, port=vg_pki.port)
    with svc:
        yield svc


@pytest.fixture(scope="session")
def rt_policy(test_config: Config, vg_pki: VgPki) -> Policy:
    """Trusts the project's test root AND the second PKI's root."""
    return Policy.from_config(test_config, extra_anchors=[vg_pki.anchor])


@pytest.fixture(scope="session")
def rt_verifier(rt_policy: Policy) -> Verifier:
    return Verifier(rt_policy)


@pytest.fixture(scope="session")
def vg_only_teacher_verifier(rt_policy: Policy) -> Verifier:
    return Verifier(rt_policy.replace(required_roles=(Role.TEACHER,)))


# --- other vendors' signers -------------------------------------------------------------------

def pyhanko_signer(p12: Path, *, embed_chain: bool = True) -> Any:
    """A pyHanko SimpleSigner from a PKCS#12; without the chain when ``embed_chain`` is False."""
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    s = signers.SimpleSigner.load_pkcs12(str(p12), passphrase=PIN.encode())
    assert s is not None
    if not embed_chain:
        s = signers.SimpleSigner(signing_cert=s.signing_cert, signing_key=s.signing_key,
                                 cert_registry=SimpleCertificateStore())
    return s


def pyhanko_sign(pdf: bytes, signer: Any, field: str, *, md: str = "sha256",
                 tsa_url: str | None = None, **meta: Any) -> bytes:
    """Sign the way another vendor would: pyHanko's sign_pdf, no role attribute."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers, timestamps
    from pyhanko.sign.fields import SigSeedSubFilter

    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    ts = timestamps.HTTPTimeStamper(tsa_url) if tsa_url else None
    out = signers.sign_pdf(w, signers.PdfSignatureMetadata(
        field_name=field, md_algorithm=md, subfilter=SigSeedSubFilter.PADES, **meta),
        signer=signer, timestamper=ts)
    return out.getvalue()


@pytest.fixture(scope="session")
def record_pdf() -> bytes:
    from recordbook.pdf import render_pdf
    from recordbook.sample import sample_record

    return render_pdf(sample_record(3))


@pytest.fixture(scope="session")
def record_xml() -> bytes:
    from recordbook.sample import sample_record
    from recordbook.xmlio import to_xml

    return to_xml(sample_record(3))


# --- our own signed records (the forger's raw material) --------------------------------------

def _our_sign(cfg: Config, pki: PkiLayout, data: bytes, name: str, role: str,
              label: str | None = None, level: str = "B-T") -> bytes:
    return sign_one(cfg, pki, data, role, name=name, level=level, label=label, pin=PIN)


@pytest.fixture(scope="session")
def our_sign(test_config: Config, test_pki: PkiLayout, trust_services: TrustServices
             ) -> Callable[..., bytes]:
    def sign(data: bytes, name: str, role: str, label: str | None = None,
             level: str = "B-T") -> bytes:
        return _our_sign(test_config, test_pki, data, name, role, label, level)

    return sign


@pytest.fixture(scope="session")
def our_xml_teacher(record_xml: bytes, our_sign: Callable[..., bytes]) -> bytes:
    return our_sign(record_xml, "r.xml", "teacher")


@pytest.fixture(scope="session")
def our_xml(our_xml_teacher: bytes, our_sign: Callable[..., bytes]) -> bytes:
    return our_sign(our_xml_teacher, "r.xml", "principal")


@pytest.fixture(scope="session")
def our_pdf_teacher(record_pdf: bytes, our_sign: Callable[..., bytes]) -> bytes:
    return our_sign(record_pdf, "r.pdf", "teacher")


@pytest.fixture(scope="session")
def our_pdf(our_pdf_teacher: bytes, our_sign: Callable[..., bytes]) -> bytes:
    return our_sign(our_pdf_teacher, "r.pdf", "principal")


# --- time box ---------------------------------------------------------------------------------

class Hang(BaseException):
    """Not an Exception: the verifier's catch-all must not turn a time-out into a report."""


def timeboxed(fn: Callable[[], Any], seconds: float = 10.0) -> Any:
    """Run ``fn`` with a wall-clock limit (SIGALRM in the main thread, else a watcher)."""
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        def on_alarm(signum: int, frame: Any) -> None:
            raise Hang(f"verification did not finish in {seconds} s")

        old = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return fn()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
    box: dict[str, Any] = {}
    t = threading.Thread(target=lambda: box.setdefault("r", fn()), daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():
        raise Hang(f"verification did not finish in {seconds} s")
    return box.get("r")


_ = (os, Level)

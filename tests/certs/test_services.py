"""The live OCSP, CRL and TSA services answer correctly (checked with openssl)."""
from __future__ import annotations

import pytest

import subprocess
from pathlib import Path

import requests
from asn1crypto import crl as asn1_crl

from certs.pki import PkiLayout, service_urls
from certs.services import TrustServices
from ground.config import Config
from tests.tooling import require_tool

pytestmark = pytest.mark.slow  # end to end: not in the fast suite (pytest -m "not slow")


def _ocsp_status(test_pki: PkiLayout, url: str, label: str) -> str:
    openssl = require_tool("openssl")
    r = subprocess.run(
        [openssl, "ocsp", "-issuer", str(test_pki.cert("interm")), "-cert",
         str(test_pki.cert(label)), "-url", url, "-CAfile", str(test_pki.anchor),
         "-VAfile", str(test_pki.cert("ocsp")), "-timeout", "10"],
        capture_output=True, text=True, timeout=30)
    assert "Response verify OK" in r.stderr + r.stdout, r.stderr + r.stdout
    return r.stdout


def test_ocsp_says_good_for_principal(test_pki: PkiLayout, test_config: Config,
                                      trust_services: TrustServices) -> None:
    out = _ocsp_status(test_pki, service_urls(test_config.services.port)["ocsp"], "principal")
    assert "principal.pem: good" in out


def test_ocsp_says_revoked_for_revoked_teacher(test_pki: PkiLayout, test_config: Config,
                                               trust_services: TrustServices) -> None:
    out = _ocsp_status(test_pki, service_urls(test_config.services.port)["ocsp"],
                       "teacher_revoked")
    assert "teacher_revoked.pem: revoked" in out
    assert "Reason: keyCompromise" in out


def test_crl_lists_revoked_teacher_only(test_pki: PkiLayout, test_config: Config,
                                        trust_services: TrustServices) -> None:
    from cryptography import x509

    resp = requests.get(service_urls(test_config.services.port)["crl"], timeout=10)
    assert resp.status_code == 200
    crl = asn1_crl.CertificateList.load(resp.content)
    revoked = {e["user_certificate"].native for e in crl["tbs_cert_list"]["revoked_certificates"]}
    serial = lambda label: x509.load_pem_x509_certificate(  # noqa: E731
        test_pki.cert(label).read_bytes()).serial_number
    assert serial("teacher_revoked") in revoked
    assert serial("teacher") not in revoked


def test_tsa_reply_verifies_against_root_with_openssl(test_pki: PkiLayout, test_config: Config,
                                                      trust_services: TrustServices,
                                                      tmp_path: Path) -> None:
    openssl = require_tool("openssl")
    data = tmp_path / "data.bin"
    data.write_bytes("Học bạ số".encode())
    tsq, tsr = tmp_path / "q.tsq", tmp_path / "r.tsr"
    subprocess.run([openssl, "ts", "-query", "-data", str(data), "-sha256", "-cert", "-out",
                    str(tsq)], check=True, capture_output=True)
    assert test_config.timestamp.url
    resp = requests.post(test_config.timestamp.url, data=tsq.read_bytes(),
                         headers={"Content-Type": "application/timestamp-query"}, timeout=10)
    assert resp.status_code == 200
    tsr.write_bytes(resp.content)
    r = subprocess.run([openssl, "ts", "-verify", "-data", str(data), "-in", str(tsr),
                        "-CAfile", str(test_pki.anchor)], capture_output=True, text=True)
    assert "Verification: OK" in r.stdout, r.stdout + r.stderr
    data.write_bytes(b"something else")
    r = subprocess.run([openssl, "ts", "-verify", "-data", str(data), "-in", str(tsr),
                        "-CAfile", str(test_pki.anchor)], capture_output=True, text=True)
    assert "Verification: OK" not in r.stdout


def test_services_restart_on_same_port(trust_services: TrustServices, test_config: Config) -> None:
    url = service_urls(test_config.services.port)["crl"]
    trust_services.stop()
    try:
        try:
            requests.get(url, timeout=2)
            reachable = True
        except requests.ConnectionError:
            reachable = False
        assert not reachable
    finally:
        trust_services.start()
    assert requests.get(url, timeout=10).status_code == 200


def test_serve_command_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    import signal
    import sys
    import time

    from tests.conftest import free_port

    port = free_port()
    out = tmp_path / "demo"
    subprocess.run([sys.executable, "-m", "hocba", "certs", "demo", "--out", str(out), "--port",
                    str(port)], check=True, capture_output=True)
    proc = subprocess.Popen([sys.executable, "-m", "hocba", "certs", "serve", "--config",
                             str(out / "hocba.toml")], stderr=subprocess.PIPE, text=True)
    try:
        url = service_urls(port)["crl"]
        for _ in range(100):
            try:
                if requests.get(url, timeout=1).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):  # still starting (busy host)
                time.sleep(0.1)
        else:
            raise AssertionError("serve did not come up")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
        assert proc.returncode == 0
        assert "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()

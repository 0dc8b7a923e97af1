"""Demo records in poppler/NSS readers (issue 16 item 10).

With the demo root trusted in an NSS database and the demo's trust services up,
``pdfsig`` (the same NSS path as Evince and Okular) must report every signer's
certificate as trusted. It used to say "Unknown issue with Certificate or
corrupted data": NSS refused the OCSP responses (GeneralizedTime with fractional
seconds, RFC 5280 4.1.2.5.2) and, with OCSP off, poppler read a stale NSS error
left by the extended-key-usage lookup of a certificate without one.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import requests
from asn1crypto import ocsp

from certs.pki import PkiLayout, service_urls
from certs.services import TrustServices
from ground.config import load_config
from tests.conftest import free_port
from tests.tokens import make_nssdb
from tests.tooling import require_tool

pytestmark = [pytest.mark.slow, pytest.mark.tool]


def _blocks(output: str) -> dict[str, dict[str, str]]:
    """Field name -> {"signature": ..., "certificate": ...} of each pdfsig block."""
    blocks: dict[str, dict[str, str]] = {}
    name = ""
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("- Signature Field Name:"):
            name = line.split(":", 1)[1].strip()
            blocks[name] = {}
        elif line.startswith("- Signature Validation:") and name:
            blocks[name]["signature"] = line.split(":", 1)[1].strip()
        elif line.startswith("- Certificate Validation:") and name:
            blocks[name]["certificate"] = line.split(":", 1)[1].strip()
    return blocks


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo-pdfsig")
    r = subprocess.run([sys.executable, "-m", "hocba", "demo", "--out", str(out), "--count", "1",
                        "--port", str(free_port())], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return out


@pytest.mark.parametrize("ocsp_on", [True, False], ids=["ocsp", "no-ocsp"])
def test_pdfsig_trusts_the_demo_records_certificates(demo: Path, tmp_path: Path,
                                                     ocsp_on: bool) -> None:
    pdfsig = require_tool("pdfsig")
    layout = PkiLayout(demo / "pki")
    nssdb = make_nssdb(layout.anchor, tmp_path)
    (pdf,) = sorted((demo / "signed").glob("*.pdf"))
    with TrustServices(layout.certomancer, port=load_config(layout.config).services.port):
        proc = subprocess.run([pdfsig, "-nssdir", nssdb, *([] if ocsp_on else ["-no-ocsp"]),
                               str(pdf)], capture_output=True, text=True, timeout=120)
    blocks = _blocks(proc.stdout)
    signers = {k: v for k, v in blocks.items() if k.startswith("Sig_")}
    assert set(signers) == {"Sig_teacher", "Sig_principal", "Sig_seal"}, proc.stdout
    for name, b in signers.items():
        assert b.get("signature") == "Signature is Valid.", (name, proc.stdout)
        assert b.get("certificate") == "Certificate is Trusted.", (name, proc.stdout)


def test_ocsp_answers_in_whole_seconds_over_get_and_post(test_pki: PkiLayout,
                                                         trust_services: TrustServices) -> None:
    """What NSS needs from the responder: GeneralizedTime without fractions, and GET."""
    import base64
    import urllib.parse

    from asn1crypto import pem, x509

    def cert(label: str) -> x509.Certificate:
        return x509.Certificate.load(pem.unarmor(test_pki.cert(label).read_bytes())[2])

    leaf, issuer = cert("teacher"), cert("interm")
    req = ocsp.OCSPRequest({"tbs_request": {"request_list": [{"req_cert": {
        "hash_algorithm": {"algorithm": "sha1"},
        "issuer_name_hash": issuer.subject.sha1,
        "issuer_key_hash": issuer.public_key.sha1,
        "serial_number": leaf.serial_number}}]}}).dump()
    url = service_urls(trust_services.port)["ocsp"]
    posted = requests.post(url, data=req, timeout=10,
                           headers={"Content-Type": "application/ocsp-request"})
    got = requests.get(f"{url}/{urllib.parse.quote(base64.b64encode(req).decode(), safe='')}",
                       timeout=10)
    bad = requests.get(f"{url}/not-base64!", timeout=10)
    assert bad.status_code == 400
    for resp in (posted, got):
        assert resp.status_code == 200
        r = ocsp.OCSPResponse.load(resp.content)
        data = r["response_bytes"]["response"].parsed["tbs_response_data"]
        single = data["responses"][0]
        assert single["cert_status"].name == "good"
        for t in (data["produced_at"], single["this_update"], single["next_update"]):
            assert b"." not in t.contents, t.contents  # no fractional seconds

"""Signing with a real PKCS#11 token (SoftHSM2) holding the demo principal key: one login,
a whole batch, the result valid in pdfsig."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from certs.pki import PkiLayout
from tests.signer.conftest import pdfsig_output, sig_blocks
from tests.tooling import require_path, require_tool

MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
REPO = Path(__file__).resolve().parents[2]

# python-pkcs11 runs in a child process: SoftHSM reads SOFTHSM2_CONF when it is loaded.
_IMPORT_CERTS = r"""
import sys, pkcs11
from pkcs11 import Attribute, ObjectClass, CertificateType
from asn1crypto import pem, x509
lib = pkcs11.lib(sys.argv[1])
token = lib.get_token(token_label="hocba")
with token.open(rw=True, user_pin="123456") as s:
    for label, cid, path in (("principal", b"\x01", sys.argv[2]), ("interm", b"\x02", sys.argv[3])):
        der = pem.unarmor(open(path, "rb").read())[2]
        c = x509.Certificate.load(der)
        s.create_object({Attribute.CLASS: ObjectClass.CERTIFICATE,
                         Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                         Attribute.TOKEN: True, Attribute.LABEL: label, Attribute.ID: cid,
                         Attribute.SUBJECT: c.subject.dump(), Attribute.VALUE: der})
"""


@pytest.fixture(scope="module")
def softhsm_token(test_pki: PkiLayout, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    util = require_tool("softhsm2-util")
    require_path(MODULE, "SoftHSM2 PKCS#11 module")
    d = tmp_path_factory.mktemp("softhsm")
    (d / "tokens").mkdir()
    conf = d / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {d / 'tokens'}\nobjectstore.backend = file\n"
                    "log.level = ERROR\n")
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    run = lambda *a: subprocess.run(a, env=env, check=True, capture_output=True)  # noqa: E731
    run(util, "--init-token", "--free", "--label", "hocba", "--pin", "123456",
        "--so-pin", "12345678")
    key_pem = test_pki.root / "pki" / "keys" / "principal.key.pem"  # PKCS#8, as SoftHSM wants
    run(util, "--import", str(key_pem), "--token", "hocba", "--label", "principal",
        "--id", "01", "--pin", "123456")
    run(sys.executable, "-c", _IMPORT_CERTS, str(MODULE), str(test_pki.cert("principal")),
        str(test_pki.cert("interm")))
    return env


def test_pkcs11_batch_one_login_valid_in_pdfsig(softhsm_token: dict[str, str],
                                                test_pki: PkiLayout, trust_services: object,
                                                record_pdfs: list[bytes], nssdb: str,
                                                tmp_path: Path) -> None:
    files = []
    for i, pdf in enumerate(record_pdfs):
        p = tmp_path / f"rec{i}.pdf"
        p.write_bytes(pdf)
        files.append(str(p))
    out = tmp_path / "out"
    out.mkdir()
    env = {**softhsm_token, "HOCBA_PIN": "123456",
           "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}"}
    proc = subprocess.run(
        [sys.executable, "-m", "hocba", "sign", "--config", str(test_pki.config),
         "--role", "principal", "--level", "B-T", "--pkcs11-module", str(MODULE),
         "--token-label", "hocba", "--key-label", "principal", "--out", str(out), *files],
        env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"{len(files)}/{len(files)}" in proc.stderr
    for f in files:
        blocks = sig_blocks(pdfsig_output(nssdb, out / Path(f).name))
        assert blocks.get("Sig_principal", "").startswith("Signature is Valid"), blocks


def test_pkcs11_wrong_pin_refused(softhsm_token: dict[str, str], test_pki: PkiLayout,
                                  record_pdfs: list[bytes], tmp_path: Path) -> None:
    p = tmp_path / "rec.pdf"
    p.write_bytes(record_pdfs[0])
    env = {**softhsm_token, "HOCBA_PIN": "000000",
           "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}"}
    proc = subprocess.run(
        [sys.executable, "-m", "hocba", "sign", "--config", str(test_pki.config),
         "--role", "principal", "--pkcs11-module", str(MODULE), "--token-label", "hocba",
         "--in-place", str(p)], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode in (1, 2) and "PIN" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert p.read_bytes() == record_pdfs[0]

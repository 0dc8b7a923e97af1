"""Real token and trust-store fixtures shared by the suites: a SoftHSM2 token holding the
test principal's key, and an NSS database trusting the test root (for poppler's pdfsig)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from certs.pki import PkiLayout
from tests.tooling import require_path, require_tool

SOFTHSM_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")

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


def make_softhsm_token(test_pki: PkiLayout, d: Path) -> dict[str, str]:
    """Token 'hocba' (PIN 123456) with the principal's key and chain; returns the environment
    (SOFTHSM2_CONF) a process needs to see it."""
    util = require_tool("softhsm2-util")
    require_path(SOFTHSM_MODULE, "SoftHSM2 PKCS#11 module")
    (d / "tokens").mkdir()
    conf = d / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {d / 'tokens'}\nobjectstore.backend = file\n"
                    "log.level = ERROR\n")
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}

    def run(*a: str) -> None:
        subprocess.run(a, env=env, check=True, capture_output=True)

    run(util, "--init-token", "--free", "--label", "hocba", "--pin", "123456",
        "--so-pin", "12345678")
    key_pem = test_pki.root / "pki" / "keys" / "principal.key.pem"  # PKCS#8, as SoftHSM wants
    run(util, "--import", str(key_pem), "--token", "hocba", "--label", "principal",
        "--id", "01", "--pin", "123456")
    run(sys.executable, "-c", _IMPORT_CERTS, str(SOFTHSM_MODULE), str(test_pki.cert("principal")),
        str(test_pki.cert("interm")))
    return env


def make_nssdb(anchor: Path, d: Path) -> str:
    """An NSS database trusting ``anchor``, for ``pdfsig -nssdir``."""
    certutil = require_tool("certutil")
    subprocess.run([certutil, "-N", "-d", f"sql:{d}", "--empty-password"], check=True)
    subprocess.run([certutil, "-A", "-d", f"sql:{d}", "-n", "hocba-test-root", "-t", "CT,C,C",
                    "-i", str(anchor)], check=True)
    return f"sql:{d}"


def pdfsig_output(nssdb: str, path: Path) -> str:
    """poppler's ``pdfsig`` report of ``path``, trusting what ``nssdb`` trusts (no OCSP)."""
    pdfsig = require_tool("pdfsig")
    proc = subprocess.run([pdfsig, "-nssdir", nssdb, "-no-ocsp", str(path)],
                          capture_output=True, text=True, timeout=60)
    return proc.stdout


def sig_blocks(output: str) -> dict[str, str]:
    """Field name -> the 'Signature Validation' line of each pdfsig signature block."""
    blocks: dict[str, str] = {}
    name = None
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("- Signature Field Name:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("- Signature Validation:") and name:
            blocks[name] = line.split(":", 1)[1].strip()
    return blocks


def pdfsig_blocks(nssdb: str, path: Path) -> dict[str, str]:
    return sig_blocks(pdfsig_output(nssdb, path))

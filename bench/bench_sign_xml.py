"""Benchmark: XAdES signing of record books, records/s on one core.

Compares hocba's XadesSigner (one per batch, as `hocba sign` builds it) with
signxml used directly (an ``XAdESSigner`` per file, key loaded once), at B-B and
at B-T. signxml has no B-T; its B-T row adds the same RFC 3161 request over the
SignatureValue with pyHanko's client, so both rows pay the same TSA round trip.

    .venv/bin/python bench/bench_sign_xml.py [--count N]

Uses a fresh test PKI with its own live TSA on loopback.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def records(n: int) -> list[bytes]:
    from tests.signer._xades_fixtures import record_xml

    base = record_xml()
    # Distinct documents (different pupil numbers), same size as a real two-year record.
    return [base.replace(b"046218000123", f"{46218000000 + i:012d}".encode()) for i in range(n)]


def rate(fn, docs: list[bytes]) -> float:
    fn(docs[0])  # warm-up (imports, first TSA connection)
    t = time.perf_counter()
    for d in docs:
        fn(d)
    return len(docs) / (time.perf_counter() - t)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=200)
    args = ap.parse_args()

    from cryptography.hazmat.primitives.serialization import pkcs12
    from lxml import etree
    from pyhanko.sign.signers import SimpleSigner
    from pyhanko.sign.timestamps import HTTPTimeStamper
    from signxml import DigestAlgorithm
    from signxml.xades import XAdESSigner as SignxmlXAdES

    from certs.pki import create_pki
    from certs.services import TrustServices
    from ground.config import load_config
    from ground.vocab import Level, Role
    from ground.xmlsafe import parse_xml
    from signer.context import SigningContext
    from signer.xades import XadesSigner, c14n

    tmp = Path(tempfile.mkdtemp(prefix="bench-xades-"))
    layout, _ = create_pki(tmp, port=free_port(), kind="test")
    cfg = load_config(layout.config)
    docs = records(args.count)
    p12 = layout.p12("teacher").read_bytes()
    key, cert, extra = pkcs12.load_key_and_certificates(p12, b"123456")
    tsa = HTTPTimeStamper(cfg.timestamp.url)

    def ours(level: Level, check_rules: bool = False):
        signer = SimpleSigner.load_pkcs12(layout.p12("teacher"), passphrase=b"123456")
        ctx = SigningContext(signer=signer, role=Role.TEACHER, level=level, config=cfg,
                             timestamper=tsa if level is not Level.B_B else None)
        return XadesSigner(ctx, check_rules=check_rules).sign

    def signxml_direct(with_ts: bool):
        loop = asyncio.new_event_loop()

        def sign(data: bytes) -> bytes:
            root = parse_xml(data).getroot()
            s = SignxmlXAdES(claimed_roles=["teacher"], digest_algorithm=DigestAlgorithm.SHA256)
            sig = s.sign(root, key=key, cert=[cert, *extra])
            if with_ts:
                value = sig.find(".//{http://www.w3.org/2000/09/xmldsig#}SignatureValue")
                digest = hashlib.sha256(c14n(value)).digest()
                loop.run_until_complete(tsa.async_timestamp(digest, "sha256"))
            return etree.tostring(sig)

        return sign

    rows = []
    with TrustServices(layout.certomancer, port=cfg.services.port):
        for level_name, level, with_ts in (("B-B", Level.B_B, False), ("B-T", Level.B_T, True)):
            n = len(docs) if level is Level.B_B else max(20, len(docs) // 4)
            rows.append((level_name, "hocba XadesSigner", rate(ours(level), docs[:n])))
            rows.append((level_name, "hocba + record rules", rate(ours(level, True), docs[:n])))
            rows.append((level_name, "signxml XAdESSigner", rate(signxml_direct(with_ts), docs[:n])))

    print("hocba validates every record against the XSD (plus unique Ids, NFC) before signing;")
    print("'+ record rules' also runs records.rules; signxml validates nothing.")
    print(f"{'level':6} {'implementation':22} {'records/s/core':>15}")
    for level_name, impl, r in rows:
        print(f"{level_name:6} {impl:22} {r:15.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""PAdES verification throughput: pyHanko per signature vs hocba's Verifier.

N two-signature records (teacher + principal, B-T, the test PKI), the trust
services (OCSP, CRL, TSA) up on loopback, online revocation for both:

- pyHanko as its documentation shows it: a fresh ``ValidationContext(trust_roots=...,
  allow_fetching=True, revocation_mode="require")`` and ``validate_pdf_signature``
  per signature;
- hocba: one ``Verifier`` for the whole run (anchors parsed once, OCSP/CRL
  responses cached until their nextUpdate), ``verify()`` per file — the full
  report: integrity, coverage, strict diff analysis, timestamps, roles, order;
- hocba as ``hocba verify FILE...`` runs a batch: ``verifier.batch`` on every core (the
  Verifier built once before the workers fork; files read by the workers; reports in
  file order). pyHanko's line is one process, as its documentation uses it.

Usage: .venv/bin/python bench/bench_verify.py [--count N] [--jobs N]
"""
from __future__ import annotations

import argparse
import io
import socket
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_records(layout, cfg, count: int) -> list[bytes]:  # type: ignore[no-untyped-def]
    from certs.pki import DEMO_PIN
    from ground.vocab import Level, Role
    from signer.batch import Batch
    from signer.keys import KeySource
    from tests.signer.pdfs import sample_pdfs

    pdfs = sample_pdfs(count, seed=3)
    for role in ("teacher", "principal"):
        with Batch(cfg, Role(role), Level.B_T, KeySource(p12=layout.p12(role)), DEMO_PIN,
                   precheck=False) as b:
            pdfs = [b.sign(p)[1] for p in pdfs]
    return pdfs


def run_pyhanko(root_pem: Path, records: list[bytes]) -> tuple[float, int]:
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    root = load_cert_from_pemder(str(root_pem))
    ok = 0
    t = time.perf_counter()
    for data in records:
        reader = PdfFileReader(io.BytesIO(data))
        for sig in reader.embedded_signatures:
            vc = ValidationContext(trust_roots=[root], allow_fetching=True, revocation_mode="require")
            status = validate_pdf_signature(sig, vc)
            ok += bool(status.bottom_line)
    return len(records) / (time.perf_counter() - t), ok


def run_hocba(cfg, records: list[bytes]) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    from ground.vocab import Indication
    from verifier.core import Verifier
    from ground.policy import Policy
    from verifier.runtime import configure_process

    configure_process()

    verifier = Verifier(Policy.from_config(cfg))
    ok = 0
    t = time.perf_counter()
    for i, data in enumerate(records):
        r = verifier.verify(data, name=f"rec-{i}.pdf")
        ok += r.indication is Indication.TOTAL_PASSED
    return len(records) / (time.perf_counter() - t), ok


def run_hocba_batch(cfg, records: list[bytes], tmp: Path, jobs: int) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """``hocba verify FILE...`` on every core: verifier.batch (forked workers, one Verifier
    built before the fork, reports back in file order). Files read from disk by the workers."""
    from ground.policy import Policy
    from ground.vocab import Indication
    from verifier.batch import verify_paths
    from verifier.core import Verifier
    from verifier.report import Report

    names = []
    for i, data in enumerate(records):
        p = tmp / f"rec-{i:05d}.pdf"
        p.write_bytes(data)
        names.append(str(p))
    verifier = Verifier(Policy.from_config(cfg))
    t = time.perf_counter()
    ok = sum(isinstance(r, Report) and r.indication is Indication.TOTAL_PASSED
             for r in verify_paths(verifier, names, jobs=jobs))
    return len(records) / (time.perf_counter() - t), ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=60)
    ap.add_argument("--jobs", type=int, default=0,
                    help="worker processes for the batch line (default: every core)")
    args = ap.parse_args()
    from verifier.batch import default_jobs

    jobs = args.jobs or default_jobs()

    from certs.pki import create_pki
    from certs.services import TrustServices
    from ground.config import load_config

    with tempfile.TemporaryDirectory() as tmp:
        layout, _ = create_pki(Path(tmp) / "pki", port=_free_port(), kind="test")
        cfg = load_config(layout.config)
        with TrustServices(layout.certomancer, port=cfg.services.port):
            print(f"signing {args.count} two-signature records (B-T)...", file=sys.stderr, flush=True)
            records = make_records(layout, cfg, args.count)
            ph_rate, ph_ok = run_pyhanko(layout.anchor, records)
            hb_rate, hb_ok = run_hocba(cfg, records)
            bt_rate, bt_ok = run_hocba_batch(cfg, records, Path(tmp), jobs)
    print(f"{'verifier':<46} {'records/s':>10} {'passed':>8}")
    print(f"{'pyHanko validate_pdf_signature (fresh VC/sig)':<46} {ph_rate:>10.1f} "
          f"{ph_ok:>5}/{2 * args.count}")
    print(f"{'hocba Verifier (one per run, full report)':<46} {hb_rate:>10.1f} "
          f"{hb_ok:>5}/{args.count}")
    print(f"{f'hocba verify, {jobs} worker processes (batch)':<46} {bt_rate:>10.1f} "
          f"{bt_ok:>5}/{args.count}")
    print(f"speed-up, one process (per core): {hb_rate / ph_rate:.1f}x")
    print(f"speed-up, batch on {jobs} cores:    {bt_rate / ph_rate:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

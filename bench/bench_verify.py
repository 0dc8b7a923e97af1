"""PAdES verification throughput: pyHanko per signature vs hocba's Verifier.

N two-signature records (teacher + principal, B-T, the test PKI), the trust
services (OCSP, CRL, TSA) up on loopback, online revocation for both:

- pyHanko as its documentation shows it: a fresh ``ValidationContext(trust_roots=...,
  allow_fetching=True, revocation_mode="require")`` and ``validate_pdf_signature``
  per signature;
- hocba: one ``Verifier`` for the whole run (anchors parsed once, OCSP/CRL
  responses cached until their nextUpdate), ``verify()`` per file — the full
  report: integrity, coverage, strict diff analysis, timestamps, roles, order.
  It runs in a process forked after the records are made (its process-wide
  settings, ``verifier.runtime.configure_process``, never touch pyHanko's run), and
  the two take turns over chunks of ``--chunk`` records, pyHanko first: this
  machine's speed changes by 2x within seconds, and pyHanko's run takes a minute
  while hocba's takes a few seconds, so measured one after the other the ratio
  depended on which seconds hocba happened to get. Taking turns, both sample the
  same minute. The trust services answer both from this process, as before;
- hocba as ``hocba verify FILE...`` runs a batch: ``verifier.batch`` on every core (the
  Verifier built once before the workers fork; files read by the workers; reports in
  file order). pyHanko's line is one process, as its documentation uses it.

Usage: .venv/bin/python bench/bench_verify.py [--count N] [--chunk N] [--jobs N]
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


def pyhanko_pass(root: object, records: list[bytes]) -> tuple[float, int]:
    """Seconds and passed signatures: pyHanko as documented, a fresh ValidationContext
    per signature."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    ok = 0
    t = time.perf_counter()
    for data in records:
        reader = PdfFileReader(io.BytesIO(data))
        for sig in reader.embedded_signatures:
            vc = ValidationContext(trust_roots=[root], allow_fetching=True, revocation_mode="require")
            status = validate_pdf_signature(sig, vc)
            ok += bool(status.bottom_line)
    return time.perf_counter() - t, ok


def _hocba_child(cfg, records: list[bytes], conn) -> None:  # type: ignore[no-untyped-def]
    """The forked hocba side: one Verifier for the whole run; verifies the chunk it is
    told and answers (seconds, passed)."""
    from ground.policy import Policy
    from ground.vocab import Indication
    from verifier.core import Verifier
    from verifier.runtime import configure_process

    configure_process()
    verifier = Verifier(Policy.from_config(cfg))
    conn.send("ready")
    while True:
        msg = conn.recv()
        if msg is None:
            return
        lo, hi = msg
        ok = 0
        t = time.perf_counter()
        for i in range(lo, hi):
            r = verifier.verify(records[i], name=f"rec-{i}.pdf")
            ok += r.indication is Indication.TOTAL_PASSED
        conn.send((time.perf_counter() - t, ok))


def run_interleaved(cfg, root_pem: Path, records: list[bytes],  # type: ignore[no-untyped-def]
                    chunk: int) -> tuple[float, int, float, int]:
    """pyHanko here and hocba in a forked process, taking turns chunk by chunk: (pyHanko
    records/s, passed signatures, hocba records/s, passed records)."""
    import multiprocessing

    from pyhanko.keys import load_cert_from_pemder

    root = load_cert_from_pemder(str(root_pem))
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_hocba_child, args=(cfg, records, child), daemon=True)
    proc.start()
    assert parent.recv() == "ready"
    ph_s = hb_s = 0.0
    ph_ok = hb_ok = 0
    try:
        for lo in range(0, len(records), chunk):
            hi = min(lo + chunk, len(records))
            s, ok = pyhanko_pass(root, records[lo:hi])
            ph_s, ph_ok = ph_s + s, ph_ok + ok
            parent.send((lo, hi))
            s, ok = parent.recv()
            hb_s, hb_ok = hb_s + s, hb_ok + ok
    finally:
        parent.send(None)
        proc.join(30)
    return len(records) / ph_s, ph_ok, len(records) / hb_s, hb_ok


def run_hocba_batch(cfg, records: list[bytes], tmp: Path, jobs: int) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """``hocba verify FILE...`` on every core: verifier.batch (forked workers, one Verifier
    built before the fork, reports back in file order). Files read from disk by the workers."""
    from ground.policy import Policy
    from ground.vocab import Indication
    from verifier.batch import verify_paths
    from verifier.core import Verifier
    from verifier.report import Report
    from verifier.runtime import configure_process

    configure_process()  # as `hocba verify` does at start (pyHanko's turns are over)
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
    ap.add_argument("--chunk", type=int, default=10,
                    help="records per turn when pyHanko and hocba take turns")
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
            ph_rate, ph_ok, hb_rate, hb_ok = run_interleaved(cfg, layout.anchor, records,
                                                             args.chunk)
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

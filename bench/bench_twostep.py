"""Benchmark: overhead of two-step signing per record (prepare + finish, key holder excluded).

For each format and level, a batch of N sample record books (records.sample)
is prepared with ``TwoStep.prepare`` (certificate pre-check once per batch,
per-record checks, signature structure, digests, atomic state on disk), the
digests are signed in-process (the key holder's time, NOT counted), and the
batch is finished with ``TwoStep.finish`` (revocation re-check once per batch,
value checks, embedding, timestamps, validation data, state update). The
one-step path (``signer.batch.Batch.sign`` with the PKCS#12 key, key load and
pre-check excluded) is the reference.

    .venv/bin/python bench/bench_twostep.py [--count N]

Uses a fresh test PKI with its own live TSA/OCSP/CRL on loopback (one core).
"""
from __future__ import annotations

import argparse
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


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=20, help="records per format and level")
    args = ap.parse_args()

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

    from certs.pki import create_pki, load_pkcs12
    from certs.services import TrustServices
    from ground.config import load_config
    from ground.vocab import Level, Role
    from recordbook.pdf import render_pdf
    from recordbook.sample import sample_class
    from recordbook.xmlio import to_xml
    from signer.batch import Batch
    from signer.keys import KeySource
    from signer.precheck import precheck_certificate
    from signer.twostep import TwoStep, load_certificates

    tmp = Path(tempfile.mkdtemp(prefix="bench-twostep-"))
    layout, _ = create_pki(tmp / "pki", port=free_port(), kind="test")
    cfg = load_config(layout.config)
    recs = sample_class(args.count, seed=1)
    docs = {"pdf": [(f"{i}.pdf", render_pdf(r)) for i, r in enumerate(recs)],
            "xml": [(f"{i}.xml", to_xml(r)) for i, r in enumerate(recs)]}
    certs = [layout.cert("principal").read_bytes(), layout.cert("interm").read_bytes()]
    key, _, _ = load_pkcs12(layout.p12("principal"), "123456")

    def key_holder(digest: bytes) -> bytes:
        return bytes(key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256())))

    rows = []
    with TrustServices(layout.certomancer, port=cfg.services.port):
        # Warm-up: imports, fonts, first TSA/OCSP connections.
        ts = TwoStep(cfg, state_dir=tmp / "state")
        w = ts.prepare(docs["pdf"][:1] + docs["xml"][:1], role="principal", certificates=certs)
        ts.finish(w.batch_id, {i.id: key_holder(i.digest) for i in w.items})
        parsed = load_certificates(certs)
        t = time.perf_counter()
        precheck_certificate(parsed[0], parsed[1:], Role.PRINCIPAL, cfg)
        precheck_s = time.perf_counter() - t

        for level in (Level.B_B, Level.B_T, Level.B_LT, Level.B_LTA):
            with Batch(cfg, Role.PRINCIPAL, level, KeySource(p12=layout.p12("principal")),
                       "123456") as one_step:
                for fmt in ("pdf", "xml"):
                    batch_docs = docs[fmt]
                    t = time.perf_counter()
                    prepared = ts.prepare(batch_docs, role="principal", level=level.value,
                                          certificates=certs)
                    t_prep = time.perf_counter() - t
                    assert not prepared.refused, prepared.refused
                    values = {i.id: key_holder(i.digest) for i in prepared.items}  # not timed
                    t = time.perf_counter()
                    done = ts.finish(prepared.batch_id, values)
                    t_fin = time.perf_counter() - t
                    assert done.ok, [r.error for r in done.records]
                    one_step.sign(batch_docs[0][1])  # warm this format's signer
                    t = time.perf_counter()
                    for _, d in batch_docs:
                        one_step.sign(d)
                    t_one = time.perf_counter() - t
                    n = len(batch_docs)
                    rows.append((level.value, fmt, 1000 * t_prep / n, 1000 * t_fin / n,
                                 1000 * (t_prep + t_fin) / n, 1000 * t_one / n))

    print(f"{args.count} records per batch; pre-check of the certificate (chain, OCSP): "
          f"{1000 * precheck_s:.0f} ms per batch, run at prepare and again at finish "
          f"(included below, amortised over the batch).")
    print("Key holder's signing time excluded. One-step = Batch.sign with the PKCS#12 key "
          "(key load and pre-check excluded).")
    print(f"{'level':6} {'fmt':4} {'prepare ms':>11} {'finish ms':>10} {'two-step ms':>12} "
          f"{'one-step ms':>12} {'overhead ms':>12}")
    for level, fmt, p, f, both, one in rows:
        print(f"{level:6} {fmt:4} {p:11.1f} {f:10.1f} {both:12.1f} {one:12.1f} {both - one:12.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""PAdES B-B signing throughput: pyHanko used directly vs hocba's batch signer.

100 sample record PDFs (records.sample when present, else small fpdf2 records),
the same files for both, one process each, B-B, the demo teacher key:

- pyHanko direct: ``SimpleSigner.load_pkcs12`` once, ``PdfSigner.sign_pdf`` per file;
- hocba: ``signer.batch.Batch`` (key loaded once, CMS from templates, size
  estimate reused, appearance font subset made once), ``sign()`` per file;
- hocba on every core (worker processes, key loaded once per worker);
- ``openssl speed -seconds 2 rsa2048`` sign/s: the cost of the RSA operation alone.

Usage: .venv/bin/python bench/bench_sign_pdf.py [--count N]
"""
from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]


def _records(count: int, cache: Path) -> list[Path]:
    cache.mkdir(parents=True, exist_ok=True)
    paths = [cache / f"rec-{i:03d}.pdf" for i in range(count)]
    if not all(p.exists() for p in paths):
        from tests.signer.pdfs import sample_pdfs

        for p, data in zip(paths, sample_pdfs(count, seed=1)):
            p.write_bytes(data)
    return paths


def run_pyhanko(p12: str, files: list[str]) -> float:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    data = [Path(f).read_bytes() for f in files]
    signer = signers.SimpleSigner.load_pkcs12(p12, passphrase=b"123456")
    meta = signers.PdfSignatureMetadata(field_name="Sig_teacher")
    t = time.perf_counter()
    for d in data:
        w = IncrementalPdfFileWriter(io.BytesIO(d))
        signers.PdfSigner(meta, signer).sign_pdf(w)
    return len(data) / (time.perf_counter() - t)


def run_hocba(config: str, files: list[str]) -> float:
    from ground.config import load_config
    from ground.vocab import Level, Role
    from signer.batch import Batch
    from signer.keys import KeySource

    cfg = load_config(config)
    data = [Path(f).read_bytes() for f in files]
    batch = Batch(cfg, Role.TEACHER, Level.B_B, KeySource(p12=cfg.signing.teacher_key),
                  "123456", precheck=False)
    batch.sign(data[0])  # warm-up: builds the per-batch templates (font subset, CMS)
    t = time.perf_counter()
    for d in data:
        batch.sign(d)
    return len(data) / (time.perf_counter() - t)


def run_hocba_parallel(config: str, files: list[str], out: str) -> float:
    from ground.config import load_config
    from ground.vocab import Level, Role
    from signer.batch import run_files
    from signer import batch as batch_mod
    from signer.keys import KeySource

    cfg = load_config(config)
    batch_mod.PARALLEL_THRESHOLD = 1
    # the pre-check needs the trust services; B-B throughput is about signing itself
    orig = batch_mod.Batch.__init__

    def no_precheck(self, *a, **kw):  # type: ignore[no-untyped-def]
        kw["precheck"] = False
        orig(self, *a, **kw)

    batch_mod.Batch.__init__ = no_precheck  # type: ignore[method-assign]
    t = time.perf_counter()
    res = run_files(cfg, Role.TEACHER, Level.B_B, KeySource(p12=cfg.signing.teacher_key),
                    "123456", [Path(f) for f in files], Path(out), jobs=os.cpu_count())
    dt = time.perf_counter() - t
    assert all(r.ok for r in res), [r.error for r in res if not r.ok][:3]
    return len(files) / dt


def openssl_rsa2048() -> float | None:
    try:
        proc = subprocess.run(["openssl", "speed", "-seconds", "2", "rsa2048"],
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"rsa\s+2048 bits\s+\S+s\s+\S+s\s+([\d.]+)", proc.stdout)
    return float(m.group(1)) if m else None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--child", nargs=3, metavar=("KIND", "ARG", "FILES"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, arg, listfile = args.child
        files = Path(listfile).read_text().split("\n")
        if kind == "pyhanko":
            rate = run_pyhanko(arg, files)
        elif kind == "hocba":
            rate = run_hocba(arg, files)
        else:
            cfg, out = arg.split("|")
            rate = run_hocba_parallel(cfg, files, out)
        print(json.dumps({"rate": rate}))
        return 0

    from certs.pki import create_pki

    work = Path(tempfile.gettempdir()) / "hocba-bench-pdf"
    layout, _ = create_pki(work / "pki", kind="demo")
    files = _records(args.count, work / "records")
    listfile = work / "files.txt"
    listfile.write_text("\n".join(map(str, files)))

    def child(kind: str, arg: str) -> float:
        out = subprocess.run([sys.executable, __file__, "--child", kind, arg, str(listfile)],
                             capture_output=True, text=True, check=True)
        return float(json.loads(out.stdout.strip().splitlines()[-1])["rate"])

    ph = child("pyhanko", str(layout.p12("teacher")))
    ours = child("hocba", str(layout.config))
    outdir = work / "out"
    outdir.mkdir(exist_ok=True)
    par = child("parallel", f"{layout.config}|{outdir}")
    cores = os.cpu_count() or 1
    rsa = openssl_rsa2048()
    rows = [
        ("pyHanko direct (1 process)", ph, ph),
        ("hocba batch (1 process)", ours, ours),
        (f"hocba batch ({cores} workers, incl. start-up)", par, par / cores),
    ]
    print(f"PAdES B-B, {len(files)} sample records, RSA-2048, {cores} cores")
    print(f"{'':44} {'sig/s':>9} {'sig/s/core':>11}")
    for name, rate, per_core in rows:
        print(f"{name:44} {rate:9.1f} {per_core:11.1f}")
    print(f"{'speed-up hocba / pyHanko (per core)':44} {ours / ph:9.1f}x")
    if rsa:
        print(f"{'openssl speed rsa2048 sign/s (1 core)':44} {rsa:9.1f}")
        print(f"{'hocba per core / RSA limit':44} {ours / rsa:9.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Offline verification of B-LTA record PDFs (issue 14): files/s of one process.

N record PDFs as ``hocba demo`` makes them (the MOET-style record of
``recordbook.pdf``), signed teacher B-T -> principal B-T -> school seal B-LTA
(three signatures, the DSS and a document timestamp) while the test PKI's
services run; the services are then stopped and one ``Verifier`` verifies every
file from the embedded validation data only (as ``hocba demo`` does).

``--baseline TREE``: the same measurement, on the same files and in the same run,
with the code of another source tree (e.g. ``git worktree add /tmp/base main``),
alternating rounds (``--repeat``) so that a busy machine affects both alike; the
speed-up is reported per round.

``--jobs N``: this tree's files verified as ``hocba verify --jobs N`` does (worker
processes, ``verifier.batch``); 0 = every core.

Usage: .venv/bin/python bench/bench_verify_lta.py [--count N] [--repeat R] [--baseline TREE] [--jobs N]
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_records(layout, cfg, count: int) -> list[bytes]:  # type: ignore[no-untyped-def]
    from certs.pki import DEMO_PIN
    from ground.vocab import Level, Role
    from recordbook.pdf import render_pdf
    from recordbook.sample import sample_class
    from signer.batch import Batch
    from signer.keys import KeySource

    pdfs = [render_pdf(rec) for rec in sample_class(count, seed=0)]
    for role, level in (("teacher", Level.B_T), ("principal", Level.B_T), ("seal", Level.B_LTA)):
        with Batch(cfg, Role(role), level, KeySource(p12=layout.p12(role)), DEMO_PIN,
                   precheck=False) as b:
            pdfs = [b.sign(p)[1] for p in pdfs]
    return pdfs


def measure(config: Path, files: list[Path], jobs: int = 1) -> dict[str, object]:
    """Verify ``files`` with one Verifier (this process's source tree); rate and verdicts.

    ``jobs`` > 1: as ``hocba verify`` runs a batch, ``verifier.batch`` on that many worker
    processes (trees without it - the code before - verify one file after another, as
    that code's ``hocba verify`` did). CPU time is then the workers' too."""
    from collections import Counter

    from ground.config import load_config
    from ground.policy import Policy
    from verifier.core import Verifier
    from verifier.runtime import configure_process

    configure_process()
    verifier = Verifier(Policy.from_config(load_config(config)))
    try:
        from verifier.batch import verify_paths
    except ImportError:
        jobs = 1
    import resource

    def cpu_now() -> float:
        own, kids = (resource.getrusage(resource.RUSAGE_SELF),
                     resource.getrusage(resource.RUSAGE_CHILDREN))
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    data = [f.read_bytes() for f in files]
    t, c = time.perf_counter(), cpu_now()
    if jobs > 1:
        reports = list(verify_paths(verifier, [str(f) for f in files], jobs=jobs))
    else:
        reports = [verifier.verify(d, name=f.name) for d, f in zip(data, files)]
    seconds, cpu = time.perf_counter() - t, cpu_now() - c
    import verifier.core as core

    return {"rate": len(files) / seconds, "ms_per_file": 1000 * seconds / len(files),
            "cpu_ms_per_file": 1000 * cpu / len(files),
            "verdicts": dict(Counter(r.indication.value for r in reports)), "jobs": jobs,
            "code": str(Path(core.__file__).resolve().parents[1])}


def _measure_in(tree: Path, config: Path, files_dir: Path, jobs: int = 1) -> dict[str, object]:
    """``measure`` in a fresh process running ``tree``'s code."""
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--measure", str(config), str(files_dir),
         "--jobs", str(jobs)],
        check=True, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(tree)}, cwd=str(tree))
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--baseline", type=Path, default=None,
                    help="another source tree to measure on the same files (alternating)")
    ap.add_argument("--keep", type=Path, default=None,
                    help="write the PKI and signed files here (reused when present)")
    ap.add_argument("--jobs", type=int, default=1,
                    help="worker processes for this tree (as `hocba verify --jobs`; 0: every "
                         "core); the baseline is measured as its own code verified")
    ap.add_argument("--measure", nargs=2, metavar=("CONFIG", "DIR"), help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.measure:
        sys.path[:0] = [os.getcwd()]
        files = sorted(Path(args.measure[1]).glob("*.pdf"))
        print(json.dumps(measure(Path(args.measure[0]), files, args.jobs)))
        return 0

    sys.path[:0] = [str(REPO)]
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        files_dir = root / "signed"
        config = root / "pki" / "hocba.toml"
        if not (config.exists() and len(list(files_dir.glob("*.pdf"))) == args.count):
            from certs.pki import create_pki
            from certs.services import TrustServices
            from ground.config import load_config

            layout, _ = create_pki(root / "pki", port=_free_port(), kind="test")
            cfg = load_config(layout.config)
            print(f"signing {args.count} records teacher B-T -> principal B-T -> seal B-LTA...",
                  file=sys.stderr, flush=True)
            with TrustServices(layout.certomancer, port=cfg.services.port):
                records = make_records(layout, cfg, args.count)
            files_dir.mkdir(parents=True, exist_ok=True)
            for i, data in enumerate(records):
                (files_dir / f"rec-{i:04d}.pdf").write_bytes(data)
        # The services are down from here on: verification uses embedded data only.
        trees = [("hocba (this tree)", REPO)]
        if args.baseline is not None:
            trees.insert(0, ("baseline " + str(args.baseline), args.baseline.resolve()))
        print(f"{'round':<6} {'code':<44} {'files/s':>8} {'ms/file':>8} {'CPU ms':>7}  verdicts")
        ratios, cpu_ratios = [], []
        for r in range(args.repeat):
            rates, cpus = {}, {}
            for label, tree in trees:
                res = _measure_in(tree, config, files_dir,
                                  1 if tree != REPO else (args.jobs or os.cpu_count() or 1))
                rates[label] = float(res["rate"])  # type: ignore[arg-type]
                cpus[label] = float(res["cpu_ms_per_file"])  # type: ignore[arg-type]
                shown = f"{label} x{res.get('jobs', 1)}"
                print(f"{r + 1:<6} {shown[:44]:<44} {res['rate']:>8.1f} "
                      f"{res['ms_per_file']:>8.1f} {res['cpu_ms_per_file']:>7.1f}  "
                      f"{res['verdicts']}", flush=True)
                assert Path(str(res["code"])) == tree.resolve(), res["code"]
            if len(trees) == 2:
                ratios.append(rates[trees[1][0]] / rates[trees[0][0]])
                cpu_ratios.append(cpus[trees[0][0]] / cpus[trees[1][0]])
        if ratios:
            print(f"speed-up per round (wall): {', '.join(f'{x:.2f}x' for x in ratios)}")
            print(f"speed-up per round (CPU):  {', '.join(f'{x:.2f}x' for x in cpu_ratios)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

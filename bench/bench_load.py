"""Load test of the verifier service under gunicorn on loopback (bounded, stops by itself).

A fresh demo PKI with its trust services (OCSP, CRL, TSA) on loopback, a few
records signed by teacher, principal and seal, then gunicorn serving
``verifier.app:create_app()`` with the settings of docs/deploy.md, and
``--clients`` concurrent clients sending ``--requests`` mixed requests in
total (at most ``--seconds``): one signed PDF as a raw body, a tampered one,
two files as multipart, a ZIP batch of three, and the web page. Every
response is checked (status and verdict); any error makes the exit code 1.

Usage: .venv/bin/python bench/bench_load.py [--clients 8] [--requests 300] [--seconds 120]
                                           [--workers 2] [--threads 4]
"""
from __future__ import annotations

import argparse
import io
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_records(layout: Any, cfg: Any, count: int) -> list[bytes]:
    from certs.pki import DEMO_PIN
    from ground.vocab import Level, Role
    from recordbook.pdf import render_pdf
    from recordbook.sample import sample_record
    from signer.batch import Batch
    from signer.keys import KeySource

    pdfs = [render_pdf(sample_record(i)) for i in range(count)]
    for role, level in (("teacher", Level.B_T), ("principal", Level.B_T), ("seal", Level.B_LT)):
        with Batch(cfg, Role(role), level, KeySource(p12=layout.p12(role)), DEMO_PIN,
                   precheck=False) as b:
            pdfs = [b.sign(p)[1] for p in pdfs]
    return pdfs


def tamper(pdf: bytes) -> bytes:
    marker = b"/HocbaSchoolYear ("
    at = pdf.index(marker) + len(marker)
    return pdf[:at] + (b"1" if pdf[at:at + 1] != b"1" else b"2") + pdf[at + 1:]


def zip_of(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


@dataclass
class Sample:
    kind: str
    seconds: float
    ok: bool
    detail: str = ""


def scenarios(base: str, signed: list[bytes], bad: bytes) -> list[tuple[str, Callable[[Any, int], Sample]]]:
    api = base + "/api/v1/verify"
    batch = zip_of({f"lop/hs{i:02d}.pdf": signed[i % len(signed)] for i in range(3)})

    def expect(kind: str, r: Any, t0: float, verdicts: list[str]) -> Sample:
        dt = time.perf_counter() - t0
        if r.status_code != 200:
            return Sample(kind, dt, False, f"HTTP {r.status_code}: {r.text[:200]}")
        got = [x["indication"] for x in r.json()["results"]]
        return Sample(kind, dt, got == verdicts, "" if got == verdicts else f"got {got}")

    def raw_pdf(s: Any, i: int) -> Sample:
        t0 = time.perf_counter()
        r = s.post(api, data=signed[i % len(signed)], headers={"Content-Type": "application/pdf"},
                   timeout=60)
        return expect("raw_pdf", r, t0, ["TOTAL_PASSED"])

    def tampered(s: Any, i: int) -> Sample:
        t0 = time.perf_counter()
        r = s.post(api + "?lang=en", data=bad, headers={"Content-Type": "application/pdf"},
                   timeout=60)
        return expect("tampered", r, t0, ["TOTAL_FAILED"])

    def multipart(s: Any, i: int) -> Sample:
        t0 = time.perf_counter()
        r = s.post(api, files=[("file", ("a.pdf", signed[i % len(signed)], "application/pdf")),
                               ("file", ("b.pdf", bad, "application/pdf"))], timeout=60)
        return expect("multipart2", r, t0, ["TOTAL_PASSED", "TOTAL_FAILED"])

    def zipped(s: Any, i: int) -> Sample:
        t0 = time.perf_counter()
        r = s.post(api, data=batch, headers={"Content-Type": "application/zip"}, timeout=60)
        return expect("zip3", r, t0, ["TOTAL_PASSED"] * 3)

    def page(s: Any, i: int) -> Sample:
        t0 = time.perf_counter()
        r = s.get(base + "/", timeout=30)
        dt = time.perf_counter() - t0
        return Sample("page", dt, r.status_code == 200, f"HTTP {r.status_code}")

    # The mix: 4 raw, 2 tampered, 2 multipart, 1 zip, 1 page out of every 10.
    return [("raw_pdf", raw_pdf)] * 4 + [("tampered", tampered)] * 2 + \
           [("multipart2", multipart)] * 2 + [("zip3", zipped), ("page", page)]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()

    import requests

    from certs.pki import create_pki
    from certs.services import TrustServices
    from ground.config import load_config

    with tempfile.TemporaryDirectory(prefix="hocba-load-") as tmp:
        layout, _ = create_pki(Path(tmp) / "pki", port=_free_port(), kind="demo")
        cfg = load_config(layout.config)
        services = TrustServices(layout.certomancer, port=cfg.services.port)
        services.start()
        gunicorn: subprocess.Popen[bytes] | None = None
        audit_lines, server_errors = 0, []
        try:
            signed = make_records(layout, cfg, 4)
            bad = tamper(signed[0])
            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            env = {**os.environ, "HOCBA_CONFIG": str(layout.config),
                   "PYTHONPATH": str(REPO)}
            cmd = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                   "--workers", str(args.workers), "--threads", str(args.threads),
                   "--worker-class", "gthread", "--timeout", "150",
                   "--worker-tmp-dir", "/dev/shm" if os.path.isdir("/dev/shm") else tmp,
                   "--log-level", "warning", "verifier.app:create_app()"]
            log_path = Path(tmp) / "gunicorn.log"
            log_file = open(log_path, "wb")  # one audit line per file: keep it off the table
            gunicorn = subprocess.Popen(cmd, env=env, cwd=tmp, stdout=log_file, stderr=log_file)
            deadline = time.monotonic() + 30
            while True:
                try:
                    if requests.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                if time.monotonic() > deadline or gunicorn.poll() is not None:
                    print("gunicorn did not come up:\n" + log_path.read_text()[-3000:],
                          file=sys.stderr)
                    return 1
                time.sleep(0.2)

            mix = scenarios(base, signed, bad)
            # Warm every worker (imports, OCSP cache) outside the measurement.
            with requests.Session() as s:
                for i in range(args.workers * 2):
                    mix[0][1](s, i)

            samples: list[Sample] = []
            lock = threading.Lock()
            counter = iter(range(args.requests))
            stop_at = time.monotonic() + args.seconds

            def client() -> None:
                with requests.Session() as s:
                    while time.monotonic() < stop_at:
                        with lock:
                            i = next(counter, None)
                        if i is None:
                            return
                        kind, fn = mix[i % len(mix)]
                        try:
                            sample = fn(s, i)
                        except Exception as e:  # a transport error is an error
                            sample = Sample(kind, 0.0, False, f"{type(e).__name__}: {e}")
                        with lock:
                            samples.append(sample)

            t0 = time.perf_counter()
            threads = [threading.Thread(target=client) for _ in range(args.clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
        finally:
            if gunicorn is not None:
                gunicorn.send_signal(signal.SIGTERM)
                try:
                    gunicorn.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    gunicorn.kill()
                log_file.close()
                audit_lines = log_path.read_text(errors="replace").count("verified sha256=")
                server_errors = [ln for ln in log_path.read_text(errors="replace").splitlines()
                                 if " ERROR " in ln or "Traceback" in ln]
            services.stop()

    errors = [s for s in samples if not s.ok]
    lat = [s.seconds for s in samples]
    files = sum({"raw_pdf": 1, "tampered": 1, "multipart2": 2, "zip3": 3, "page": 0}[s.kind]
                for s in samples if s.ok)
    print(f"gunicorn gthread: {args.workers} workers x {args.threads} threads; "
          f"{args.clients} clients; {len(samples)} requests in {wall:.1f} s")
    print(f"{'kind':<11} {'n':>4} {'p50 ms':>8} {'p95 ms':>8}")
    for kind in ("raw_pdf", "tampered", "multipart2", "zip3", "page"):
        ks = [s.seconds for s in samples if s.kind == kind]
        if ks:
            print(f"{kind:<11} {len(ks):>4} {pct(ks, 50) * 1000:>8.0f} {pct(ks, 95) * 1000:>8.0f}")
    if lat:
        print(f"{'all':<11} {len(lat):>4} {pct(lat, 50) * 1000:>8.0f} {pct(lat, 95) * 1000:>8.0f}")
        print(f"throughput: {len(samples) / wall:.1f} requests/s, {files / wall:.1f} files verified/s")
    print(f"server log: {audit_lines} audit lines (sha256 + verdict), "
          f"{len(server_errors)} error lines")
    print(f"errors: {len(errors)}")
    for e in errors[:10]:
        print(f"  {e.kind}: {e.detail}")
    for line in server_errors[:5]:
        print(f"  server: {line}")
    return 1 if errors or server_errors or not samples else 0


if __name__ == "__main__":
    sys.exit(main())

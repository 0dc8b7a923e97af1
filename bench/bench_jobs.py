"""Bulk verification jobs (CONTRACT 10): 1 worker vs 2 workers on one Redis, and a kill.

A fresh demo PKI with its trust services (OCSP, CRL, TSA) on loopback; a few
records signed by teacher (B-T), principal (B-T) and seal (B-LT), as PDF and as
XML, plus a tampered copy of each; a ZIP of ``--files`` entries cycling through
them (identical bytes repeat: every file is still verified on its own, only the
verifier's trust caches - anchors, OCSP answers until nextUpdate - are shared,
as in production). redis-server runs on a free loopback port with the
persistence of docs/deploy.md (AOF, fsync every second, noeviction); the
verifier app (``create_app``, in this process) takes the ZIP at
``POST /api/v1/jobs`` and ``hocba worker`` processes verify it.

Scenarios (``--scenarios``): ``1x1`` one worker with one process, ``2x1`` two
workers with one process each, ``1x2`` one worker with two processes. For each:
wall time from the POST to ``done``, the POST itself (parse the ZIP, store it), the
time until the first report is stored (workers start while the POST still writes),
peak RSS of each worker's main and pool processes, CPU seconds per file of the
pool processes, and the load average (the machine may be shared). Then the kill
run (unless ``--no-kill``): 2x1 again, the pool process of worker A SIGKILLed by
its PID at 25 %, the whole of worker B (main and pool) SIGKILLed at 50 %; the job
must still give every file exactly once, in order, with its verdict.

Every result is checked (count, order, verdict per file); any mismatch: exit 1.

Usage: .venv/bin/python bench/bench_jobs.py [--files 2000] [--scenarios 1x1,2x1,1x2]
                                           [--no-kill] [--distinct 3] [--repeat R]
"""
from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_records(layout: Any, cfg: Any, distinct: int) -> list[tuple[str, bytes]]:
    """(extension, bytes): ``distinct`` signed PDFs and XMLs, one tampered copy of each."""
    from certs.pki import DEMO_PIN
    from ground.vocab import Level, Role
    from recordbook.pdf import render_pdf
    from recordbook.sample import sample_record
    from recordbook.xmlio import to_xml
    from signer.batch import Batch
    from signer.keys import KeySource

    docs = [render_pdf(sample_record(i)) for i in range(distinct)] + \
        [to_xml(sample_record(100 + i)) for i in range(distinct)]
    for role, level in (("teacher", Level.B_T), ("principal", Level.B_T), ("seal", Level.B_LT)):
        with Batch(cfg, Role(role), level, KeySource(p12=layout.p12(role)), DEMO_PIN,
                   precheck=False) as b:
            docs = [b.sign(d)[1] for d in docs]
    out = [("pdf", d) for d in docs[:distinct]] + [("xml", d) for d in docs[distinct:]]
    pdf, xml = docs[0], docs[distinct]
    marker = b"/HocbaSchoolYear ("
    at = pdf.index(marker) + len(marker)
    out.append(("pdf", pdf[:at] + (b"1" if pdf[at:at + 1] != b"1" else b"2") + pdf[at + 1:]))
    at = xml.index(b"<Diem>") + len(b"<Diem>")
    out.append(("xml", xml[:at] + (b"1" if xml[at:at + 1] != b"1" else b"2") + xml[at + 1:]))
    return out


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class Worker:
    def __init__(self, config: Path, log: Path, concurrency: int,
                 env: dict[str, str] | None = None) -> None:
        self.log = log
        self.out = open(log, "wb")
        self.concurrency = concurrency
        full = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
        full.pop("HOCBA_CONFIG", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hocba", "worker", "--config", str(config),
             "--concurrency", str(concurrency)],
            env=full, stdout=self.out, stderr=subprocess.STDOUT)
        self.peak_main = 0
        self.peak_pool = 0
        self.cpu: dict[int, float] = {}
        self.cpu_main = 0.0
        self.base: dict[int, float] = {}

    def mark(self) -> None:
        """CPU time so far (imports, building the verifier) is not the job's."""
        self.base = {p: cpu_seconds(p) for p in [self.proc.pid, *self.pool()]}

    def job_cpu(self) -> tuple[float, float]:
        """CPU seconds since mark(): pool processes, main process."""
        pool = sum(c - self.base.get(p, 0.0) for p, c in self.cpu.items())
        return pool, self.cpu_main - self.base.get(self.proc.pid, 0.0)

    def pool(self) -> list[int]:
        return children(self.proc.pid)

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit("worker exited:\n" + self.log.read_text()[-3000:])
            if len(self.pool()) >= self.concurrency and b" ready." in self.log.read_bytes():
                time.sleep(2.0)  # the pool processes build their verifier at start
                return
            time.sleep(0.1)
        raise SystemExit("worker not ready:\n" + self.log.read_text()[-3000:])

    def sample(self) -> None:
        self.peak_main = max(self.peak_main, rss_kb(self.proc.pid))
        self.cpu_main = max(self.cpu_main, cpu_seconds(self.proc.pid))
        for p in self.pool():
            self.peak_pool = max(self.peak_pool, rss_kb(p))
            self.cpu[p] = cpu_seconds(p)

    def kill(self) -> None:
        pool = self.pool()
        os.kill(self.proc.pid, signal.SIGKILL)
        for p in pool:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            pool = self.pool()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()
            for p in pool:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.out.close()


@dataclass
class Run:
    name: str
    workers: int
    processes: int
    files: int
    submit: float = 0.0
    first: float = 0.0
    total: float = 0.0
    rss_main: list[int] = field(default_factory=list)
    rss_pool: list[int] = field(default_factory=list)
    cpu: float = 0.0
    cpu_main: float = 0.0
    cpu_redis: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)
    attempts: int = 0
    redis_peak: int = 0
    report_bytes: int = 0
    round: int = 0
    ok: bool = True
    detail: str = ""


def run_job(client: Any, body: bytes, workers: list[Worker], n: int,
            expected: list[str], names: list[str], redis: Any, run: Run,
            on_progress: Any = None) -> tuple[float, float, float, str]:
    stop = threading.Event()

    def sampler() -> None:
        while not stop.is_set():
            for w in workers:
                w.sample()
            try:
                run.redis_peak = max(run.redis_peak, int(redis.info("memory")["used_memory"]))
            except Exception:
                pass
            stop.wait(0.5)

    first_written: list[float] = []

    def watch_first() -> None:
        """When the first report lands in Redis (workers start while the POST still
        writes the upload; the client learns the job id only when the POST answers)."""
        while not stop.is_set() and not first_written:
            for key in redis.scan_iter("hocba:job:*:results"):
                if redis.hlen(key):
                    first_written.append(time.perf_counter() - t0)
                    return
            time.sleep(0.01)

    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    t0 = time.perf_counter()
    watcher = threading.Thread(target=watch_first, daemon=True)
    watcher.start()
    r = client.post("/api/v1/jobs", data=body, content_type="application/zip")
    t_submit = time.perf_counter() - t0
    if r.status_code != 202:
        stop.set()
        return t_submit, 0.0, 0.0, f"POST: HTTP {r.status_code} {r.data[:300]!r}"
    job = r.json["job_id"]
    t_first = 0.0
    while True:
        st = client.get(f"/api/v1/jobs/{job}").json
        now = time.perf_counter() - t0
        if st["done"] >= 1 and not t_first:
            t_first = first_written[0] if first_written else now
        if on_progress is not None:
            on_progress(st["done"])
        if st["status"] == "done":
            break
        if now > 3600:
            stop.set()
            return t_submit, t_first, now, f"not done after an hour: {st}"
        time.sleep(0.05)
    total = time.perf_counter() - t0
    stop.set()
    thread.join()
    for w in workers:
        w.sample()
    text = client.get(f"/api/v1/jobs/{job}/results").get_data(as_text=True)
    run.report_bytes = len(text.encode()) // max(1, n)
    lines = text.splitlines()
    got = [json.loads(x) for x in lines]
    problems = []
    if len(got) != n or st["done"] != n or sum(st["counts"].values()) != n:
        problems.append(f"{len(got)} results, done={st['done']}, counts={st['counts']}")
    if [g["file"] for g in got] != names:
        problems.append("results not in submission order")
    wrong = sum(g["indication"] != e for g, e in zip(got, expected))
    if wrong:
        problems.append(f"{wrong} wrong verdicts")
    if redis.hlen(f"hocba:job:{{{job}}}:results") != n:
        problems.append("results hash size differs")
    attempts = sum(int(v) for v in redis.hvals(f"hocba:job:{{{job}}}:attempts"))
    client.delete(f"/api/v1/jobs/{job}")
    return t_submit, t_first, total, "; ".join(problems) or f"attempts={attempts}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--distinct", type=int, default=3,
                    help="distinct signed records per format (default 3)")
    ap.add_argument("--scenarios", default="1x1,2x1,1x2",
                    help="WORKERSxPROCESSES, comma-separated (default 1x1,2x1,1x2)")
    ap.add_argument("--no-kill", action="store_true", help="skip the kill run")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run the scenarios this many rounds (a shared machine is noisy); "
                         "speed-ups are against the 1x1 run of the same round")
    args = ap.parse_args()

    import redis

    from certs.pki import create_pki
    from certs.services import TrustServices
    from ground.config import load_config
    from ground.policy import Policy
    from verifier.app import create_app
    from verifier.core import Verifier
    from verifier.runtime import configure_process

    configure_process()
    binary = "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else "redis-server"
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="hocba-jobs-") as tmp_s:
        tmp = Path(tmp_s)
        layout, _ = create_pki(tmp / "pki", port=_free_port(), kind="demo")
        base_cfg = load_config(layout.config)
        services = TrustServices(layout.certomancer, port=base_cfg.services.port)
        services.start()
        port = _free_port()
        redis_proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp),
             "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
             "--maxmemory-policy", "noeviction", "--logfile", str(tmp / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        workers: list[Worker] = []
        try:
            rds: Any = redis.Redis(host="127.0.0.1", port=port)
            for _ in range(100):
                try:
                    rds.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
            cfg_path = layout.config.with_name("hocba-jobs.toml")
            cfg_path.write_text(
                layout.config.read_text(encoding="utf-8")
                + f'\n[jobs]\nbroker = "redis://127.0.0.1:{port}/0"\n'
                + "\n[limits]\nmax_file_mb = 2048.0\nmax_zip_entries = 100000\n"
                + "max_zip_total_mb = 4096.0\n", encoding="utf-8")
            cfg = load_config(cfg_path)

            t = time.perf_counter()
            distinct = make_records(layout, base_cfg, args.distinct)
            verifier = Verifier(Policy.from_config(cfg))
            verdicts = [verifier.verify(d, name="x").indication.value for _, d in distinct]
            print(f"{len(distinct)} distinct records signed and verified in "
                  f"{time.perf_counter() - t:.1f} s: {verdicts}", file=sys.stderr)
            names, expected = [], []
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
                for i in range(args.files):
                    ext, data = distinct[i % len(distinct)]
                    name = f"lop{i // 40:02d}/hs{i:04d}.{ext}"
                    zf.writestr(name, data)
                    names.append(f"upload.zip/{name}")
                    expected.append(verdicts[i % len(distinct)])
            body = buf.getvalue()
            print(f"ZIP of {args.files} records: {len(body) / 1e6:.0f} MB", file=sys.stderr)
            client = create_app({"HOCBA_CONFIG_OBJ": cfg}).test_client()

            plan = [(s, None, rnd) for rnd in range(1, args.repeat + 1)
                    for s in args.scenarios.split(",") if s.strip()]
            if not args.no_kill:
                plan.append(("2x1", "kill", 0))
            for spec, kind, rnd in plan:
                w_count, procs = (int(x) for x in spec.strip().split("x"))
                rds.flushall()
                env = {"HOCBA_JOBS_VISIBILITY_TIMEOUT": "15"} if kind == "kill" else None
                workers = [Worker(cfg_path, tmp / f"w{spec}-{kind or 'run'}-{i}.log", procs, env)
                           for i in range(w_count)]
                for w in workers:
                    w.wait_ready()
                run = Run(f"{spec}{' kill' if kind else ''}", w_count, procs, args.files)
                run.round = rnd
                for w in workers:
                    w.mark()
                load0 = os.getloadavg()[0]
                redis_cpu0 = cpu_seconds(redis_proc.pid)
                progress: Any = None
                if kind == "kill":
                    state = {"pool": False, "whole": False}

                    def progress(done: int, ws: list[Worker] = workers,
                                 state: dict[str, bool] = state) -> None:
                        if not state["pool"] and done >= args.files // 4:
                            state["pool"] = True
                            pid = ws[0].pool()[0]
                            os.kill(pid, signal.SIGKILL)
                            print(f"  killed pool process {pid} of worker A at {done}",
                                  file=sys.stderr)
                        if not state["whole"] and done >= args.files // 2:
                            state["whole"] = True
                            ws[1].kill()
                            print(f"  killed worker B ({ws[1].proc.pid}) with its pool at "
                                  f"{done}", file=sys.stderr)
                print(f"run {run.name} ...", file=sys.stderr, flush=True)
                run.submit, run.first, run.total, detail = run_job(
                    client, body, workers, args.files, expected, names, rds, run, progress)
                run.load = (load0, os.getloadavg()[0])
                run.ok = detail.startswith("attempts=")
                run.detail = detail
                if run.ok:
                    run.attempts = int(detail.split("=")[1])
                run.rss_main = [w.peak_main for w in workers]
                run.rss_pool = [w.peak_pool for w in workers]
                run.cpu = sum(w.job_cpu()[0] for w in workers)
                run.cpu_main = sum(w.job_cpu()[1] for w in workers)
                run.cpu_redis = cpu_seconds(redis_proc.pid) - redis_cpu0
                for w in workers:
                    w.stop()
                workers = []
                runs.append(run)
                print(f"  {run.total:.1f} s, first result {run.first:.2f} s, {detail}",
                      file=sys.stderr, flush=True)
        finally:
            for w in workers:
                w.stop()
            redis_proc.terminate()
            redis_proc.wait()
            services.stop()

    base = next((r for r in runs if r.name == "1x1"), None)
    bases = {r.round: r for r in runs if r.name == "1x1" and r.ok}
    print(f"\n{args.files} records per job ({args.distinct} PDF + {args.distinct} XML signed "
          f"records and one tampered copy of each, repeated), {os.cpu_count()} CPUs\n")
    print("| run | files/s | total | speed-up | POST answered | first report stored | RSS main / pool (MB) "
          "| CPU s/file | Redis peak | load 1 min (start → end) | check |")
    print("|---|---:|---:|---:|---:|---:|---|---:|---:|---|---|")
    for r in runs:
        # against the 1x1 run of the same round (the kill run: the first one)
        ref = bases.get(r.round) or base
        speed = f"{ref.total / r.total:.2f}x" if ref and r.ok else "-"
        rss = ", ".join(f"{m / 1024:.0f} / {p / 1024:.0f}" for m, p in zip(r.rss_main, r.rss_pool))
        check = ("every file once, in order, right verdict"
                 + (f" ({r.attempts - r.files} taken up again)" if r.attempts > r.files else "")
                 if r.ok else "FAILED: " + r.detail)
        label = f"{r.name} (round {r.round})" if args.repeat > 1 and r.round else r.name
        print(f"| {label} | {r.files / r.total:.1f} | {r.total:.1f} s | {speed} | "
              f"{r.submit:.1f} s | {r.first:.2f} s | {rss} | {r.cpu / r.files:.3f} | "
              f"{r.redis_peak / 1e6:.0f} MB | "
              f"{r.load[0]:.1f} → {r.load[1]:.1f} | {check} |")
    print("\nCPU per file beside the verification itself: worker main processes (Celery: "
          "receive, hand to the pool, acknowledge) and redis-server:")
    for r in runs:
        print(f"- {r.name}{f' (round {r.round})' if args.repeat > 1 and r.round else ''}: pool {1000 * r.cpu / r.files:.1f} ms, main "
              f"{1000 * r.cpu_main / r.files:.1f} ms, redis {1000 * r.cpu_redis / r.files:.1f} ms")
    if runs:
        print(f"\nA report (JSON, kept in Redis until the job expires): about "
              f"{runs[0].report_bytes / 1024:.1f} KB; the ZIP: {len(body) / args.files / 1024:.0f} "
              f"KB per file.")
    if base:
        per_core = 3600 * base.files / base.total
        print(f"\nOne worker process (one core): {per_core:,.0f} records/hour with this mix.")
    return 0 if all(r.ok for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())

"""``hocba worker`` (CONTRACT 10): verify the files of bulk jobs from the Redis broker.

Any number of workers on any number of hosts share one broker (``[jobs] broker``);
each runs ``--concurrency`` processes (default: one per CPU), each with one
verifier built at start. SIGTERM stops it after the files in hand (docs/deploy.md).
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ground.errors import UsageError


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser(
        "worker",
        help="xác thực tệp của các lô lớn (Celery, Redis) — run a bulk verification worker",
        description="Chạy một tiến trình xác thực cho các lô lớn (POST /api/v1/jobs). "
                    "Run a worker for bulk verification jobs (POST /api/v1/jobs): it takes "
                    "files from the Redis broker of [jobs] broker, verifies them with the "
                    "configuration's trust anchors and policy, and writes each report back "
                    "to Redis. Start as many as needed, on any number of hosts.")
    p.add_argument("--config", type=Path, default=None,
                   help="tệp cấu hình có [jobs] broker và chứng thư gốc (mặc định: "
                        "$HOCBA_CONFIG) — hocba.toml with [jobs] broker and the trust anchors "
                        "(default: $HOCBA_CONFIG)")
    p.add_argument("--concurrency", type=int, default=None, metavar="N",
                   help="số tiến trình xác thực (mặc định: số CPU) — verifying processes "
                        "(default: the number of CPUs)")
    p.add_argument("--loglevel", default="INFO",
                   choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                   help="mức ghi nhật ký (mặc định INFO: mỗi tệp một dòng, mã băm và kết "
                        "quả) — log level (default INFO: one line per file, hash and verdict)")
    p.set_defaults(func=_worker)


def _worker(args: argparse.Namespace) -> int:
    from ground.config import load_config
    from verifier.jobs import engine

    if args.concurrency is not None and not 1 <= args.concurrency <= 256:
        raise UsageError(f"--concurrency must be between 1 and 256, got {args.concurrency}")
    cfg = load_config(args.config)
    engine.broker_url(cfg)  # [jobs] broker is required: one clear line otherwise
    engine.ttl_seconds(cfg)
    if not cfg.trust.anchors and not cfg.trust.bundles:
        raise UsageError("no trust anchors: pass --config (or set HOCBA_CONFIG) with "
                         "[trust] anchors, e.g. the hocba.toml made by `hocba certs demo`")
    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    from verifier.jobs.worker import run_worker

    return run_worker(cfg, args.concurrency, args.loglevel)

"""Run a Celery worker for the jobs (``hocba worker``).

A prefork pool of ``concurrency`` processes (default: the number of CPUs); each
builds its verifier when it starts. Any number of workers on any number of hosts
may share one broker: each has its own node name (``hocba-<pid>@<host>``).
SIGTERM: warm shutdown (running files are finished, reserved ones go back to the
queue); a second SIGTERM or SIGQUIT: cold shutdown.
"""
from __future__ import annotations

import logging
import os
import socket
from typing import Any

from celery import signals

from ground.config import Config
from verifier.jobs import engine, tasks


def run_worker(cfg: Config, concurrency: int | None = None, loglevel: str = "INFO") -> int:
    app = engine.make_celery(cfg)
    tasks.configure(cfg)
    tasks.register(app)
    signals.worker_process_init.connect(tasks.warm_up, weak=False)
    signals.after_setup_logger.connect(_quiet_celery, weak=False)
    worker = app.Worker(
        hostname=f"hocba-{os.getpid()}@{socket.gethostname()}",
        concurrency=concurrency or os.cpu_count() or 1,
        pool_cls="prefork",
        loglevel=loglevel,
        queues=[engine.QUEUE],
        optimization="fair",
        # Nothing to synchronise with other workers at start (no revokes, no clocks):
        # starts faster and talks less to the broker.
        without_mingle=True,
        without_gossip=True,
        quiet=True,
    )
    worker.start()
    return int(worker.exitcode or 0)


def _quiet_celery(**_: Any) -> None:
    """One log line per file (``verifier.jobs``: job, index, hash, verdict), not three:
    Celery's own "received" and "succeeded" lines go."""
    for name in ("celery.worker.strategy", "celery.app.trace"):
        logging.getLogger(name).setLevel(logging.WARNING)

"""The Celery application of the jobs: broker settings, time limits, sending tasks.

One task per file, ``hocba.jobs.verify_file(job_id, index)``, on the queue
``hocba.verify``. The settings that make each file count exactly once, with the
idempotent writes of :mod:`verifier.jobs.store`:

* ``task_acks_late``: a message is acknowledged only after its report is in Redis;
* ``task_reject_on_worker_lost``: a pool process that dies (killed, out of memory)
  puts its message back at once;
* ``worker_prefetch_multiplier = 1``: a worker holds no more messages than it
  has processes, so a dying host takes no queue of reserved files with it;
* ``visibility_timeout``: the messages of a worker that vanished altogether (host
  down, SIGKILL of the main process) are delivered again after this many seconds.
  It must exceed the longest a live worker keeps a message: the hard time limit of
  one file (``[limits] request_timeout`` + 30 s); ``[jobs] visibility_timeout_seconds``,
  default max(300 s, 2 × that). ``HOCBA_JOBS_VISIBILITY_TIMEOUT`` (seconds), when set,
  overrides the configuration (one host's tests or an emergency, without editing files).
* ``unacked_mutex_expire``: min(30 s, the visibility timeout), so that the redelivery
  lock of a worker killed while holding it does not hold files back for kombu's 300 s.
"""
from __future__ import annotations

import os
from typing import Any

from celery import Celery

from ground.config import Config
from ground.errors import ConfigError

QUEUE = "hocba.verify"
TASK = "hocba.jobs.verify_file"


def time_limits(cfg: Config) -> tuple[float, float]:
    """Soft and hard time limit of one file, in seconds."""
    soft = float(cfg.limits.request_timeout)
    return soft, soft + 30.0


def visibility_timeout(cfg: Config) -> int:
    """Seconds: $HOCBA_JOBS_VISIBILITY_TIMEOUT, else ``[jobs] visibility_timeout_seconds``,
    else max(300, 2 × the hard time limit of one file)."""
    env = os.environ.get("HOCBA_JOBS_VISIBILITY_TIMEOUT", "").strip()
    if env:
        try:
            value = int(env)
        except ValueError:
            raise ConfigError("jobs.engine.err.visibility_not_number", value=repr(env)
                              ) from None
        if value < 1:
            raise ConfigError("jobs.engine.err.visibility_too_small")
        return value
    if cfg.jobs.visibility_timeout_seconds is not None:
        return cfg.jobs.visibility_timeout_seconds
    return max(300, int(2 * time_limits(cfg)[1]))


def broker_url(cfg: Config) -> str:
    url = cfg.jobs.broker
    if not url:
        raise ConfigError("jobs.engine.err.no_broker")
    if not url.startswith(("redis://", "rediss://", "unix://")):
        # only the part after the credentials, which must not be shown
        raise ConfigError("jobs.engine.err.bad_broker", url=repr(url.split("@")[-1]))
    return url


def ttl_seconds(cfg: Config) -> int:
    hours = cfg.jobs.result_ttl_hours
    if not hours > 0:
        raise ConfigError("jobs.engine.err.ttl", hours=f"{hours:g}")
    return max(1, int(hours * 3600))


def make_celery(cfg: Config) -> Celery:
    """The Celery app for ``cfg``'s broker (the web process sends, ``hocba worker`` runs)."""
    url = broker_url(cfg)
    soft, hard = time_limits(cfg)
    vt = visibility_timeout(cfg)
    app = Celery("hocba", broker=url, set_as_current=False)
    transport: dict[str, Any] = {
        "visibility_timeout": vt,
        # How often a worker looks for messages of vanished workers to deliver again
        # (every interval x throttle seconds): well within the visibility timeout.
        "unacked_restore_interval": max(1, min(10, vt // 10)),
        "unacked_restore_throttle": 3 if vt >= 120 else 1,
        # The lock a worker takes while it delivers those messages again (a few
        # milliseconds). A worker killed while holding it leaves it behind until it
        # expires: kombu's 300 s would hold every vanished worker's file back that long
        # on top of the visibility timeout. Two workers restoring at once is harmless
        # (each message is moved back under WATCH, and the writes are idempotent).
        "unacked_mutex_expire": min(30, vt),
        "socket_connect_timeout": 5,
        "health_check_interval": 30,
    }
    app.conf.update(
        broker_transport_options=transport,
        broker_connection_retry_on_startup=True,
        task_default_queue=QUEUE,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=True,
        task_soft_time_limit=soft,
        task_time_limit=hard,
        # Reports go to the job store, not to a Celery result backend.
        task_ignore_result=True,
        task_store_errors_even_if_ignored=False,
        task_serializer="json",
        accept_content=["json"],
        worker_send_task_events=False,
        task_send_sent_event=False,
        # A pool process that grew past 1 GB (large PDFs) is replaced after its task.
        worker_max_memory_per_child=1024 * 1024,
        worker_hijack_root_logger=True,
        worker_redirect_stdouts=False,
    )
    return app


def send_files(app: Celery, job_id: str, indices: list[int]) -> None:
    """One task per file, in submission order, over one broker connection."""
    with app.producer_or_acquire() as producer:
        for i in indices:
            app.send_task(TASK, args=[job_id, i], queue=QUEUE, producer=producer)

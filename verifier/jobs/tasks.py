"""What a worker does with one file of a job: claim it, verify it, write its report once.

Each worker process builds ONE :class:`verifier.core.Verifier` (``Policy.from_config``)
when it starts and reuses it for every file, like the web app: trust anchors parsed
once, revocation answers cached until their nextUpdate.

A file always gets exactly one report, whatever happens to the worker:

* verified: the report (as ``POST /api/v1/verify`` would give it);
* not finished within ``[limits] request_timeout``: INDETERMINATE / TRY_LATER, as
  ``/api/v1/verify`` answers at its time limit (soft limit in the pool process; the
  hard limit, 30 s later, kills the process and the main process writes it);
* the process verifying it died ``MAX_ATTEMPTS`` times (a file that crashes or
  exhausts every worker): TOTAL_FAILED / FORMAT_FAILURE instead of a fourth try.
"""
from __future__ import annotations

import logging
import os
import time
from datetime import datetime
from typing import Any

from celery import Celery, Task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from redis.exceptions import RedisError

from ground.config import Config
from ground.errors import HocbaError
from ground.vocab import Indication, SubIndication
from verifier.jobs import engine
from verifier.jobs.store import Claim, JobStore
from verifier.report import Check, Finding, Report, format_failure

log = logging.getLogger("verifier.jobs")

MAX_ATTEMPTS = 3


# Per process: the configuration (set before the pool forks), and what is built from it.
_state: dict[object, Any] = {}


def configure(cfg: Config) -> None:
    _state.clear()
    _state["config"] = cfg


def _config() -> Config:
    cfg = _state.get("config")
    if cfg is None:
        raise RuntimeError("verifier.jobs.tasks.configure(cfg) was not called")
    assert isinstance(cfg, Config)
    return cfg


def _own(name: str, build: Any) -> Any:
    """One ``name`` per process (a forked pool process builds its own)."""
    key = (name, os.getpid())
    if key not in _state:
        _state[key] = build()
    return _state[key]


def store() -> JobStore:
    cfg = _config()
    return _own("store", lambda: JobStore(engine.broker_url(cfg), engine.ttl_seconds(cfg)))  # type: ignore[no-any-return]


def verifier() -> Any:
    """This process's verifier, built once."""
    def build() -> Any:
        from ground.policy import Policy
        from verifier.core import Verifier

        return Verifier(Policy.from_config(_config()))

    return _own("verifier", build)


def warm_up(**_: Any) -> None:
    """Build the verifier when a pool process starts (worker_process_init)."""
    from verifier.runtime import configure_process

    configure_process()
    verifier()
    store()


# -- the reports ----------------------------------------------------------------------

def timed_out(name: str, sha: str, kind: str | None) -> Report:
    seconds = f"{time_limits_soft():g}"
    return Report(file=name, sha256=sha, format=kind, checks=(
        Check("time_limit", False, Finding.of("jobs_time_limit", seconds=seconds),
              Indication.INDETERMINATE, SubIndication.TRY_LATER),))


def time_limits_soft() -> float:
    return engine.time_limits(_config())[0]


def verify_claim(claim: Claim) -> Report:
    """The report of a claimed file, as ``POST /api/v1/verify`` would give it."""
    import hashlib

    sha = hashlib.sha256(claim.data).hexdigest()
    if claim.attempt > MAX_ATTEMPTS:
        return format_failure(claim.name, sha, claim.kind, Finding.of(
            "jobs_worker_lost", attempts=str(claim.attempt - 1)))
    vt = datetime.fromisoformat(claim.validation_time) if claim.validation_time else None
    soft = time_limits_soft()
    start = time.monotonic()
    try:
        report: Report = verifier().verify(claim.data, name=claim.name, validation_time=vt)
    except SoftTimeLimitExceeded:
        return timed_out(claim.name, sha, claim.kind)
    except HocbaError as e:
        report = format_failure(claim.name, sha, claim.kind,
                                Finding.of("format_error", detail=str(e)))
    except Exception as e:  # never lose a file to a fault: a report says what happened
        log.error("verification error sha256=%s error=%s", sha, type(e).__name__)
        report = format_failure(claim.name, sha, claim.kind,
                                Finding.of("jobs_internal_error", error=type(e).__name__))
    if time.monotonic() - start >= soft:
        # The soft limit's exception may have been turned into a finding inside the
        # core: a verdict reached after the limit is not given.
        return timed_out(claim.name, sha, claim.kind)
    return report


def _log(job_id: str, index: int, report: dict[str, Any], seconds: float, written: int) -> None:
    log.info("verified job=%s index=%d sha256=%s indication=%s subindication=%s ms=%d%s",
             job_id, index, report.get("sha256") or "-", report.get("indication"),
             report.get("subindication") or "-", seconds * 1000,
             "" if written == 1 else " (already recorded)" if written == 0 else " (job gone)")


def verify_file(task: Task, job_id: str, index: int) -> str:
    try:
        st = store()
        claim = st.claim(job_id, index)
        if claim is None:
            # A message delivered again (its process died after writing the result, before
            # the acknowledgement), or the job deleted: nothing to do, but say so.
            log.info("skipped job=%s index=%d (%s)", job_id, index,
                     "already recorded" if st.has_result(job_id, index) else "job gone")
            return "skipped"
        start = time.monotonic()
        report = verify_claim(claim).to_dict(claim.lang)
        written = st.record(job_id, index, report)
        _log(job_id, index, report, time.monotonic() - start, written)
        return "recorded" if written == 1 else "duplicate"
    except RedisError as e:
        # The store is unreachable for now: try again (the message is acknowledged only
        # once the retry is queued; if Redis is down altogether, it stays unacknowledged
        # and comes back after the visibility timeout).
        log.warning("job store error job=%s index=%d: %s", job_id, index, type(e).__name__)
        raise task.retry(exc=e, countdown=5, max_retries=None)


class JobTask(Task):  # type: ignore[misc]
    """Writes the file's report when the task itself failed (hard time limit, a fault)."""

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any,
                   einfo: Any) -> None:
        try:
            job_id, index = str(args[0]), int(args[1])
            st = store()
            if st.has_result(job_id, index):
                return
            name, kind, sha, lang = st.describe(job_id, index)
            if isinstance(exc, (TimeLimitExceeded, SoftTimeLimitExceeded)):
                report = timed_out(name, sha, kind)
            else:
                report = format_failure(name, sha, kind, Finding.of(
                    "jobs_internal_error", error=type(exc).__name__))
            data = report.to_dict(lang)
            _log(job_id, index, data, 0.0, st.record(job_id, index, data))
        except Exception as e:  # the message is acknowledged anyway; say so
            log.error("could not record the failure of task %s: %s", task_id, type(e).__name__)


def register(app: Celery) -> Any:
    """Register the task on ``app`` (the worker's)."""
    return app.task(name=engine.TASK, bind=True, base=JobTask)(verify_file)

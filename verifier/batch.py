"""Many files on every core: one :class:`~verifier.core.Verifier`, forked workers,
reports in submission order (issue 14: a university verifies thousands of transcripts).

The verifier is built (trust anchors parsed, process set-up done) *before* the workers
are forked, so each worker starts with it in memory and nothing is parsed again; each
worker reads its files itself (the parent never holds the batch in memory) and sends
back the :class:`~verifier.report.Report` (pickled, ~40 KB for a record with four
signatures). Results come back in the order the files were given, whatever order the
workers finish in.

A failure on one file never touches the others: ``Verifier.verify`` answers every input
with a report, and a worker that dies anyway (killed, out of memory, a crash in a C
library) breaks only the pool: the files not yet answered are then verified one per
fresh process, so only the file that kills its process is reported as an internal
error.

Workers are forked (POSIX); where ``fork`` is not available, or for one worker or a
handful of files, the files are verified in this process, one after another.
"""
from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Union

from verifier.core import Verifier, detect_format
from verifier.report import Finding, Report, format_failure

# Below this many files per worker, forking costs more than it saves.
_MIN_FILES_PER_WORKER = 2


@dataclass(frozen=True)
class Unreadable:
    """A file that could not be read (``detail``: the operating system's words)."""

    name: str
    detail: str


Outcome = Union[Report, Unreadable]

# What the forked workers inherit (set by the parent just before forking).
_job: tuple[Verifier, datetime | None, int] | None = None


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _verify_path(verifier: Verifier, name: str, validation_time: datetime | None,
                 max_bytes: int) -> Outcome:
    try:
        with open(name, "rb") as fh:
            data = fh.read(max_bytes)
    except OSError as e:
        return Unreadable(name, e.strerror or str(e))
    return verifier.verify(data, name=name, validation_time=validation_time)


def _work(name: str) -> Outcome:
    assert _job is not None, "worker started without a job"
    verifier, validation_time, max_bytes = _job
    return _verify_path(verifier, name, validation_time, max_bytes)


def verify_paths(verifier: Verifier, names: Sequence[str], *, jobs: int,
                 validation_time: datetime | None = None,
                 max_bytes: int | None = None) -> Iterator[Outcome]:
    """One :class:`Report` (or :class:`Unreadable`) per name, in the order given.

    ``jobs``: worker processes (1: this process). ``max_bytes``: read at most this
    much of a file (the verifier refuses a file over its limit from the first bytes
    past it); default: the policy's file-size limit plus one byte.
    """
    if max_bytes is None:
        max_bytes = int(verifier.policy.limits.max_file_mb * 1024 * 1024) + 1
    jobs = min(jobs, len(names) // _MIN_FILES_PER_WORKER)
    if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        for name in names:
            yield _verify_path(verifier, name, validation_time, max_bytes)
        return
    global _job
    _job = (verifier, validation_time, max_bytes)
    # A forked worker flushes what it inherited in the std streams' buffers when it
    # ends: flush them first, or a line printed before the batch is printed again.
    sys.stdout.flush()
    sys.stderr.flush()
    done = 0
    # What exists now (the verifier, parsed trust, modules) lives as long as the batch: out
    # of the cyclic GC's sight, so the workers' collections neither scan it nor touch its
    # pages (which fork shares copy-on-write).
    gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=jobs,
                                 mp_context=multiprocessing.get_context("fork")) as pool:
            futures = [pool.submit(_work, name) for name in names]
            try:
                for name, future in zip(names, futures):
                    try:
                        outcome = future.result()
                    except BrokenProcessPool:
                        raise
                    except Exception:  # noqa: BLE001 - e.g. a report that cannot be sent back
                        outcome = _died(name, validation_time, max_bytes)
                    done += 1
                    yield outcome
                return
            except BrokenProcessPool:
                pass
            finally:
                # Leaving early (a broken pool, Ctrl-C, a consumer that stops reading):
                # what has not started is not run.
                for f in futures[done:]:
                    f.cancel()
        # A worker died: the rest one per fresh process, so that only the file that
        # kills its process is lost.
        for name in names[done:]:
            yield _isolated(name, validation_time, max_bytes)
    finally:
        _job = None
        gc.unfreeze()


def _isolated(name: str, validation_time: datetime | None, max_bytes: int) -> Outcome:
    try:
        with ProcessPoolExecutor(max_workers=1,
                                 mp_context=multiprocessing.get_context("fork")) as one:
            return one.submit(_work, name).result()
    except Exception:  # noqa: BLE001 - the process died, or its answer could not come back
        return _died(name, validation_time, max_bytes)


def _died(name: str, validation_time: datetime | None, max_bytes: int) -> Outcome:
    """The report of a file whose verification did not come back from its process (its
    hash over what the verifier would have read: never more than the size limit)."""
    try:
        with open(name, "rb") as fh:
            data = fh.read(max_bytes)
    except OSError as e:
        return Unreadable(name, e.strerror or str(e))
    from dataclasses import replace

    report = format_failure(name, hashlib.sha256(data).hexdigest(), detect_format(data),
                            Finding.of("worker_died"))
    return replace(report, validation_time=validation_time or datetime.now(timezone.utc))

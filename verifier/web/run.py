"""Run the app's verifier over a request's files, within the request's time limit.

Each verification runs on the app's thread pool so the request can stop waiting
when its deadline passes (``limits.request_timeout``): the files not judged by
then get an INDETERMINATE / TRY_LATER report. The log gets one line per file:
its SHA-256, format, verdict and duration; never its name (names of record
files are often the pupil's name) or content.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime
from typing import Any

from ground.errors import HocbaError
from ground.vocab import Indication, SubIndication
from verifier.report import Check, Finding, Report
from verifier.web.uploads import Item, Upload, failure

log = logging.getLogger("verifier.web")



def verify_items(items: Sequence[Item], verifier: Any, executor: Executor, *,
                 timeout: float, validation_time: datetime | None) -> list[Report]:
    deadline = time.monotonic() + timeout
    reports: list[Report] = []
    for item in items:
        if isinstance(item, Report):
            _log(item, 0.0)
            reports.append(item)
            continue
        reports.append(_verify_one(item, verifier, executor, deadline, timeout, validation_time))
    return reports


def _verify_one(up: Upload, verifier: Any, executor: Executor, deadline: float,
                timeout: float, validation_time: datetime | None) -> Report:
    start = time.monotonic()
    sha = up.sha256
    remaining = deadline - start
    report: Report
    if remaining <= 0:
        report = _timed_out(up, sha, timeout)
    else:
        future = executor.submit(verifier.verify, up.data, name=up.name,
                                 validation_time=validation_time)
        try:
            report = future.result(timeout=remaining)
        except FutureTimeout:
            future.cancel()
            report = _timed_out(up, sha, timeout)
        except HocbaError as e:
            # The core refuses input it cannot evaluate (CONTRACT 6: FORMAT_FAILURE).
            report = failure(up.name, sha, up.kind, Finding.of("format_error", detail=str(e)))
        except Exception as e:  # never a 500 for a client's file
            tb = e.__traceback__
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb else "?"
            log.error("verification error sha256=%s error=%s at=%s", sha, type(e).__name__, where)
            report = failure(up.name, sha, up.kind,
                             Finding.of("web_internal_error", error=type(e).__name__))
    _log(report, time.monotonic() - start)
    return report


def _timed_out(up: Upload, sha: str, timeout: float) -> Report:
    return Report(file=up.name, sha256=sha, format=up.kind, checks=(
        Check("time_limit", False, Finding.of("web_time_limit", seconds=f"{timeout:g}"),
              Indication.INDETERMINATE, SubIndication.TRY_LATER),))


def _log(report: Report, seconds: float) -> None:
    sub = report.subindication
    log.info("verified sha256=%s format=%s indication=%s subindication=%s ms=%d",
             report.sha256 or "-", report.format or "-", report.indication.value,
             sub.value if sub else "-", seconds * 1000)

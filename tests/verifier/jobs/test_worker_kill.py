"""Each file exactly once, in submission order, with the right verdict, when a worker dies
mid-job: a pool process killed by its PID (SIGKILL: the message goes back at once,
task_reject_on_worker_lost), and a whole worker killed with its pool (a vanished host: its
message comes back after the visibility timeout, here 4 s)."""
from __future__ import annotations

import io
import os
import signal
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ground.config import Config
from tests.verifier.jobs.conftest import RedisServer
from tests.verifier.jobs.test_jobs_api import JOBS, VERIFY, ndjson, submit, wait_done
from tests.verifier.web.conftest import Records, XmlRecords
from verifier.jobs.engine import make_celery

pytestmark = pytest.mark.slow  # end to end with real worker processes

N = 120


def _files(records: Records, xml_records: XmlRecords) -> tuple[list[tuple[str, bytes]],
                                                               list[str]]:
    kinds = [("pdf", records.signed), ("pdf", records.tampered), ("xml", xml_records.signed),
             ("xml", xml_records.tampered), ("pdf", records.unsigned)]
    files = [(f"hs{i:03d}.{kinds[i % 5][0]}", kinds[i % 5][1]) for i in range(N)]
    return files, [str(i % 5) for i in range(N)]


def _expected(c: FlaskClient, records: Records, xml_records: XmlRecords) -> list[str]:
    out = []
    for data, ctype in ((records.signed, "application/pdf"), (records.tampered, "application/pdf"),
                        (xml_records.signed, "application/xml"),
                        (xml_records.tampered, "application/xml"),
                        (records.unsigned, "application/pdf")):
        [r] = c.post(VERIFY, data=data, content_type=ctype).json["results"]
        out.append(r["indication"])
    assert out[0] == out[2] == "TOTAL_PASSED" and out[1] == out[3] == "TOTAL_FAILED"
    return out


def _wait_progress(c: FlaskClient, job_id: str, at_least: int) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        st = dict(c.get(f"{JOBS}/{job_id}").json)
        if st["done"] >= at_least:
            return st
        assert time.monotonic() < deadline, st
        time.sleep(0.05)


def _check_exactly_once(c: FlaskClient, redis_server: RedisServer, job_id: str,
                        files: list[tuple[str, bytes]], kinds: list[str],
                        verdicts: list[str]) -> int:
    st = wait_done(c, job_id, timeout=600)
    out = ndjson(c, job_id)
    assert len(out) == N == st["total"] == st["done"]
    assert [r["file"] for r in out] == [name for name, _ in files]
    assert [r["indication"] for r in out] == [verdicts[int(k)] for k in kinds]
    counts = {k: sum(r["indication"] == k for r in out)
              for k in ("TOTAL_PASSED", "TOTAL_FAILED", "INDETERMINATE")}
    assert st["counts"] == counts and sum(counts.values()) == N
    r = redis_server.client
    assert r.hlen(f"hocba:job:{{{job_id}}}:results") == N
    assert r.hlen(f"hocba:job:{{{job_id}}}:files") == 0  # every file's bytes dropped once done
    attempts = [int(v) for v in r.hvals(f"hocba:job:{{{job_id}}}:attempts")]
    return sum(attempts)


def _busy_kill(worker: Any) -> bool:
    """SIGKILL the worker's pool process; True when it died holding a task. Only the log
    written after this kill counts (an earlier attempt's lines are already there), and
    the pool's "exited with signal 9" line may come before the task's WorkerLostError:
    that one is waited for a moment longer."""
    [pid] = worker.pool()
    start = len(worker.text())
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    exited_at = None
    while time.monotonic() < deadline:
        log = worker.text()[start:]
        if "WorkerLostError" in log:
            return True
        if exited_at is None and "exited with 'signal 9" in log:
            exited_at = time.monotonic()
        if exited_at is not None and time.monotonic() - exited_at > 3:
            return False
        time.sleep(0.05)
    return False


def test_killing_a_pool_process_mid_job(jobs_app: Flask, start_worker: Callable[..., Any],
                                        redis_clean: RedisServer, records: Records,
                                        xml_records: XmlRecords) -> None:
    c = jobs_app.test_client()
    verdicts = _expected(c, records, xml_records)
    # One consumer until the kill: the job's ~120 files are then still queued behind the
    # file its pool process holds (with two, the job can be over before a kill lands:
    # a record verifies in tens of milliseconds). The second comes in for the rest.
    a = start_worker()
    files, kinds = _files(records, xml_records)
    job = submit(c, {"file": [(io.BytesIO(d), n) for n, d in files]}, "multipart/form-data")
    _wait_progress(c, job["job_id"], 3)
    for _ in range(5):  # until a kill lands while the process holds a file (nearly always)
        if _busy_kill(a):
            break
        a.wait_ready()  # the replacement pool process
    else:
        pytest.fail("no kill landed on a busy pool process")
    assert c.get(job["status_url"]).json["status"] == "running"
    b = start_worker()
    claimed = _check_exactly_once(c, redis_clean, job["job_id"], files, kinds, verdicts)
    # The killed file was taken up again and still counted once: verified a second time,
    # or, when the kill came between writing its result and the acknowledgement, found
    # already recorded by its message delivered again (which may come after the job is
    # done: the other files' results were all in by then).
    job_id = job["job_id"]
    deadline = time.monotonic() + 60
    while True:
        logs = a.text() + b.text()
        found_done = logs.count(f"skipped job={job_id} index=")
        if claimed > N or found_done or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert found_done == logs.count(f"job={job_id} index=") - logs.count(
        f"verified job={job_id} index=")  # a skip for no other reason (a deleted job)
    assert found_done == logs.count("(already recorded)")
    assert (claimed - N) + found_done >= 1
    assert a.proc.poll() is None and b.proc.poll() is None  # the pool replaced its process


def test_killing_a_whole_worker_mid_job(jobs_app: Flask, jobs_config: Config,
                                        start_worker: Callable[..., Any],
                                        redis_clean: RedisServer, records: Records,
                                        xml_records: XmlRecords,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    c = jobs_app.test_client()
    verdicts = _expected(c, records, xml_records)
    env = {"HOCBA_JOBS_VISIBILITY_TIMEOUT": "4"}
    a, b = start_worker(env=env), start_worker(env=env)
    files, kinds = _files(records, xml_records)
    job = submit(c, {"file": [(io.BytesIO(d), n) for n, d in files]}, "multipart/form-data")
    _wait_progress(c, job["job_id"], 10)
    a.kill()  # main process and pool: a host that vanished with a message in hand
    killed = time.monotonic()
    # ... and, as a worker killed at the wrong moment does, with the lock that guards
    # delivering vanished workers' messages again (kombu's Mutex: SET NX EX).
    monkeypatch.setenv("HOCBA_JOBS_VISIBILITY_TIMEOUT", env["HOCBA_JOBS_VISIBILITY_TIMEOUT"])
    transport = make_celery(jobs_config).conf.broker_transport_options  # the workers' own
    redis_clean.client.set("unacked_mutex", "a-dead-worker", nx=True,
                           ex=transport.get("unacked_mutex_expire", 300))  # kombu's default
    st = c.get(job["status_url"]).json
    assert st["status"] == "running" and st["done"] < N
    _check_exactly_once(c, redis_clean, job["job_id"], files, kinds, verdicts)
    # Its file came back within the visibility timeout plus the lock's expiry (4 s + 4 s
    # here; kombu's default lock expiry alone is 300 s), with room for a slow machine.
    assert time.monotonic() - killed < 90
    assert b.proc.poll() is None

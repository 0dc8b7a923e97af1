"""The job store's guarantees, straight against Redis: one result per (job, index),
nothing written for a deleted job, results as a gap-free prefix, a file that kills
its workers gets a report instead of a fourth try."""
from __future__ import annotations

import json
from typing import Any

from ground.config import Config
from tests.verifier.jobs.conftest import RedisServer
from verifier.jobs.store import Decided, JobStore, PendingFile


def _report(name: str, indication: str) -> dict[str, Any]:
    return {"file": name, "sha256": "", "indication": indication, "subindication": None,
            "record": None}


def _store(redis_clean: RedisServer) -> JobStore:
    return JobStore(redis_clean.url, 3600)


def test_a_result_is_written_and_counted_once(redis_clean: RedisServer) -> None:
    st = _store(redis_clean)
    job = st.new_id()
    pending = st.create(job, [PendingFile("a.pdf", "pdf", b"A"), PendingFile("b.pdf", "pdf", b"B"),
                              Decided(_report("c.zip", "TOTAL_FAILED"))],
                        lang="en", validation_time=None)
    assert pending == [0, 1]
    s = st.status(job)
    assert s is not None and (s.state, s.done, s.counts["TOTAL_FAILED"]) == ("running", 1, 1)
    assert st.record(job, 0, _report("a.pdf", "TOTAL_PASSED")) == 1
    # A redelivered task (or a second worker after a visibility timeout) changes nothing.
    assert st.record(job, 0, _report("a.pdf", "INDETERMINATE")) == 0
    assert st.claim(job, 0) is None  # its result is in: nothing to do
    s = st.status(job)
    assert s is not None and s.done == 2
    assert s.counts == {"TOTAL_PASSED": 1, "TOTAL_FAILED": 1, "INDETERMINATE": 0}
    # The file's bytes go once its report is in.
    assert redis_clean.client.hkeys(f"hocba:job:{{{job}}}:files") == [b"1"]


def test_results_are_the_finished_prefix(redis_clean: RedisServer) -> None:
    st = _store(redis_clean)
    job = st.new_id()
    st.create(job, [PendingFile(f"{i}.pdf", "pdf", b"x") for i in range(3)], lang="vi",
              validation_time=None)
    st.record(job, 1, _report("1.pdf", "TOTAL_PASSED"))
    assert list(st.results(job, 3)) == []  # file 0 is still waiting: no gap, no reordering
    st.record(job, 0, _report("0.pdf", "TOTAL_PASSED"))
    assert [line[:16] for line in st.results(job, 3)] == ['{"file":"0.pdf",',
                                                          '{"file":"1.pdf",']
    assert len(list(st.results(job, 3, start=1))) == 1


def test_nothing_is_written_for_a_deleted_job(redis_clean: RedisServer) -> None:
    st = _store(redis_clean)
    job = st.new_id()
    st.create(job, [PendingFile("a.pdf", "pdf", b"A")], lang="vi", validation_time=None)
    claim = st.claim(job, 0)
    assert claim is not None and claim.data == b"A" and claim.attempt == 1
    assert st.delete(job) and not st.delete(job)
    assert st.record(job, 0, _report("a.pdf", "TOTAL_PASSED")) == -1
    assert st.claim(job, 0) is None
    assert list(redis_clean.client.scan_iter("hocba:job:*")) == []


def test_a_file_that_kills_its_workers_gets_a_report(redis_clean: RedisServer,
                                                     jobs_config: Config) -> None:
    from verifier.jobs import tasks

    tasks.configure(jobs_config)
    st = _store(redis_clean)
    job = st.new_id()
    st.create(job, [PendingFile("a.pdf", "pdf", b"%PDF-1.7 ...")], lang="en",
              validation_time=None)
    claims = [st.claim(job, 0) for _ in range(tasks.MAX_ATTEMPTS + 1)]
    assert [c.attempt for c in claims if c] == [1, 2, 3, 4]
    last = claims[-1]
    assert last is not None
    report = tasks.verify_claim(last).to_dict("en")
    assert (report["indication"], report["subindication"]) == ("TOTAL_FAILED", "FORMAT_FAILURE")
    assert "3 times" in report["message"]
    # attempts expire with the job
    ttl = redis_clean.client.ttl(f"hocba:job:{{{job}}}:attempts")
    assert 3500 < ttl <= 3600


def test_a_hard_time_limit_still_gives_the_file_a_report(redis_clean: RedisServer,
                                                         jobs_config: Config) -> None:
    """What the worker's main process does when it killed a pool process at the hard
    limit (Celery runs the task's on_failure there): TRY_LATER, as /api/v1/verify."""
    from celery.exceptions import TimeLimitExceeded

    from verifier.jobs import tasks

    tasks.configure(jobs_config)
    st = _store(redis_clean)
    job = st.new_id()
    st.create(job, [PendingFile("a.pdf", "pdf", b"%PDF-1.7 slow"),
                    PendingFile("b.pdf", "pdf", b"%PDF-1.7 other")], lang="en",
              validation_time=None)
    task = tasks.JobTask()
    task.on_failure(TimeLimitExceeded(150), "t1", [job, 0], {}, None)
    task.on_failure(RuntimeError("boom"), "t2", [job, 1], {}, None)
    task.on_failure(TimeLimitExceeded(150), "t3", [job, 0], {}, None)  # once only
    lines = [json.loads(x) for x in st.results(job, 2)]
    assert [(r["file"], r["indication"], r["subindication"]) for r in lines] == [
        ("a.pdf", "INDETERMINATE", "TRY_LATER"), ("b.pdf", "TOTAL_FAILED", "FORMAT_FAILURE")]
    assert lines[0]["sha256"] and "RuntimeError" in lines[1]["message"]
    s = st.status(job)
    assert s is not None and s.state == "done" and s.counts["INDETERMINATE"] == 1


def test_a_message_delivered_again_after_its_result_is_skipped(
        redis_clean: RedisServer, jobs_config: Config, caplog: Any) -> None:
    """A pool process killed between writing a result and the acknowledgement: the message
    comes back, finds the result in, writes nothing and counts no attempt, and says so."""
    import logging

    from verifier.jobs import tasks

    tasks.configure(jobs_config)
    st = _store(redis_clean)
    job = st.new_id()
    st.create(job, [PendingFile("a.xml", "xml", b"<not-a-record/>")], lang="en",
              validation_time=None)
    with caplog.at_level(logging.INFO, logger=tasks.log.name):
        assert tasks.verify_file(None, job, 0) == "recorded"
        assert tasks.verify_file(None, job, 0) == "skipped"
        assert redis_clean.client.hvals(f"hocba:job:{{{job}}}:attempts") == [b"1"]
        st.delete(job)
        assert tasks.verify_file(None, job, 0) == "skipped"
    lines = [r.getMessage() for r in caplog.records if f"job={job}" in r.getMessage()]
    assert [ln.split(" ", 1)[0] for ln in lines] == ["verified", "skipped", "skipped"]
    assert lines[1].endswith("(already recorded)") and lines[2].endswith("(job gone)")

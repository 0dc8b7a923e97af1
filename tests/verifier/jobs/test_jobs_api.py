"""The bulk jobs API (CONTRACT 10) against a real redis-server and ``hocba worker``."""
from __future__ import annotations

import csv
import io
import json
import os
import time
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ground.config import Config, JobsConfig
from tests.verifier.jobs.conftest import RedisServer, make_jobs_app
from tests.verifier.web.conftest import Records, XmlRecords, make_app, zip_of

JOBS = "/api/v1/jobs"
VERIFY = "/api/v1/verify"
CSV_HEADER = "file,sha256,indication,subindication,student,school,school_year"
COMPARED = ("file", "sha256", "format", "indication", "subindication", "message", "record")


def submit(c: FlaskClient, data: Any, content_type: str, query: str = "") -> dict[str, Any]:
    r = c.post(JOBS + query, data=data, content_type=content_type)
    assert r.status_code == 202, (r.status_code, r.data[:300])
    body = dict(r.json)
    assert set(body) == {"job_id", "status_url", "total"}
    assert body["status_url"] == f"{JOBS}/{body['job_id']}" == r.headers["Location"]
    return body


def wait_done(c: FlaskClient, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        r = c.get(f"{JOBS}/{job_id}")
        assert r.status_code == 200, r.data[:300]
        st = dict(r.json)
        if st["status"] == "done":
            return st
        assert time.monotonic() < deadline, f"job not done in {timeout}s: {st}"
        time.sleep(0.1)


def ndjson(c: FlaskClient, job_id: str, query: str = "") -> list[dict[str, Any]]:
    r = c.get(f"{JOBS}/{job_id}/results{query}")
    assert r.status_code == 200, r.data[:300]
    assert r.mimetype == "application/x-ndjson"
    text = r.get_data(as_text=True)
    assert text == "" or text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def multipart(files: list[tuple[str, bytes]]) -> dict[str, Any]:
    return {"file": [(io.BytesIO(data), name) for name, data in files]}


def redis_keys(redis_server: RedisServer) -> list[bytes]:
    return sorted(redis_server.client.scan_iter("hocba:job:*"))


# -- without [jobs] --------------------------------------------------------------------

def test_without_jobs_config_every_endpoint_is_503(test_config: Config,
                                                   records: Records) -> None:
    c = make_app(test_config).test_client()
    r = c.post(JOBS, data=records.signed, content_type="application/pdf")
    assert r.status_code == 503 and r.json["error"] == "jobs_disabled" and r.json["detail"]
    assert "[jobs]" in c.post(JOBS + "?lang=en", data=b"x",
                              content_type="application/pdf").json["detail"]
    for method, path in (("get", f"{JOBS}/{'0' * 32}"), ("get", f"{JOBS}/{'0' * 32}/results"),
                         ("delete", f"{JOBS}/{'0' * 32}")):
        r = getattr(c, method)(path)
        assert r.status_code == 503 and r.json["error"] == "jobs_disabled"


# -- the whole cycle --------------------------------------------------------------------

@pytest.mark.slow  # starts a worker process
def test_job_cycle_results_in_order_csv_counts_delete(
        jobs_app: Flask, start_worker: Callable[..., Any], redis_clean: RedisServer,
        records: Records, xml_records: XmlRecords) -> None:
    files = [("hs01.pdf", records.signed), ("hs02.pdf", records.tampered),
             ("=cmd|x.xml", xml_records.signed), ("hs04.xml", xml_records.tampered),
             ("hs05.pdf", records.unsigned), ("hs06.pdf", b"%PDF-1.7\n garbage"),
             ("hs07.pdf", records.signed)]
    c = jobs_app.test_client()
    expected = c.post(VERIFY + "?lang=en", data=multipart(files),
                      content_type="multipart/form-data").json["results"]
    job = submit(c, multipart(files), "multipart/form-data", "?lang=en")
    assert job["total"] == len(files)
    st = c.get(job["status_url"]).json
    assert st["status"] == "queued" and st["done"] == 0
    assert st["results_url"] == f"{job['status_url']}/results"
    start_worker()
    st = wait_done(c, job["job_id"])
    assert st["done"] == st["total"] == len(files)
    out = ndjson(c, job["job_id"])
    assert [r["file"] for r in out] == [n for n, _ in files]
    for got, want in zip(out, expected):
        assert {k: got[k] for k in COMPARED} == {k: want[k] for k in COMPARED}
        assert [s["indication"] for s in got["signatures"]] == \
            [s["indication"] for s in want["signatures"]]
    counts = {k: sum(r["indication"] == k for r in out)
              for k in ("TOTAL_PASSED", "TOTAL_FAILED", "INDETERMINATE")}
    assert st["counts"] == counts and sum(counts.values()) == st["total"]
    assert counts["TOTAL_PASSED"] == 3 and counts["TOTAL_FAILED"] >= 3

    r = c.get(f"{JOBS}/{job['job_id']}/results?format=csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    text = r.get_data(as_text=True)
    assert text.splitlines()[0] == CSV_HEADER
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["file"] for row in rows] == ["hs01.pdf", "hs02.pdf", "'=cmd|x.xml",
                                            "hs04.xml", "hs05.pdf", "hs06.pdf", "hs07.pdf"]
    for row, rep in zip(rows, out):
        assert (row["sha256"], row["indication"], row["subindication"]) == \
            (rep["sha256"], rep["indication"], rep["subindication"] or "")
        assert row["student"] == ((rep["record"] or {}).get("student") or "")
    assert rows[0]["student"] == records.student and rows[0]["school_year"]
    # start= skips the lines already read (a client following a running job)
    assert [x["file"] for x in ndjson(c, job["job_id"], "?start=5")] == ["hs06.pdf", "hs07.pdf"]
    assert ndjson(c, job["job_id"], "?start=99") == []
    assert c.get(f"{JOBS}/{job['job_id']}/results?start=5&format=csv").get_data(
        as_text=True).count("\n") == 2  # no header after the first page

    # Every key of the job expires with result_ttl_hours (1 h here).
    keys = redis_keys(redis_clean)
    assert keys, "no job keys"
    for k in keys:
        assert 3500 < redis_clean.client.ttl(k) <= 3600, k

    r = c.delete(f"{JOBS}/{job['job_id']}")
    assert r.status_code == 204 and r.data == b""
    assert redis_keys(redis_clean) == []
    for method, path in (("get", job["status_url"]), ("get", st["results_url"]),
                         ("delete", job["status_url"])):
        r = getattr(c, method)(path)
        assert r.status_code == 404 and r.json["error"] == "job_not_found", path


@pytest.mark.slow  # starts a worker process
def test_validation_time_and_language_reach_the_worker(
        jobs_app: Flask, start_worker: Callable[..., Any], records: Records) -> None:
    c = jobs_app.test_client()
    q = "?validation_time=2001-01-01T00:00:00Z"
    want = c.post(VERIFY + q, data=records.signed, content_type="application/pdf").json
    job = submit(c, records.signed, "application/pdf", q)
    start_worker()
    wait_done(c, job["job_id"])
    [got] = ndjson(c, job["job_id"])
    [want_r] = want["results"]
    assert got["validation_time"] == want_r["validation_time"] == "2001-01-01T00:00:00+00:00"
    assert (got["indication"], got["message"]) == (want_r["indication"], want_r["message"])
    assert got["indication"] != "TOTAL_PASSED"  # nothing was signed in 2001


# -- 404 and parameters ------------------------------------------------------------------

@pytest.mark.parametrize("job_id", ["0" * 32, "nope", "../../etc", "A" * 32, "0" * 33])
def test_unknown_job_is_404(job_id: str, jobs_app: Flask, redis_clean: RedisServer) -> None:
    c = jobs_app.test_client()
    for method, path in (("get", f"{JOBS}/{job_id}"), ("get", f"{JOBS}/{job_id}/results"),
                         ("get", f"{JOBS}/{job_id}/results?format=csv"),
                         ("delete", f"{JOBS}/{job_id}")):
        r = getattr(c, method)(path)
        assert r.status_code == 404, (path, r.status_code)
        assert r.mimetype == "application/json" and r.json["detail"]
    assert c.get(f"{JOBS}/{'0' * 32}?lang=en").json["error"] == "job_not_found"


def test_bad_parameters_are_400(jobs_app: Flask, redis_clean: RedisServer,
                                records: Records) -> None:
    c = jobs_app.test_client()
    for q in ("?lang=fr", "?validation_time=yesterday"):
        a = c.post(VERIFY + q, data=records.signed, content_type="application/pdf")
        b = c.post(JOBS + q, data=records.signed, content_type="application/pdf")
        assert (b.status_code, b.json) == (a.status_code, a.json) and a.status_code == 400
    job = submit(c, records.signed, "application/pdf")
    for q in ("?format=xml", "?start=-1", "?start=abc"):
        r = c.get(f"{JOBS}/{job['job_id']}/results{q}")
        assert r.status_code == 400 and r.json["error"] == "bad_request", q


def test_results_while_queued_are_an_empty_prefix(jobs_app: Flask, redis_clean: RedisServer,
                                                  records: Records) -> None:
    c = jobs_app.test_client()
    job = submit(c, multipart([("a.pdf", records.signed), ("b.pdf", records.signed)]),
                 "multipart/form-data")
    r = c.get(f"{JOBS}/{job['job_id']}/results")
    assert r.status_code == 200 and r.data == b""
    assert r.headers["X-Hocba-Job-Status"] == "queued"
    r = c.get(f"{JOBS}/{job['job_id']}/results?format=csv")
    assert r.get_data(as_text=True).splitlines() == [CSV_HEADER]


def test_answers_match_the_openapi_description(jobs_app: Flask, redis_clean: RedisServer,
                                                test_config: Config, records: Records) -> None:
    """Each documented status of the jobs API, answered for real, fits its schema."""
    from tests.verifier.web import schema_check

    c = jobs_app.test_client()
    spec = c.get("/openapi.json").json
    errors = spec["components"]["schemas"]["Error"]

    def fits(r: Any, path: str, method: str, status: int) -> None:
        assert r.status_code == status, (path, method, r.status_code, r.data[:200])
        assert str(status) in spec["paths"][path][method]["responses"], (path, method, status)
        if status >= 400:
            assert not schema_check.errors(r.json, errors, spec)
        elif r.mimetype == "application/json":
            schema_check.check(spec, path, method, status, r.json)

    r = c.post(JOBS, data=multipart([("a.pdf", records.signed), ("b.zip", b"PK\x03\x04x")]),
               content_type="multipart/form-data")
    fits(r, JOBS, "post", 202)
    job_id = r.json["job_id"]
    fits(c.post(JOBS + "?lang=fr", data=records.signed, content_type="application/pdf"),
         JOBS, "post", 400)
    fits(c.post(JOBS, data=b"x", content_type="image/png"), JOBS, "post", 415)
    one = f"{JOBS}/{{job_id}}"
    fits(c.get(f"{JOBS}/{job_id}"), one, "get", 200)
    fits(c.get(f"{JOBS}/{'0' * 32}"), one, "get", 404)
    res = f"{JOBS}/{{job_id}}/results"
    r = c.get(f"{JOBS}/{job_id}/results?start=0")
    fits(r, res, "get", 200)
    documented = spec["paths"][res]["get"]["responses"]["200"]
    assert set(r.headers.keys()) >= set(documented["headers"]) - {"Content-Disposition"}
    assert r.mimetype in documented["content"]
    for line in r.get_data(as_text=True).splitlines():  # the decided ZIP's report
        assert not schema_check.errors(json.loads(line), documented["content"][
            "application/x-ndjson"]["x-item-schema"], spec)
    fits(c.get(f"{JOBS}/{job_id}/results?format=pdf"), res, "get", 400)
    fits(c.delete(f"{JOBS}/{job_id}"), one, "delete", 204)
    fits(c.delete(f"{JOBS}/{job_id}"), one, "delete", 404)
    off = make_app(test_config).test_client()
    fits(off.post(JOBS, data=records.signed, content_type="application/pdf"), JOBS, "post", 503)


def test_expired_job_is_404_and_gone_from_redis(jobs_config: Config, redis_clean: RedisServer,
                                                records: Records, trust_services: Any) -> None:
    cfg = jobs_config.with_overrides(jobs=JobsConfig(broker=jobs_config.jobs.broker,
                                                     result_ttl_hours=1 / 3600))
    c = make_jobs_app(cfg).test_client()
    job = submit(c, records.signed, "application/pdf")
    assert c.get(job["status_url"]).status_code == 200
    time.sleep(2.2)
    assert c.get(job["status_url"]).status_code == 404
    assert redis_keys(redis_clean) == []


# -- the same answers as /api/v1/verify ------------------------------------------------

def _garbage() -> dict[str, tuple[str, bytes]]:
    return {
        "multipart_no_boundary": ("multipart/form-data", b"--x\r\n\r\nabc"),
        "multipart_truncated": ("multipart/form-data; boundary=B",
                                b'--B\r\nContent-Disposition: form-data; name="file"; '
                                b'filename="a.pdf"\r\n\r\n%PDF-1.7 trunc'),
        "multipart_only_closing": ("multipart/form-data; boundary=B", b"--B--\r\n"),
        "multipart_no_file": ("multipart/form-data; boundary=B",
                              b'--B\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n'
                              b"--B--\r\n"),
        "png": ("image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100),
        "urlencoded": ("application/x-www-form-urlencoded", b"file=abc"),
        "octet_png": ("application/octet-stream", b"\x89PNG\r\n\x1a\n"),
        "pdf_null_bytes": ("application/pdf", b"\x00" * 10000),
        "xml_billion_laughs": ("text/xml", (
            b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><l>&b;&b;&b;</l>')),
        "xml_utf16_junk": ("application/xml", b"\xff\xfe<\x00a\x00\xd8"),
        "zip_random": ("application/zip", b"PK\x05\x06" + os.urandom(200)),
        "zip_damaged": ("application/zip", b"PK\x03\x04 broken" * 10),
        "no_content_type": ("", os.urandom(300)),
        "weird_content_type": ("a/b/c;;;=", b"abc"),
        "random_octets": ("application/octet-stream", os.urandom(5000)),
        "empty_body": ("", b""),
    }


def _compare(app: Flask, cases: dict[str, tuple[str, Any]],
             start_worker: Callable[..., Any] | None = None) -> dict[str, int]:
    """POST every case to both endpoints: the same error, or the same reports."""
    c = app.test_client()
    jobs: dict[str, tuple[str, list[dict[str, Any]]]] = {}
    statuses = {}
    for name, (ctype, body) in cases.items():
        headers = {"Content-Type": ctype} if ctype else {}
        for lang in ("vi", "en"):
            a = c.post(f"{VERIFY}?lang={lang}", data=body, headers=headers)
            b = c.post(f"{JOBS}?lang={lang}", data=body, headers=headers)
            statuses[name] = a.status_code
            assert a.status_code < 500 and b.status_code < 500, (name, a.status_code,
                                                                 b.status_code)
            if a.status_code == 200:
                assert b.status_code == 202, (name, b.data[:300])
                jobs[f"{name}/{lang}"] = (b.json["job_id"], a.json["results"])
            else:
                assert (b.status_code, b.json) == (a.status_code, a.json), name
                assert b.json["error"] and b.json["detail"]
    if jobs and start_worker is not None:
        start_worker()
    for name, (job_id, want) in jobs.items():
        wait_done(c, job_id)
        got = ndjson(c, job_id)
        assert [{k: r[k] for k in COMPARED} for r in got] == \
            [{k: r[k] for k in COMPARED} for r in want], name
    return statuses


@pytest.mark.slow  # starts a worker process
def test_garbage_gets_the_same_answers_as_verify(jobs_app: Flask,
                                                 start_worker: Callable[..., Any]) -> None:
    statuses = _compare(jobs_app, _garbage(), start_worker)
    assert {400, 415, 200} <= set(statuses.values())


def test_oversized_gets_the_same_answers_as_verify(jobs_config: Config, records: Records,
                                                   redis_clean: RedisServer,
                                                   trust_services: Any) -> None:
    app = make_jobs_app(jobs_config, max_file_mb=1.0)
    big = records.signed + b"%" + b"x" * (1024 * 1024)
    boundary = "BNDRY"
    mp = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"'
          f"\r\nContent-Type: application/pdf\r\n\r\n").encode() + big + \
        f"\r\n--{boundary}--\r\n".encode()
    statuses = _compare(app, {"raw": ("application/pdf", big),
                              "multipart": (f"multipart/form-data; boundary={boundary}", mp),
                              "zip": ("application/zip",
                                      zip_of({"a.pdf": os.urandom(1100 * 1024)}))})
    assert set(statuses.values()) == {413}
    assert redis_keys(redis_clean) == []


def test_zip_bombs_get_the_same_answers_as_verify(jobs_config: Config, records: Records,
                                                  redis_clean: RedisServer,
                                                  trust_services: Any) -> None:
    many = zip_of({f"hs{i}.pdf": b"%PDF-1.7" for i in range(6)})
    statuses = _compare(make_jobs_app(jobs_config, max_zip_entries=5),
                        {"too_many_entries": ("application/zip", many)})
    big = zip_of({"a.pdf": b"%PDF-1.7" + b"\x00" * (600 * 1024),
                  "b.pdf": b"%PDF-1.7" + b"\x00" * (600 * 1024)})
    statuses |= _compare(make_jobs_app(jobs_config, max_zip_total_mb=1.0, max_zip_ratio=1e9),
                         {"total_size": ("application/zip", big)})
    lying = bytearray(zip_of({"a.pdf": b"%PDF-1.7" + b"A" * 5000},
                             compression=zipfile.ZIP_STORED))
    cd = lying.rindex(b"PK\x01\x02")
    lying[cd + 24:cd + 28] = (100).to_bytes(4, "little")
    nested = zip_of({"inner.zip": zip_of({"a.pdf": b"%PDF-1.7"}), "note.txt": b"hello"})
    statuses |= _compare(make_jobs_app(jobs_config), {
        "lying_size": ("application/zip", bytes(lying)),
        "nested_and_unsupported": ("application/zip", nested)})
    assert statuses["too_many_entries"] == statuses["total_size"] == 413
    assert statuses["nested_and_unsupported"] == 200


@pytest.mark.slow  # starts a worker process
def test_zip_bomb_entry_is_decided_without_a_worker(jobs_app: Flask, redis_clean: RedisServer,
                                                    records: Records,
                                                    start_worker: Callable[..., Any]) -> None:
    bomb = b"%PDF-1.7" + b"\x00" * (8 * 1024 * 1024)  # deflates about 1000:1
    batch = zip_of({"lop/bomb.pdf": bomb, "lop/ok.pdf": records.signed})
    c = jobs_app.test_client()
    want = c.post(VERIFY, data=batch, content_type="application/zip").json["results"]
    job = submit(c, batch, "application/zip")
    st = c.get(job["status_url"]).json
    # The bomb's report was decided while reading the upload: already counted.
    assert (st["status"], st["done"], st["counts"]["TOTAL_FAILED"]) == ("running", 1, 1)
    [first] = ndjson(c, job["job_id"])  # the finished prefix
    assert {k: first[k] for k in COMPARED} == {k: want[0][k] for k in COMPARED}
    assert first["subindication"] == "FORMAT_FAILURE" and first["sha256"] == ""
    assert c.get(job["status_url"] + "/results").headers["X-Hocba-Job-Status"] == "running"
    start_worker()
    wait_done(c, job["job_id"])
    out = ndjson(c, job["job_id"])
    assert [r["indication"] for r in out] == ["TOTAL_FAILED", "TOTAL_PASSED"]
    assert [r["file"] for r in out] == ["upload.zip/lop/bomb.pdf", "upload.zip/lop/ok.pdf"]


def test_redis_down_is_503_never_500(jobs_config: Config, records: Records,
                                     trust_services: Any) -> None:
    from tests.conftest import free_port

    cfg = jobs_config.with_overrides(jobs=JobsConfig(
        broker=f"redis://127.0.0.1:{free_port()}/0"))
    c = make_jobs_app(cfg).test_client()
    r = c.post(JOBS, data=records.signed, content_type="application/pdf")
    assert r.status_code == 503 and r.json["error"] == "jobs_unavailable"
    assert r.headers["Retry-After"]
    assert c.get(f"{JOBS}/{'0' * 32}").status_code == 503


def test_worker_needs_a_broker(test_pki: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from hocba.cli import main

    assert main(["worker", "--config", str(test_pki.config)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "[jobs] broker" in err


@pytest.mark.slow  # starts a worker process
def test_a_file_over_the_time_limit_is_try_later(
        jobs_app: Flask, start_worker: Callable[..., Any], jobs_config_path: Any,
        records: Records) -> None:
    slow = jobs_config_path.with_name("hocba-jobs-slow.toml")
    slow.write_text(jobs_config_path.read_text(encoding="utf-8").replace(
        "[limits]", "[limits]\nrequest_timeout = 0.001") if "[limits]" in
        jobs_config_path.read_text(encoding="utf-8") else
        jobs_config_path.read_text(encoding="utf-8") + "\n[limits]\nrequest_timeout = 0.001\n",
        encoding="utf-8")
    c = jobs_app.test_client()
    job = submit(c, records.signed, "application/pdf", "?lang=en")
    start_worker(config=slow)
    st = wait_done(c, job["job_id"])
    [rep] = ndjson(c, job["job_id"])
    assert (rep["indication"], rep["subindication"]) == ("INDETERMINATE", "TRY_LATER")
    assert "limit of 0.001 s" in rep["message"] and st["counts"]["INDETERMINATE"] == 1

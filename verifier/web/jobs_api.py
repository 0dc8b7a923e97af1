"""Bulk verification jobs over HTTP (CONTRACT 10).

``POST /api/v1/jobs`` reads the upload exactly as ``POST /api/v1/verify`` does
(:func:`verifier.web.uploads.collect`, same limits, same 400/413/415 answers; a
damaged archive or a zip-bomb entry becomes the same FORMAT_FAILURE report) and
answers ``202`` at once; ``hocba worker`` processes verify the files. The upload
goes from memory to Redis, never to a local disk.

``GET /api/v1/jobs/<id>/results`` gives the reports in submission order. While the
job runs it gives the reports finished so far **up to the first file still
waiting** (never a gap, never a line twice), so a client may read it again with
``?start=<lines already read>`` until ``X-Hocba-Job-Status: done``. The reports are
in the language the job was submitted with (``?lang`` of the POST).

The job id (128 random bits) is the only key to a job's results: share it as
you would share the files.
"""
from __future__ import annotations

import csv
import io
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context
from werkzeug.exceptions import HTTPException

from ground.i18n import t
from ground.config import Config
from verifier.web import api, uploads

log = logging.getLogger("verifier.web")

bp = Blueprint("jobs", __name__)

CSV_HEADER = ("file", "sha256", "indication", "subindication", "student", "school",
              "school_year")
_lock = threading.Lock()


class JobsError(HTTPException):
    """An answer of the jobs API: ``{"error", "detail"}`` in the request's language."""

    error = "jobs_error"
    key = "error.jobs_error"  # the catalog text of ``detail``

    def __init__(self, key: str | None = None, **params: object) -> None:
        self.key = key or self.key
        self.params = params
        super().__init__(description=t(self.key, "en", **params))

    def detail(self, lang: str) -> str:
        return t(self.key, lang, **self.params)


class JobsDisabled(JobsError):
    code = 503
    error = "jobs_disabled"
    key = "error.jobs_disabled"


class JobsUnavailable(JobsError):
    code = 503
    error = "jobs_unavailable"
    key = "error.jobs_unavailable"


class JobNotFound(JobsError):
    code = 404
    error = "job_not_found"
    key = "error.job_not_found"


class BadJobParameter(JobsError):
    code = 400
    error = "bad_request"
    key = "error.job_bad_format"


def _lang() -> str:
    return "en" if request.args.get("lang") == "en" else "vi"


@bp.errorhandler(JobsError)
def _jobs_error(e: JobsError) -> Any:
    resp = jsonify({"error": e.error, "detail": e.detail(_lang())})
    resp.status_code = e.code or 500
    if isinstance(e, JobsUnavailable):
        resp.headers["Retry-After"] = "30"
    return resp


def _unavailable(e: Exception) -> Any:
    log.error("job store unreachable: %s", type(e).__name__)
    return _jobs_error(JobsUnavailable())


def _register_unavailable() -> None:
    from kombu.exceptions import OperationalError
    from redis.exceptions import RedisError

    bp.register_error_handler(RedisError, _unavailable)
    bp.register_error_handler(OperationalError, _unavailable)


_register_unavailable()


def _config() -> Config:
    cfg = api.service()["config"]
    assert isinstance(cfg, Config)
    return cfg


def _runtime() -> dict[str, Any]:
    """The app's job store and Celery app, made on first use (Celery is imported only then)."""
    cfg = _config()
    if not cfg.jobs.broker:
        raise JobsDisabled()
    ext = current_app.extensions
    rt = ext.get("hocba_jobs")
    if rt is None:
        with _lock:
            rt = ext.get("hocba_jobs")
            if rt is None:
                from verifier.jobs import engine
                from verifier.jobs.store import JobStore

                rt = {"store": JobStore(engine.broker_url(cfg), engine.ttl_seconds(cfg)),
                      "celery": engine.make_celery(cfg)}
                ext["hocba_jobs"] = rt
    return rt


def _status(job_id: str) -> Any:
    from verifier.jobs.store import JOB_ID

    rt = _runtime()
    st = rt["store"].status(job_id) if JOB_ID.match(job_id) else None
    if st is None:
        raise JobNotFound(hours=f"{_config().jobs.result_ttl_hours:g}")
    return st


@bp.post("/api/v1/jobs")
def submit() -> Any:
    rt = _runtime()
    lang = api.parse_lang(request.args.get("lang"), strict=True)
    vt = api.parse_validation_time(request.args.get("validation_time"))
    cfg = _config()
    items = uploads.collect(request, cfg.limits)

    from verifier.jobs import engine
    from verifier.jobs.store import Decided, Entry, JobStore, PendingFile

    entries: list[Entry] = [
        PendingFile(i.name, i.kind, i.data) if isinstance(i, uploads.Upload)
        else Decided(i.to_dict(lang)) for i in items]
    del items
    total = len(entries)
    store: JobStore = rt["store"]
    job_id = store.new_id()
    try:
        # Tasks go out as their files are stored: workers start while the rest is written.
        pending = store.create(job_id, entries, lang=lang,
                               validation_time=vt.isoformat() if vt else None,
                               on_stored=lambda idx: engine.send_files(rt["celery"], job_id, idx))
        del entries
    except Exception:
        try:
            store.delete(job_id)
        except Exception:
            pass
        raise
    log.info("job created job=%s files=%d queued=%d", job_id, total, len(pending))
    url = f"/api/v1/jobs/{job_id}"
    resp = jsonify({"job_id": job_id, "status_url": url, "total": total})
    resp.status_code = 202
    resp.headers["Location"] = url
    return resp


@bp.get("/api/v1/jobs/<job_id>")
def status(job_id: str) -> Any:
    st = _status(job_id)
    return jsonify({"job_id": job_id, "status": st.state, "total": st.total, "done": st.done,
                    "counts": st.counts, "results_url": f"/api/v1/jobs/{job_id}/results"})


@bp.get("/api/v1/jobs/<job_id>/results")
def results(job_id: str) -> Any:
    fmt = request.args.get("format") or "ndjson"
    if fmt not in ("ndjson", "csv"):
        raise BadJobParameter("error.job_bad_format", value=repr(fmt[:40]))
    raw_start = request.args.get("start") or "0"
    if not raw_start.isdigit() or len(raw_start) > 9:
        raise BadJobParameter("error.job_bad_start", value=repr(raw_start[:40]))
    st = _status(job_id)
    lines = _first_checked(_runtime()["store"].results(job_id, st.total, int(raw_start)))
    if fmt == "csv":
        body: Iterator[str] = _csv(lines, header=raw_start == "0")
        mimetype = "text/csv"
    else:
        body = (line + "\n" for line in lines)
        mimetype = "application/x-ndjson"
    resp = Response(stream_with_context(body), mimetype=mimetype)
    resp.headers["X-Hocba-Job-Status"] = st.state
    resp.headers["X-Hocba-Job-Done"] = str(st.done)
    resp.headers["X-Hocba-Job-Total"] = str(st.total)
    if fmt == "csv":
        resp.headers["Content-Disposition"] = f'attachment; filename="hocba-{job_id}.csv"'
    return resp


@bp.delete("/api/v1/jobs/<job_id>")
def delete(job_id: str) -> Any:
    from verifier.jobs.store import JOB_ID

    rt = _runtime()
    if not JOB_ID.match(job_id) or not rt["store"].delete(job_id):
        raise JobNotFound(hours=f"{_config().jobs.result_ttl_hours:g}")
    log.info("job deleted job=%s", job_id)
    return Response(status=204)


def _first_checked(lines: Iterator[str]) -> Iterator[str]:
    """Read the first batch now, so an unreachable store is a 503, not a cut stream."""
    try:
        first = next(lines)
    except StopIteration:
        return iter(())

    def chain() -> Iterator[str]:
        yield first
        yield from lines

    return chain()


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (names come from clients)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(lines: Iterator[str], header: bool) -> Iterator[str]:
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\r\n")

    def flush() -> str:
        text = buf.getvalue()
        buf.seek(0)
        buf.truncate()
        return text

    if header:
        out.writerow(CSV_HEADER)
        yield flush()
    for line in lines:
        r = json.loads(line)
        rec = r.get("record") or {}
        out.writerow([_cell(r.get("file")), r.get("sha256") or "", r.get("indication") or "",
                      r.get("subindication") or "", _cell(rec.get("student")),
                      _cell(rec.get("school")), _cell(rec.get("school_year"))])
        yield flush()

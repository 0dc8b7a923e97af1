"""A job's files and results in Redis: every key expires, every result is written once.

Keys of job ``ID`` (the ``{ID}`` hash tag keeps them in one slot of a Redis Cluster,
so the scripts below may touch them together):

``hocba:job:{ID}``           hash: ``total``, ``lang``, ``validation_time``, ``created``,
                             ``started`` (first worker), ``done`` and one counter
                             ``n:<INDICATION>`` per verdict
``hocba:job:{ID}:files``     hash: index -> the file's bytes (removed once its result is in)
``hocba:job:{ID}:names``     hash: index -> ``{"name", "kind"}`` (JSON)
``hocba:job:{ID}:results``   hash: index -> the report (JSON, CONTRACT 6), written by HSETNX
``hocba:job:{ID}:attempts``  hash: index -> how many times a worker took the file up

All of them expire ``[jobs] result_ttl_hours`` after submission (the results and
attempts hashes, created later by workers, get the remaining time of the job
hash). ``DELETE`` unlinks them at once. A script that finds the job hash gone
(deleted or expired) writes nothing, so a task still in the queue for a deleted
job cannot bring any of its keys back.

Exactly once: a result is written with ``HSETNX`` and, in the same atomic script,
counted and its file dropped; a second write for the same ``(job, index)`` (a
redelivered task, a task run twice after a visibility timeout) changes nothing.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import redis

INDICATIONS = ("TOTAL_PASSED", "TOTAL_FAILED", "INDETERMINATE")
JOB_ID = re.compile(r"^[0-9a-f]{32}$")
PREFIX = "hocba:job:"
BATCH = 256  # results read per round trip
CHUNK = 16 * 1024 * 1024  # bytes of files written per round trip
FIRST_CHUNK = 1024 * 1024  # a small first one: the first files reach a worker sooner

# KEYS: job, results, files, attempts.  ARGV: index, report JSON, indication.
# -1: the job is gone (nothing written); 0: a result was already there; 1: written.
_RECORD = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
redis.call('HINCRBY', KEYS[1], 'done', 1)
redis.call('HINCRBY', KEYS[1], 'n:' .. ARGV[3], 1)
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
"""

# KEYS: job, results, files, names, attempts.  ARGV: index, now.
# {-1}: the job is gone; {0}: its result is already in;
# else {attempt, name info, bytes, lang, validation time}.
_CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return {0} end
local n = redis.call('HINCRBY', KEYS[5], ARGV[1], 1)
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[5], ttl) end
redis.call('HSETNX', KEYS[1], 'started', ARGV[2])
local data = redis.call('HGET', KEYS[3], ARGV[1])
if not data then return {-1} end
local meta = redis.call('HMGET', KEYS[1], 'lang', 'validation_time')
return {n, redis.call('HGET', KEYS[4], ARGV[1]) or '{}', data, meta[1] or 'vi', meta[2] or ''}
"""


@dataclass(frozen=True)
class PendingFile:
    """A file for a worker to verify."""

    name: str
    kind: str | None
    data: bytes


@dataclass(frozen=True)
class Decided:
    """A report already decided when the upload was read (damaged archive, zip-bomb entry)."""

    report: dict[str, Any]


Entry = PendingFile | Decided


@dataclass(frozen=True)
class Claim:
    """A file a worker took up: its ``attempt`` (1 the first time) and the job's settings."""

    attempt: int
    name: str
    kind: str | None
    data: bytes
    lang: str
    validation_time: str | None


@dataclass(frozen=True)
class Status:
    job_id: str
    total: int
    done: int
    started: bool
    counts: dict[str, int]
    lang: str
    validation_time: str | None

    @property
    def state(self) -> str:
        if self.done >= self.total:
            return "done"
        return "running" if self.started or self.done else "queued"


def keys(job_id: str) -> tuple[str, str, str, str, str]:
    """job, files, names, results, attempts."""
    base = f"{PREFIX}{{{job_id}}}"
    return base, base + ":files", base + ":names", base + ":results", base + ":attempts"


def report_line(report: dict[str, Any]) -> str:
    """A report as one JSON Lines line (no newline)."""
    return json.dumps(report, ensure_ascii=False, separators=(",", ":"))


class JobStore:
    """The jobs' Redis (thread-safe: redis-py's connection pool)."""

    def __init__(self, url: str, ttl_seconds: int) -> None:
        self.redis: Any = redis.Redis.from_url(
            url, socket_connect_timeout=5, socket_timeout=30, health_check_interval=30)
        self.ttl = max(1, int(ttl_seconds))
        self._record = self.redis.register_script(_RECORD)
        self._claim = self.redis.register_script(_CLAIM)

    @staticmethod
    def new_id() -> str:
        return secrets.token_hex(16)  # 128 bits: the id is what gives access to the results

    def create(self, job_id: str, entries: Sequence[Entry], *, lang: str,
               validation_time: str | None,
               on_stored: Callable[[list[int]], None] | None = None) -> list[int]:
        """Store a job; the indices a worker must verify (the others are decided here).

        The job hash first, then the files in pipelines of about ``CHUNK`` bytes (no
        huge command or transaction for Redis to buffer; the first one small), each
        key expiring from its first write. ``on_stored(indices)`` runs after each
        pipeline, so workers start on the first files while the rest is written.
        """
        job, files, names, _, _ = keys(job_id)
        meta: dict[str, Any] = {"total": len(entries), "lang": lang,
                                "validation_time": validation_time or "",
                                "created": f"{time.time():.3f}", "done": 0}
        meta.update({f"n:{i}": 0 for i in INDICATIONS})
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(job, mapping=meta)
            pipe.expire(job, self.ttl)
            pipe.execute()
        for i, e in enumerate(entries):
            if isinstance(e, Decided):
                self.record(job_id, i, e.report)
        pending: list[int] = []
        with self.redis.pipeline(transaction=False) as pipe:
            chunk: list[int] = []
            size, limit = 0, FIRST_CHUNK
            for i, e in enumerate(entries):
                if not isinstance(e, PendingFile):
                    continue
                pipe.hset(files, str(i), e.data)
                pipe.hset(names, str(i), json.dumps({"name": e.name, "kind": e.kind},
                                                    ensure_ascii=False))
                if not pending and not chunk:
                    pipe.expire(files, self.ttl)
                    pipe.expire(names, self.ttl)
                chunk.append(i)
                size += len(e.data)
                if size >= limit:
                    pipe.execute()
                    pending += chunk
                    if on_stored is not None:
                        on_stored(chunk)
                    chunk, size, limit = [], 0, CHUNK
            if chunk:
                pipe.execute()
                pending += chunk
                if on_stored is not None:
                    on_stored(chunk)
        return pending

    def claim(self, job_id: str, index: int) -> Claim | None:
        """Take file ``index`` up; None when its result is in or the job is gone."""
        job, files, names, results, attempts = keys(job_id)
        out = self._claim(keys=[job, results, files, names, attempts],
                          args=[index, f"{time.time():.3f}"])
        if int(out[0]) <= 0:
            return None
        info = json.loads(out[1])
        return Claim(int(out[0]), str(info.get("name") or f"file-{index + 1}"),
                     info.get("kind"), bytes(out[2]), out[3].decode() or "vi",
                     out[4].decode() or None)

    def describe(self, job_id: str, index: int) -> tuple[str, str | None, str, str]:
        """Name, kind, SHA-256 (empty once the file is gone) and language of file
        ``index``: for the report a worker writes when verification itself failed."""
        job, files, names, _, _ = keys(job_id)
        info_raw, data, lang = self.redis.hget(names, str(index)), \
            self.redis.hget(files, str(index)), self.redis.hget(job, "lang")
        info = json.loads(info_raw) if info_raw else {}
        sha = hashlib.sha256(data).hexdigest() if data is not None else ""
        return (str(info.get("name") or f"file-{index + 1}"), info.get("kind"), sha,
                lang.decode() if lang else "vi")

    def record(self, job_id: str, index: int, report: dict[str, Any]) -> int:
        """Write the report of file ``index`` once: 1 written, 0 already there, -1 job gone."""
        job, files, _, results, attempts = keys(job_id)
        indication = str(report.get("indication"))
        if indication not in INDICATIONS:
            raise ValueError(f"not an indication: {indication!r}")
        return int(self._record(keys=[job, results, files, attempts],
                                args=[index, report_line(report), indication]))

    def has_result(self, job_id: str, index: int) -> bool:
        return bool(self.redis.hexists(keys(job_id)[3], str(index)))

    def status(self, job_id: str) -> Status | None:
        raw = self.redis.hgetall(keys(job_id)[0])
        if not raw or b"total" not in raw:
            return None
        meta = {k.decode(): v.decode() for k, v in raw.items()}
        return Status(job_id=job_id, total=int(meta["total"]), done=int(meta.get("done", 0)),
                      started="started" in meta,
                      counts={i: int(meta.get(f"n:{i}", 0)) for i in INDICATIONS},
                      lang=meta.get("lang", "vi"),
                      validation_time=meta.get("validation_time") or None)

    def results(self, job_id: str, total: int, start: int = 0) -> Iterator[str]:
        """The reports (JSON lines) from ``start`` on, in submission order, up to the first
        file still without a result (so a client never sees a gap or a line twice)."""
        results = keys(job_id)[3]
        for first in range(max(0, start), total, BATCH):
            fields = [str(i) for i in range(first, min(first + BATCH, total))]
            for value in self.redis.hmget(results, fields):
                if value is None:
                    return
                yield value.decode("utf-8")

    def delete(self, job_id: str) -> bool:
        """Remove the job, its files and results now; False when there was no such job."""
        return int(self.redis.unlink(*keys(job_id))) > 0

    def ping(self) -> bool:
        return bool(self.redis.ping())

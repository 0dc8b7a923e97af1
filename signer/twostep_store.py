"""Prepared two-step batches on disk: atomic, restart-proof, expiring, finished once.

Layout under ``state_dir`` (one directory per batch, created atomically by
renaming a fully written temporary directory)::

    <batch_id>/manifest.json      what was prepared (no private data beyond names)
    <batch_id>/items/<item>.bin   each record in its prepared state
    <batch_id>/finish.lock        exists while (or after) a finish runs
    <batch_id>/result.json        the outcome, once finished
    <batch_id>/out/<item>.bin     signed records, kept until the batch expires

Every file is written through a temporary file + ``os.replace``, so a crash
leaves either the old or the new state, never half of one. ``finish.lock`` is
created with ``O_EXCL``: two concurrent finishes of one batch cannot both run.
Expired batches are refused and removed on the next access or
:meth:`BatchStore.purge_expired`.

:class:`RedisBatchStore` (``[twostep] store = "redis://host:port/db"``) keeps the same
state in Redis so that several service instances (hosts) share prepared batches, with
the same interface and guarantees: a batch is written in one MULTI/EXEC transaction;
every key expires with the batch (``batch_ttl_minutes``); the finish claim is ``SET NX``
on the batch's lock key (which expires by itself after :data:`STALE_LOCK_SECONDS` if
the finishing process died); the outcome is recorded in a WATCH transaction that
succeeds only while this finish still holds the lock and the batch is not finished,
so a batch is finished exactly once whichever instance is asked.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Protocol
from contextlib import AbstractContextManager, contextmanager

from ground.errors import HocbaError

BATCH_ID_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
ITEM_ID_RE = re.compile(r"^[0-9]{1,6}$")
# A finish that has held the lock this long (seconds) is presumed dead (process killed).
STALE_LOCK_SECONDS = 15 * 60


class TwoStepError(HocbaError):
    """A two-step request that cannot proceed; ``status`` is the HTTP status it maps to."""

    status = 422
    code = "unprocessable"

    def __init__(self, key: str, /, *, status: int | None = None, code: str | None = None,
                 **fields: Any) -> None:
        super().__init__(key, **fields)
        if status is not None:
            self.status = status
            self.code = _CODES.get(status, self.code)
        if code is not None:
            self.code = code


_CODES = {400: "bad_request", 404: "not_found", 409: "conflict", 410: "gone",
          413: "payload_too_large", 415: "unsupported_media_type", 422: "unprocessable"}


class BatchNotFound(TwoStepError):
    status, code = 404, "batch_not_found"


class BatchExpired(TwoStepError):
    status, code = 410, "batch_expired"


class BatchFinished(TwoStepError):
    status, code = 409, "batch_already_finished"


class BatchBusy(TwoStepError):
    status, code = 409, "batch_busy"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(d: datetime) -> str:
    return d.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_iso(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(str(path), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(target: Path, data: bytes) -> None:
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, indent=1).encode("utf-8")


@dataclass(frozen=True)
class StoredBatch:
    batch_id: str
    path: Path
    manifest: dict[str, Any]

    def item(self, item_id: str) -> bytes:
        if not ITEM_ID_RE.fullmatch(item_id):
            raise TwoStepError("signer.store.bad_item_id", status=400, item_id=repr(item_id))
        try:
            return (self.path / "items" / f"{item_id}.bin").read_bytes()
        except FileNotFoundError:
            raise TwoStepError("signer.store.item_missing", status=409, code="state_missing",
                               item_id=item_id) from None


class BatchStore:
    """Prepared batches in ``root``; ``clock`` is injectable for expiry tests."""

    def __init__(self, root: Path, ttl: timedelta, clock: Callable[[], datetime] = utcnow) -> None:
        self.root = Path(root)
        self.ttl = ttl
        self.clock = clock
        self.root.mkdir(parents=True, exist_ok=True)

    # -- create -------------------------------------------------------------------------

    def new_id(self) -> str:
        return secrets.token_urlsafe(18)

    def create(self, batch_id: str, manifest: Mapping[str, Any], items: Mapping[str, bytes]) -> None:
        """Write the whole batch into a temporary directory, then rename it into place."""
        tmp = self.root / f".tmp-{batch_id}"
        (tmp / "items").mkdir(parents=True)
        try:
            for item_id, data in items.items():
                write_atomic(tmp / "items" / f"{item_id}.bin", data)
            write_atomic(tmp / "manifest.json", _dump(dict(manifest)))
            _fsync_dir(tmp / "items")
            _fsync_dir(tmp)
            os.rename(tmp, self.root / batch_id)
            _fsync_dir(self.root)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def expires_at(self) -> datetime:
        return self.clock() + self.ttl

    # -- read ---------------------------------------------------------------------------

    def _path(self, batch_id: str) -> Path:
        if not isinstance(batch_id, str) or not BATCH_ID_RE.fullmatch(batch_id):
            raise BatchNotFound("signer.store.not_found", batch_id=repr(batch_id))
        return self.root / batch_id

    def load(self, batch_id: str, *, allow_finished: bool = False) -> StoredBatch:
        path = self._path(batch_id)
        try:
            manifest = json.loads((path / "manifest.json").read_bytes())
            expires = parse_iso(manifest["expires_at"])
        except FileNotFoundError:
            raise BatchNotFound("signer.store.not_found", batch_id=batch_id) from None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            raise TwoStepError("signer.store.corrupt", status=409, code="state_corrupt",
                               batch_id=batch_id) from None
        if self.clock() >= expires:
            shutil.rmtree(path, ignore_errors=True)
            raise BatchExpired("signer.store.expired", batch_id=batch_id,
                               expires_at=manifest["expires_at"])
        if manifest.get("status") == "finished" and not allow_finished:
            raise BatchFinished("signer.store.finished", batch_id=batch_id,
                                finished_at=manifest.get("finished_at"))
        return StoredBatch(batch_id, path, manifest)

    def result(self, batch: StoredBatch) -> tuple[dict[str, Any] | None, dict[str, bytes]]:
        try:
            res = json.loads((batch.path / "result.json").read_bytes())
        except (OSError, ValueError):
            return None, {}
        out: dict[str, bytes] = {}
        for r in res.get("records", []):
            p = batch.path / "out" / f"{r['id']}.bin"
            if r.get("ok") and p.is_file():
                out[r["id"]] = p.read_bytes()
        return res, out

    # -- finish -------------------------------------------------------------------------

    @contextmanager
    def claim(self, batch_id: str) -> Iterator[StoredBatch]:
        """Hold the batch's finish lock; a second finish (even concurrent) is refused."""
        batch = self.load(batch_id)
        lock = batch.path / "finish.lock"
        try:
            fd = os.open(str(lock), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            age = time.time() - lock.stat().st_mtime if lock.exists() else 0
            if age < STALE_LOCK_SECONDS:
                raise BatchBusy("signer.store.busy", batch_id=batch_id) from None
            lock.unlink(missing_ok=True)
            fd = os.open(str(lock), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.write(fd, f"{os.getpid()} {iso(self.clock())}\n".encode())
        os.close(fd)
        done = False
        try:
            # Re-read under the lock: another finish may have completed in between.
            batch = self.load(batch_id)
            yield batch
            done = True
        finally:
            if not done:
                lock.unlink(missing_ok=True)

    def complete(self, batch: StoredBatch, result: Mapping[str, Any],
                 outputs: Mapping[str, bytes]) -> None:
        """Record the outcome: outputs first, then result, then the manifest's status."""
        out = batch.path / "out"
        out.mkdir(exist_ok=True)
        for item_id, data in outputs.items():
            write_atomic(out / f"{item_id}.bin", data)
        write_atomic(batch.path / "result.json", _dump(dict(result)))
        manifest = dict(batch.manifest)
        manifest["status"] = "finished"
        manifest["finished_at"] = iso(self.clock())
        write_atomic(batch.path / "manifest.json", _dump(manifest))
        _fsync_dir(batch.path)
        # The prepared states are no longer needed (and hold pupils' data).
        shutil.rmtree(batch.path / "items", ignore_errors=True)

    # -- housekeeping -------------------------------------------------------------------

    def purge_expired(self) -> int:
        n = 0
        now = self.clock()
        for p in self.root.iterdir():
            if p.name.startswith(".tmp-"):
                if time.time() - p.stat().st_mtime > STALE_LOCK_SECONDS:
                    shutil.rmtree(p, ignore_errors=True)
                continue
            if not p.is_dir() or not BATCH_ID_RE.fullmatch(p.name):
                continue
            try:
                manifest = json.loads((p / "manifest.json").read_bytes())
                if now >= parse_iso(manifest["expires_at"]):
                    shutil.rmtree(p, ignore_errors=True)
                    n += 1
            except (OSError, ValueError, KeyError):
                continue
        return n


# -- the shared store (Redis) -------------------------------------------------------------------

class StoredState(Protocol):
    """A prepared batch as a store hands it to :class:`signer.twostep.TwoStep`."""

    batch_id: str
    manifest: dict[str, Any]

    def item(self, item_id: str) -> bytes: ...


class TwoStepStore(Protocol):
    """What :class:`signer.twostep.TwoStep` needs from a store (filesystem or Redis)."""

    ttl: timedelta
    clock: Callable[[], datetime]

    def new_id(self) -> str: ...

    def create(self, batch_id: str, manifest: Mapping[str, Any],
               items: Mapping[str, bytes]) -> None: ...

    def expires_at(self) -> datetime: ...

    def load(self, batch_id: str, *, allow_finished: bool = False) -> Any: ...

    def result(self, batch: Any) -> tuple[dict[str, Any] | None, dict[str, bytes]]: ...

    def claim(self, batch_id: str) -> AbstractContextManager[Any]: ...

    def complete(self, batch: Any, result: Mapping[str, Any],
                 outputs: Mapping[str, bytes]) -> None: ...

    def purge_expired(self) -> int: ...


@dataclass(frozen=True)
class RedisStoredBatch:
    batch_id: str
    manifest: dict[str, Any]
    store: RedisBatchStore
    lock_token: str | None = None

    def item(self, item_id: str) -> bytes:
        if not ITEM_ID_RE.fullmatch(item_id):
            raise TwoStepError("signer.store.bad_item_id", status=400, item_id=repr(item_id))
        data = self.store._call(self.store.redis.hget, self.store.key(self.batch_id, "items"),
                                item_id)
        if data is None:
            raise TwoStepError("signer.store.item_missing", status=409, code="state_missing",
                               item_id=item_id)
        return bytes(data)


_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisBatchStore:
    """Prepared batches in Redis, shared by every instance of the signing service.

    Keys per batch (``hocba:twostep:<id>:``): ``manifest`` (JSON), ``items`` (hash: item
    id → prepared record), ``lock`` (the finish claim), ``result`` (JSON) and ``out``
    (hash: item id → signed record). All expire when the batch does.
    """

    PREFIX = "hocba:twostep"

    def __init__(self, url: str, ttl: timedelta, clock: Callable[[], datetime] = utcnow,
                 *, client: Any = None) -> None:
        self.url = url
        self.ttl = ttl
        self.clock = clock
        if client is None:
            import redis

            client = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
        self.redis = client
        self._call(self.redis.ping)

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        import redis

        try:
            return fn(*args, **kwargs)
        except redis.RedisError as e:
            raise TwoStepError("signer.store.unavailable", status=503, code="store_unavailable",
                               detail=f"{type(e).__name__}: {e}") from None

    def key(self, batch_id: str, part: str) -> str:
        return f"{self.PREFIX}:{batch_id}:{part}"

    def _keys(self, batch_id: str) -> list[str]:
        return [self.key(batch_id, p) for p in ("manifest", "items", "lock", "result", "out")]

    # -- create -------------------------------------------------------------------------

    def new_id(self) -> str:
        return secrets.token_urlsafe(18)

    def expires_at(self) -> datetime:
        return self.clock() + self.ttl

    def _expire_at_ms(self, manifest: Mapping[str, Any]) -> int:
        return int(parse_iso(str(manifest["expires_at"])).timestamp() * 1000)

    def create(self, batch_id: str, manifest: Mapping[str, Any], items: Mapping[str, bytes]) -> None:
        """The whole batch in one transaction: it exists completely or not at all."""
        at = self._expire_at_ms(manifest)
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(self.key(batch_id, "manifest"), _dump(dict(manifest)), nx=True)
        if items:
            pipe.hset(self.key(batch_id, "items"), mapping=dict(items))
        for k in (self.key(batch_id, "manifest"), self.key(batch_id, "items")):
            pipe.pexpireat(k, at)
        ok = self._call(pipe.execute)
        if not ok[0]:
            raise TwoStepError("signer.store.collision", status=409, batch_id=batch_id)

    # -- read ---------------------------------------------------------------------------

    def _check_id(self, batch_id: str) -> None:
        if not isinstance(batch_id, str) or not BATCH_ID_RE.fullmatch(batch_id):
            raise BatchNotFound("signer.store.not_found", batch_id=repr(batch_id))

    def _manifest(self, batch_id: str, raw: Any) -> dict[str, Any]:
        if raw is None:
            raise BatchNotFound("signer.store.not_found", batch_id=batch_id)
        try:
            manifest = json.loads(raw)
            expires = parse_iso(manifest["expires_at"])
        except (ValueError, KeyError, TypeError, AttributeError):
            raise TwoStepError("signer.store.corrupt", status=409, code="state_corrupt",
                               batch_id=batch_id) from None
        if self.clock() >= expires:
            self._call(self.redis.delete, *self._keys(batch_id))
            raise BatchExpired("signer.store.expired", batch_id=batch_id,
                               expires_at=manifest["expires_at"])
        assert isinstance(manifest, dict)
        return manifest

    def load(self, batch_id: str, *, allow_finished: bool = False) -> RedisStoredBatch:
        self._check_id(batch_id)
        manifest = self._manifest(batch_id,
                                  self._call(self.redis.get, self.key(batch_id, "manifest")))
        if manifest.get("status") == "finished" and not allow_finished:
            raise BatchFinished("signer.store.finished", batch_id=batch_id,
                                finished_at=manifest.get("finished_at"))
        return RedisStoredBatch(batch_id, manifest, self)

    def result(self, batch: RedisStoredBatch) -> tuple[dict[str, Any] | None, dict[str, bytes]]:
        raw = self._call(self.redis.get, self.key(batch.batch_id, "result"))
        if raw is None:
            return None, {}
        try:
            res = json.loads(raw)
        except ValueError:
            return None, {}
        out = self._call(self.redis.hgetall, self.key(batch.batch_id, "out")) or {}
        data = {k.decode() if isinstance(k, bytes) else str(k): bytes(v) for k, v in out.items()}
        return res, {r["id"]: data[r["id"]] for r in res.get("records", [])
                     if r.get("ok") and r["id"] in data}

    # -- finish -------------------------------------------------------------------------

    @contextmanager
    def claim(self, batch_id: str) -> Iterator[RedisStoredBatch]:
        """The finish claim: ``SET NX`` on the batch's lock; a second finish on any
        instance, even concurrent, is refused (409)."""
        self.load(batch_id)
        token = f"{os.getpid()}-{secrets.token_hex(8)}"
        lock = self.key(batch_id, "lock")
        if not self._call(self.redis.set, lock, token, nx=True, ex=STALE_LOCK_SECONDS):
            raise BatchBusy("signer.store.busy", batch_id=batch_id)
        done = False
        try:
            # Re-read under the claim: another finish may have completed in between.
            batch = self.load(batch_id)
            yield RedisStoredBatch(batch_id, batch.manifest, self, lock_token=token)
            done = True
        finally:
            if not done:
                self._call(self.redis.eval, _UNLOCK, 1, lock, token)

    def complete(self, batch: RedisStoredBatch, result: Mapping[str, Any],
                 outputs: Mapping[str, bytes]) -> None:
        """Record the outcome in one transaction, only while this finish holds the claim and
        the batch is not finished yet (WATCH on the lock and the manifest)."""
        import redis

        bid = batch.batch_id
        k_lock, k_manifest = self.key(bid, "lock"), self.key(bid, "manifest")
        manifest = dict(batch.manifest)
        manifest["status"] = "finished"
        manifest["finished_at"] = iso(self.clock())
        at = self._expire_at_ms(manifest)
        try:
            with self.redis.pipeline(transaction=True) as pipe:
                pipe.watch(k_lock, k_manifest)
                held = pipe.get(k_lock)
                current = pipe.get(k_manifest)
                if held is None or held.decode() != batch.lock_token:
                    raise BatchBusy("signer.store.claim_lost", batch_id=bid)
                if current is not None and json.loads(current).get("status") == "finished":
                    raise BatchFinished("signer.store.finished_now", batch_id=bid)
                pipe.multi()
                if outputs:
                    pipe.hset(self.key(bid, "out"), mapping=dict(outputs))
                pipe.set(self.key(bid, "result"), _dump(dict(result)))
                pipe.set(k_manifest, _dump(manifest))
                # The prepared states are no longer needed (and hold pupils' data).
                pipe.delete(self.key(bid, "items"))
                for k in (self.key(bid, "out"), self.key(bid, "result"), k_manifest, k_lock):
                    pipe.pexpireat(k, at)
                pipe.execute()
        except redis.WatchError:
            raise BatchBusy("signer.store.finished_elsewhere", batch_id=bid) from None
        except redis.RedisError as e:
            raise TwoStepError("signer.store.record_failed", status=503, code="store_unavailable",
                               detail=f"{type(e).__name__}: {e}") from None

    def purge_expired(self) -> int:
        return 0  # every key of a batch expires with it (PEXPIREAT)


def open_store(url: str | None, root: Path, ttl: timedelta,
               clock: Callable[[], datetime] = utcnow) -> TwoStepStore:
    """``[twostep] store``: None → the filesystem under ``root``; ``redis://``, ``rediss://``
    or ``unix://`` → :class:`RedisBatchStore`."""
    if not url:
        return BatchStore(root, ttl, clock=clock)
    scheme = url.split(":", 1)[0].lower()
    if scheme not in ("redis", "rediss", "unix"):
        from ground.errors import UsageError

        raise UsageError("signer.store.bad_url", value=repr(url))
    return RedisBatchStore(url, ttl, clock=clock)

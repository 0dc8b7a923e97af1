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
from typing import Any, Callable, Iterator, Mapping
from contextlib import contextmanager

from ground.errors import HocbaError

BATCH_ID_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
ITEM_ID_RE = re.compile(r"^[0-9]{1,6}$")
# A finish that has held the lock this long (seconds) is presumed dead (process killed).
STALE_LOCK_SECONDS = 15 * 60


class TwoStepError(HocbaError):
    """A two-step request that cannot proceed; ``status`` is the HTTP status it maps to."""

    status = 422
    code = "unprocessable"

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
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
            raise TwoStepError(f"mã bản ghi không hợp lệ (invalid item id): {item_id!r}", status=400)
        try:
            return (self.path / "items" / f"{item_id}.bin").read_bytes()
        except FileNotFoundError:
            raise TwoStepError(f"bản ghi {item_id} không còn trong lô (prepared record missing)",
                               status=409, code="state_missing") from None


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
            raise BatchNotFound(f"không có lô ký {batch_id!r} (no such batch)")
        return self.root / batch_id

    def load(self, batch_id: str, *, allow_finished: bool = False) -> StoredBatch:
        path = self._path(batch_id)
        try:
            manifest = json.loads((path / "manifest.json").read_bytes())
            expires = parse_iso(manifest["expires_at"])
        except FileNotFoundError:
            raise BatchNotFound(f"không có lô ký {batch_id} (no such batch)") from None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            raise TwoStepError(f"lô ký {batch_id} bị hỏng (batch state unreadable)",
                               status=409, code="state_corrupt") from None
        if self.clock() >= expires:
            shutil.rmtree(path, ignore_errors=True)
            raise BatchExpired(f"lô ký {batch_id} đã hết hạn lúc {manifest['expires_at']}; hãy "
                               f"chuẩn bị lại (batch expired; prepare it again)")
        if manifest.get("status") == "finished" and not allow_finished:
            raise BatchFinished(f"lô ký {batch_id} đã hoàn tất lúc {manifest.get('finished_at')}; "
                                f"không thể hoàn tất lần nữa (batch already finished)")
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
                raise BatchBusy(f"lô ký {batch_id} đang được hoàn tất (a finish of this batch is "
                                f"already running)") from None
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

"""A signing batch: one key, one login, one pre-check, many files.

:class:`Batch` opens the key source once, checks the certificate once
(:mod:`signer.precheck`), and keeps one signer per format for every file.
Files are detected from their content (``%PDF-`` → PAdES, XML → XAdES), written
atomically (temporary file in the target directory, then ``os.replace``); a
failure on one file is recorded and the batch goes on. Large PKCS#12 batches
run on every core: each worker process loads the key once.

At B-T and above each file is a coroutine (``async_sign``) and :func:`pipeline` keeps a
window of files going in one event loop: while one file waits for its RFC 3161 token,
the loop signs the next, so up to ``[timestamp] concurrency`` requests are in flight
(:mod:`signer.tsa`) and only the window's files are in memory. Worker processes each
run such a pipeline over slices of the batch, with their share of the concurrency, so
forking adds cores without turning the requests sequential again.
"""
from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable, Sequence, TypeVar

from ground import aio
from ground.config import Config
from ground.formats import PDF, XML, sniff
from ground.errors import HocbaError, UsageError
from ground.i18n import cli_lang, t
from ground.vocab import Level, Role
from signer.context import SigningContext
from signer.keys import KeySource, load_pkcs12_signer, open_pkcs11_signer

# Below this many files a second process costs more than it saves (key load + imports).
PARALLEL_THRESHOLD = 48

T = TypeVar("T")
R = TypeVar("R")


def detect_format(data: bytes) -> str:
    """``"pdf"`` or ``"xml"`` from the content; anything else is a clear error."""
    fmt = sniff(data)
    if fmt == PDF:
        return PDF
    if fmt == XML:
        from ground.xmlsafe import parse_xml

        try:
            parse_xml(data)
        except HocbaError as e:
            raise HocbaError("signer.batch.invalid_xml", cause=e) from None
        return "xml"
    raise HocbaError("signer.batch.unknown_format")


@dataclass(frozen=True)
class FileResult:
    """One file's outcome; ``error`` is in the command line's language (the signing
    batch's callers are the command line and the Python API)."""

    name: str
    ok: bool
    error: str | None = None
    output: str | None = None
    data: bytes | None = None
    format: str | None = None


class Batch:
    """Open with a key source; ``sign(data)`` per document; ``close()`` at the end."""

    def __init__(self, config: Config, role: Role, level: Level, key: KeySource, pin: str,
                 *, precheck: bool = True, claim_role: bool = False) -> None:
        key.check()
        self.config, self.role, self.level, self.key = config, role, level, key
        self._pkcs11: Any = None
        if key.p12 is not None:
            signer: Any = load_pkcs12_signer(key.p12, pin, config)
        else:
            self._pkcs11 = open_pkcs11_signer(key, pin, config)
            signer = self._pkcs11.signer
        try:
            if precheck:
                from signer.precheck import precheck_signer

                vc = precheck_signer(signer, role, config, claim_role=claim_role)
            elif level.rank >= Level.B_LT.rank:
                from signer.precheck import build_validation_context

                cert = signer.signing_cert
                vc = build_validation_context(config, extra_certs=[
                    c for c in (signer.cert_registry or ()) if c.dump() != cert.dump()])
            else:
                vc = None
        except BaseException:
            self.close()
            raise
        if self._pkcs11 is not None:
            serialize_signing(signer)  # one token session: one signing operation at a time
        # One RFC 3161 client for the batch, shared by both formats (signer.tsa).
        timestamper = None
        if level.rank >= Level.B_T.rank and config.timestamp.url:
            from signer.tsa import timestamper_for

            try:
                timestamper = timestamper_for(config)
            except BaseException:
                self.close()
                raise
        self.ctx = SigningContext(signer=signer, role=role, level=level, config=config,
                                  timestamper=timestamper, validation_context=vc,
                                  started=datetime.now(timezone.utc))
        self._signers: dict[str, Any] = {}  # one signer per format, built on first use

    @property
    def timestamper(self) -> Any:
        return getattr(self, "ctx", None) and self.ctx.timestamper

    @property
    def window(self) -> int:
        """Files in flight in a pipeline: twice the requests in flight, so the loop always
        has a file to sign while the TSA answers; 1 without a TSA."""
        ts = self.timestamper
        return 2 * ts.concurrency if ts is not None else 1

    def close(self) -> None:
        ts = self.timestamper
        if ts is not None:
            ts.close()
        if self._pkcs11 is not None:
            self._pkcs11.close()
            self._pkcs11 = None

    def __enter__(self) -> "Batch":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _signer(self, fmt: str) -> Any:
        signer = self._signers.get(fmt)
        if signer is None:
            from signer.formats import SIGNERS

            signer = self._signers[fmt] = SIGNERS[fmt](self.ctx)
        return signer

    def sign(self, data: bytes) -> tuple[str, bytes]:
        fmt = detect_format(data)
        return fmt, bytes(self._signer(fmt).sign(data))

    def sign_item(self, name: str, data: bytes) -> FileResult:
        return process_item(name, data, self.sign)

    async def async_sign(self, data: bytes) -> tuple[str, bytes]:
        fmt = detect_format(data)
        return fmt, bytes(await self._signer(fmt).async_sign(data))

    async def async_sign_item(self, name: str, data: bytes) -> FileResult:
        return await async_process_item(name, data, self.async_sign)


def _failure(name: str, e: Exception) -> FileResult:
    if isinstance(e, HocbaError):
        return FileResult(name, False, error=str(e))
    # one bad file never stops the batch
    return FileResult(name, False, error=t("signer.batch.internal_error", cli_lang(),
                                           kind=type(e).__name__, detail=str(e)))


def cannot_read(name: str, e: OSError) -> FileResult:
    """The result for a file that could not be read (nothing was done to it)."""
    return FileResult(name, False, error=t("signer.batch.cannot_read", cli_lang(),
                                           detail=e.strerror or str(e)))


def cannot_write(name: str, target: Path, e: OSError) -> FileResult:
    """The result for a file whose output could not be written (the input is untouched)."""
    return FileResult(name, False, error=t("signer.batch.cannot_write", cli_lang(),
                                           target=str(target), detail=e.strerror or str(e)))


def process_item(name: str, data: bytes,
                 work: Callable[[bytes], tuple[str, bytes]]) -> FileResult:
    """Run ``work`` on one document; any failure becomes that document's result only."""
    try:
        fmt, out = work(data)
    except Exception as e:
        return _failure(name, e)
    return FileResult(name, True, data=out, format=fmt)


async def async_process_item(name: str, data: bytes,
                             work: Callable[[bytes], Awaitable[tuple[str, bytes]]]) -> FileResult:
    try:
        fmt, out = await work(data)
    except Exception as e:
        return _failure(name, e)
    return FileResult(name, True, data=out, format=fmt)


def serialize_signing(signer: Any) -> None:
    """Let one signing operation at a time reach ``signer`` (a PKCS#11 session is not for
    concurrent use; pyHanko runs each token operation in a thread)."""
    from signer.tsa import LoopLock

    inner = signer.async_sign_raw
    lock = LoopLock()

    async def async_sign_raw(data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        async with lock.get():
            out: bytes = await inner(data, digest_algorithm, dry_run=dry_run)
            return out

    signer.async_sign_raw = async_sign_raw


# -- the pipeline --------------------------------------------------------------------------------

async def pipeline(items: Iterable[T], work: Callable[[T], Awaitable[R]], window: int,
                   on_result: Callable[[R], None] | None = None) -> list[R]:
    """``work`` on every item, at most ``window`` at once; results in the items' order.

    ``work`` must turn its failures into results (as :func:`async_process_item` does).
    Items are taken from ``items`` only as room frees up, so a huge batch holds only the
    window's files in memory; ``on_result`` sees each result as it completes.
    """
    results: dict[int, R] = {}
    pending: set[asyncio.Task[tuple[int, R]]] = set()

    async def one(i: int, item: T) -> tuple[int, R]:
        return i, await work(item)

    def collect(done: set[asyncio.Task[tuple[int, R]]]) -> None:
        for task in done:
            i, r = task.result()
            results[i] = r
            if on_result:
                on_result(r)

    n = 0
    for item in items:
        if len(pending) >= max(1, window):
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            collect(done)
        pending.add(asyncio.ensure_future(one(n, item)))
        n += 1
    while pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        collect(done)
    return [results[i] for i in range(n)]


# -- files ------------------------------------------------------------------------------

def atomic_write(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` via a temporary file in the same directory + rename."""
    fd, tmp = tempfile.mkstemp(dir=str(target.parent), prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.chmod(tmp, target.stat().st_mode & 0o777 if target.exists() else 0o644)
        except OSError:
            pass
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _target(path: Path, out_dir: Path | None) -> Path:
    return path if out_dir is None else out_dir / path.name


def sign_path(batch: Batch, path: Path, out_dir: Path | None) -> FileResult:
    return process_path(path, out_dir, batch.sign_item)


def process_path(path: Path, out_dir: Path | None,
                 item: Callable[[str, bytes], FileResult]) -> FileResult:
    """Read ``path``, process it with ``item``, write the result atomically (in place or to
    ``out_dir/<same name>``); the input is never touched unless the whole result is ready."""
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        return cannot_read(name, e)
    return _write_result(path, out_dir, item(name, data))


async def async_process_path(path: Path, out_dir: Path | None,
                             item: Callable[[str, bytes], Awaitable[FileResult]]) -> FileResult:
    """:func:`process_path` for a coroutine ``item`` (the pipeline's unit of work)."""
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        return cannot_read(name, e)
    return _write_result(path, out_dir, await item(name, data))


def _write_result(path: Path, out_dir: Path | None, res: FileResult) -> FileResult:
    name = str(path)
    if not res.ok or res.data is None:
        return res
    target = _target(path, out_dir)
    try:
        atomic_write(target, res.data)
    except OSError as e:
        return cannot_write(name, target, e)
    return FileResult(name, True, output=str(target), format=res.format)


class Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, total: int, stream: Any = None) -> None:
        self.total, self.done, self.failed = total, 0, 0
        self.stream = stream or sys.stderr
        self.enabled = total > 1 and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.monotonic()

    def update(self, ok: bool) -> None:
        self.done += 1
        self.failed += 0 if ok else 1
        if not self.enabled:
            return
        width = 30
        filled = int(width * self.done / self.total)
        rate = self.done / max(time.monotonic() - self.start, 1e-6)
        bar = f"[{'#' * filled}{'.' * (width - filled)}]"
        self.stream.write("\r" + t("signer.batch.progress", cli_lang(), bar=bar, done=self.done,
                                   total=self.total, rate=rate, failed=self.failed))
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


# -- worker processes (PKCS#12 only: a token session cannot be shared) -------------------------

_worker_batch: Batch | None = None
_worker_parts = 1
# A B-B batch's workers sign while the parent runs the certificate pre-check; they write
# nothing until it has decided: (decided Event, passed flag). None: no pre-check pending.
_write_gate: tuple[Any, Any] | None = None


def _open_gate(gate: tuple[Any, Any], batch: Batch, pool: Any, claim_role: bool) -> None:
    """The deferred pre-check, in the parent while the workers sign into memory. Passed:
    the workers write. Refused: they are told so (and write nothing), the pool is
    stopped and the refusal raised, exactly as when the pre-check runs first."""
    from signer.precheck import precheck_signer

    decided, passed = gate
    try:
        precheck_signer(batch.ctx.signer, batch.role, batch.config, claim_role=claim_role)
    except BaseException:
        passed.value = 0
        decided.set()
        pool.terminate()
        raise
    passed.value = 1
    decided.set()


def _writes_allowed(block: bool) -> bool | None:
    """True: write; False: the pre-check refused the certificate, write nothing; None:
    not decided yet (only when not ``block``)."""
    if _write_gate is None:
        return True
    decided, passed = _write_gate
    if not decided.is_set():
        if not block:
            return None
        decided.wait()
    return bool(passed.value)


def _worker_after_fork() -> None:
    # The batch (key, templates, font subset, size estimate) came over with fork; the TSA
    # client makes its threads and connections anew here, with this worker's share of
    # the requests in flight (the batch's bound holds across all workers).
    assert _worker_batch is not None
    ts = _worker_batch.timestamper
    if ts is not None:
        ts.share(_worker_parts)


def _worker_sign_slice(args: tuple[list[str], str | None]) -> list[FileResult]:
    assert _worker_batch is not None
    paths, out_dir = args
    return sign_paths(_worker_batch, [Path(p) for p in paths],
                      Path(out_dir) if out_dir else None)


def sign_paths(batch: Batch, paths: Sequence[Path], out_dir: Path | None,
               on_result: Callable[[FileResult], None] | None = None) -> list[FileResult]:
    """Sign ``paths`` in this process: one after another at B-B, pipelined with a TSA."""
    if batch.timestamper is None:
        return _sign_paths_writing_behind(batch, paths, out_dir, on_result)

    async def run() -> list[FileResult]:
        return await pipeline(
            paths, lambda p: async_process_path(p, out_dir, batch.async_sign_item),
            batch.window, on_result)

    return aio.run(run())


def _sign_paths_writing_behind(batch: Batch, paths: Sequence[Path], out_dir: Path | None,
                               on_result: Callable[[FileResult], None] | None
                               ) -> list[FileResult]:
    """One file after another, each written (atomically, fsync included) by a writer thread
    while the next one is signed: the fsync's wait for the disk overlaps signing. At most
    one write is pending; a file named like the one being written waits for it (the same
    file twice in place, or a result given as a later input, reads the result as before)."""
    from concurrent.futures import Future, ThreadPoolExecutor

    results: list[FileResult] = []
    pending: tuple[str, Future[FileResult]] | None = None
    # Signed, not yet handed to the writer: only while a deferred pre-check is running.
    held: list[tuple[Path, FileResult]] = []

    def finish() -> None:
        nonlocal pending
        if pending is not None:
            r = pending[1].result()
            pending = None
            results.append(r)
            if on_result:
                on_result(r)

    def release(block: bool) -> bool:
        """Hand the held results to the writer when writes are allowed; False when the
        pre-check refused the certificate (nothing is written, the parent stops us)."""
        nonlocal pending
        allowed = _writes_allowed(block)
        if allowed is False:
            held.clear()
            return False
        if allowed:
            for hp, hres in held:
                finish()
                pending = (_target(hp, out_dir).name,
                           writer.submit(_write_result, hp, out_dir, hres))
            held.clear()
        return True

    with ThreadPoolExecutor(1, thread_name_prefix="hocba-write") as writer:
        for p in paths:
            if any(_target(hp, out_dir).name == p.name for hp, _ in held):
                if not release(block=True):  # its result must be written before it is read
                    return results
            if pending is not None and pending[0] == p.name:
                finish()
            held.append((p, _read_and_sign(batch, p)))
            if not release(block=False):
                return results
        if not release(block=True):
            return results
        finish()
    return results


def _read_and_sign(batch: Batch, path: Path) -> FileResult:
    """:func:`process_path`'s reading and signing, without its writing (done behind)."""
    signed: list[FileResult] = []

    def sign(name: str, data: bytes) -> FileResult:
        signed.append(batch.sign_item(name, data))
        return FileResult(name, False)  # not ok: process_path writes nothing

    res = process_path(path, None, sign)
    return signed[0] if signed else res  # else the file could not be read


def _slices(paths: Sequence[Path], n_jobs: int, window: int) -> list[list[Path]]:
    if window == 1:  # B-B: small slices, only to balance the workers
        size = max(1, min(16, len(paths) // (4 * n_jobs)))
    else:
        # Pipelined: long slices (a slice's pipeline drains at its end, one round trip
        # with fewer requests in flight), one per worker for an ordinary batch.
        size = max(1, min(32 * window, -(-len(paths) // n_jobs)))
    return [list(paths[i:i + size]) for i in range(0, len(paths), size)]


def run_files(config: Config, role: Role, level: Level, key: KeySource, pin: str,
              paths: Sequence[Path], out_dir: Path | None, *, jobs: int | None = None,
              on_result: Callable[[FileResult], None] | None = None,
              claim_role: bool = False) -> list[FileResult]:
    """Sign ``paths`` (``out_dir`` None = in place); the pre-check runs once, first."""
    if out_dir is not None:
        # Created like `hocba records sample --out` does; an existing file there is an error.
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UsageError("signer.batch.out_dir_create", path=out_dir,
                             detail=e.strerror or str(e)) from None
    n_jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    # Worker processes only for PKCS#12 keys (a token session cannot be shared) and
    # levels without per-file network validation (B-LT/B-LTA are network-bound anyway:
    # one process, pipelined).
    parallel = (key.p12 is not None and n_jobs > 1 and len(paths) >= PARALLEL_THRESHOLD
                and level.rank <= Level.B_T.rank
                and "fork" in multiprocessing.get_all_start_methods())
    # B-B in worker processes: the certificate pre-check runs here while the workers
    # already sign, and nothing is written before it has passed (see _write_gate).
    deferred = parallel and level is Level.B_B
    batch = Batch(config, role, level, key, pin, claim_role=claim_role, precheck=not deferred)
    results: list[FileResult] = []
    try:
        if not parallel:
            return sign_paths(batch, paths, out_dir, on_result)
        global _worker_batch, _worker_parts, _write_gate
        # Build every per-batch template once, here, so the forked workers inherit them
        # (no key reload, no font subsetting, no size estimate per worker).
        pdf = next((p for p in paths if p.suffix.lower() == ".pdf"), None)
        if pdf is not None:
            try:
                batch._signer(PDF)._reserve()
            except HocbaError:
                pass  # the TSA does not answer: each file will say so (and stay untouched)
            # What pyHanko imports on its first write (XMP metadata support and lxml, the
            # stream filters): once here, not once per worker.
            import pyhanko.pdf_utils.filters  # noqa: F401
            import pyhanko.pdf_utils.metadata.xmp_xml  # noqa: F401
        ts = batch.timestamper
        if ts is not None:
            ts.close(wait=True)  # no TSA threads across the fork
        _worker_batch, _worker_parts = batch, n_jobs
        mp = multiprocessing.get_context("fork")
        gate = (mp.Event(), mp.Value("b", 0)) if deferred else None
        _write_gate = gate
        # Everything made so far lives as long as the batch: out of the cyclic GC's sight,
        # so the workers' collections neither scan nor copy (copy-on-write) those pages.
        gc.freeze()
        try:
            with mp.Pool(n_jobs, initializer=_worker_after_fork) as pool:
                out = str(out_dir) if out_dir else None
                work = [([str(p) for p in s], out) for s in _slices(paths, n_jobs, batch.window)]
                answers = pool.imap(_worker_sign_slice, work)
                if gate is not None:
                    _open_gate(gate, batch, pool, claim_role)
                for rs in answers:
                    for r in rs:
                        results.append(r)
                        if on_result:
                            on_result(r)
        finally:
            gc.unfreeze()
            _worker_batch, _worker_parts, _write_gate = None, 1, None
        return results
    finally:
        batch.close()


def run_items(config: Config, role: Role, level: Level, key: KeySource, pin: str,
              items: Iterable[tuple[str, bytes]]) -> list[FileResult]:
    with Batch(config, role, level, key, pin) as batch:
        if batch.timestamper is None:
            return [batch.sign_item(name, data) for name, data in items]

        async def run() -> list[FileResult]:
            return await pipeline(items, lambda it: batch.async_sign_item(*it), batch.window)

        return aio.run(run())

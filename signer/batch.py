"""A signing batch: one key, one login, one pre-check, many files.

:class:`Batch` opens the key source once, checks the certificate once
(:mod:`signer.precheck`), and keeps one signer per format for every file.
Files are detected from their content (``%PDF-`` → PAdES, XML → XAdES), written
atomically (temporary file in the target directory, then ``os.replace``); a
failure on one file is recorded and the batch goes on. Large PKCS#12 batches
run on every core: each worker process loads the key once.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ground.config import Config
from ground.formats import PDF, XML, sniff
from ground.errors import HocbaError, UsageError
from ground.vocab import Level, Role
from signer.context import SigningContext
from signer.keys import KeySource, load_pkcs12_signer, open_pkcs11_signer

# Below this many files a second process costs more than it saves (key load + imports).
PARALLEL_THRESHOLD = 48


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
            raise HocbaError(f"tệp XML không hợp lệ — invalid XML: {e}") from None
        return "xml"
    raise HocbaError("không nhận dạng được định dạng (không phải PDF hay XML) — "
                     "unrecognised format: neither PDF nor XML")


@dataclass(frozen=True)
class FileResult:
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
        # One RFC 3161 client (one HTTP session) for the batch, shared by both formats.
        timestamper = None
        if level.rank >= Level.B_T.rank and config.timestamp.url:
            from signer.pades import SessionTimeStamper

            timestamper = SessionTimeStamper(config.timestamp.url, config.timestamp.timeout)
        self.ctx = SigningContext(signer=signer, role=role, level=level, config=config,
                                  timestamper=timestamper, validation_context=vc,
                                  started=datetime.now(timezone.utc))
        self._signers: dict[str, Any] = {}  # one signer per format, built on first use

    def close(self) -> None:
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


def process_item(name: str, data: bytes,
                 work: Callable[[bytes], tuple[str, bytes]]) -> FileResult:
    """Run ``work`` on one document; any failure becomes that document's result only."""
    try:
        fmt, out = work(data)
    except HocbaError as e:
        return FileResult(name, False, error=str(e))
    except Exception as e:  # one bad file never stops the batch
        return FileResult(name, False, error=f"lỗi nội bộ — internal error: "
                                             f"{type(e).__name__}: {e}")
    return FileResult(name, True, data=out, format=fmt)


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
        return FileResult(name, False, error=f"không đọc được tệp — cannot read: {e.strerror}")
    res = item(name, data)
    if not res.ok or res.data is None:
        return res
    target = _target(path, out_dir)
    try:
        atomic_write(target, res.data)
    except OSError as e:
        return FileResult(name, False, error=f"không ghi được {target} — cannot write: "
                                             f"{e.strerror}")
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
        self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}"
                          f" ({rate:.0f}/s, lỗi {self.failed})")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


# -- worker processes (PKCS#12 only: a token session cannot be shared) -------------------------

_worker_batch: Batch | None = None


def _worker_after_fork() -> None:
    # The batch (key, templates, font subset, size estimate) came over with fork;
    # only HTTP connections must not be shared with the parent.
    assert _worker_batch is not None
    pades = _worker_batch._signers.get(PDF)
    ts = getattr(pades, "timestamper", None) if pades is not None else None
    if ts is not None and hasattr(ts, "_session"):
        import requests

        ts._session = requests.Session()


def _worker_sign(args: tuple[str, str | None]) -> FileResult:
    assert _worker_batch is not None
    path, out_dir = args
    return sign_path(_worker_batch, Path(path), Path(out_dir) if out_dir else None)


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
            raise UsageError(f"không tạo được thư mục đích — cannot create the output "
                             f"directory {out_dir}: {e.strerror}") from None
    batch = Batch(config, role, level, key, pin, claim_role=claim_role)
    results: list[FileResult] = []
    try:
        n_jobs = jobs if jobs is not None else (os.cpu_count() or 1)
        # Worker processes only for PKCS#12 keys (a token session cannot be shared) and
        # levels without per-file network validation (B-LT/B-LTA are network-bound anyway).
        parallel = (key.p12 is not None and n_jobs > 1 and len(paths) >= PARALLEL_THRESHOLD
                    and level.rank <= Level.B_T.rank
                    and "fork" in multiprocessing.get_all_start_methods())
        if not parallel:
            for p in paths:
                r = sign_path(batch, p, out_dir)
                results.append(r)
                if on_result:
                    on_result(r)
            return results
        global _worker_batch
        # Build every per-batch template once, here, so the forked workers inherit them
        # (no key reload, no font subsetting, no size estimate per worker).
        pdf = next((p for p in paths if p.suffix.lower() == ".pdf"), None)
        if pdf is not None:
            batch._signer(PDF)._reserve()
        _worker_batch = batch
        mp = multiprocessing.get_context("fork")
        try:
            with mp.Pool(n_jobs, initializer=_worker_after_fork) as pool:
                work = [(str(p), str(out_dir) if out_dir else None) for p in paths]
                chunk = max(1, min(16, len(work) // (4 * n_jobs)))
                for r in pool.imap(_worker_sign, work, chunksize=chunk):
                    results.append(r)
                    if on_result:
                        on_result(r)
        finally:
            _worker_batch = None
        return results
    finally:
        batch.close()


def run_items(config: Config, role: Role, level: Level, key: KeySource, pin: str,
              items: Iterable[tuple[str, bytes]]) -> list[FileResult]:
    with Batch(config, role, level, key, pin) as batch:
        return [batch.sign_item(name, data) for name, data in items]

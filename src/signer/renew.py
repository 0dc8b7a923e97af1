"""Renew the archive timestamps of long-term (B-LTA) records.

A B-LTA record stays verifiable only while the certificate of its LAST archive
timestamp's TSA is valid and its algorithms are strong (EN 319 102-1 5.6.3: the
archive timestamp is the proof of existence of everything before it). Before
that, the archive is timestamped again:

* PDF — ETSI EN 319 142-1 5.5 (B-LTA): validation data for the last document
  timestamp goes into the DSS (a fresh OCSP/CRL for its TSA chain), then a new
  document timestamp covers the whole file. pyHanko's
  ``PdfTimeStamper.update_archival_timestamp_chain`` does exactly this; it first
  validates the last timestamp (a broken chain is refused, not extended).

No key and no PIN: only the TSA and the revocation services are contacted.
A :class:`Renewer` holds what a batch shares — one RFC 3161 client (one HTTP
session) and one :class:`ValidationContext` (fetched OCSP responses/CRLs reused
across files); files are written atomically like ``hocba sign``.
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Callable, Sequence

from hocba.config import Config
from hocba.errors import HocbaError, UsageError
from signer.batch import FileResult, atomic_write, detect_format

__all__ = ["Renewer", "renew", "renew_files"]


class Renewer:
    """One TSA client and one validation context for a batch of renewals."""

    def __init__(self, config: Config) -> None:
        from signer.pades import SessionTimeStamper
        from signer.precheck import build_validation_context

        if not config.timestamp.url:
            raise UsageError("gia hạn dấu thời gian cần dịch vụ cấp dấu thời gian ([timestamp] "
                             "url) — renewing archive timestamps needs a TSA URL")
        self.config = config
        self.timestamper = SessionTimeStamper(config.timestamp.url, config.timestamp.timeout)
        # Validation of the last timestamp "now" and its fresh revocation data (fetched
        # once per batch: every file of a batch shares the TSA chain).
        self.validation_context = build_validation_context(config)

    def renew(self, data: bytes) -> tuple[str, bytes]:
        fmt = detect_format(data)
        if fmt == "pdf":
            return fmt, self._renew_pdf(data)
        raise HocbaError("chưa hỗ trợ gia hạn dấu thời gian cho XML — renewing XML archive "
                         "timestamps is not supported yet")

    def renew_item(self, name: str, data: bytes) -> FileResult:
        try:
            fmt, out = self.renew(data)
        except HocbaError as e:
            return FileResult(name, False, error=str(e))
        except Exception as e:  # one bad file never stops the batch
            return FileResult(name, False, error=f"lỗi nội bộ — internal error: "
                                                 f"{type(e).__name__}: {e}")
        return FileResult(name, True, data=out, format=fmt)

    # -- PAdES (EN 319 142-1 5.5) ---------------------------------------------------------

    def _renew_pdf(self, data: bytes) -> bytes:
        from pyhanko.pdf_utils.misc import PdfError
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.signers.pdf_signer import PdfTimeStamper

        try:
            reader = PdfFileReader(io.BytesIO(data), strict=False)
            if reader.encrypted:
                raise HocbaError("tệp PDF được mã hoá — encrypted PDFs are not supported")
            sigs = reader.embedded_signatures
        except (PdfError, ValueError, KeyError, IndexError, TypeError) as e:
            raise HocbaError(f"không đọc được tệp PDF — not a readable PDF: {e}") from None
        if not sigs:
            raise HocbaError("tệp PDF không có chữ ký — nothing to renew: the PDF has no "
                             "signatures")
        if not any(s.sig_object_type == "/DocTimeStamp" for s in sigs):
            raise HocbaError("tệp PDF không có dấu thời gian lưu trữ (chưa ký mức B-LTA) — "
                             "no archive (document) timestamp to renew: sign at B-LTA first")
        stamper = PdfTimeStamper(self.timestamper)
        try:
            # EN 319 142-1 5.5: DSS for the last document timestamp, then a new one.
            out = stamper.update_archival_timestamp_chain(
                reader, self.validation_context, in_place=False)
        except HocbaError:
            raise
        except Exception as e:
            raise HocbaError("không gia hạn được dấu thời gian lưu trữ (dấu thời gian cuối không "
                             "xác thực được hoặc dịch vụ không trả lời) — cannot renew the "
                             f"archive timestamp: {type(e).__name__}: {e}") from None
        return bytes(out.getvalue())


def renew(data: bytes, config: Config) -> bytes:
    """Renew one record's archive timestamp; returns the renewed bytes."""
    return Renewer(config).renew(data)[1]


def renew_path(renewer: Renewer, path: Path, out_dir: Path | None) -> FileResult:
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        return FileResult(name, False, error=f"không đọc được tệp — cannot read: {e.strerror}")
    res = renewer.renew_item(name, data)
    if not res.ok or res.data is None:
        return res
    target = path if out_dir is None else out_dir / path.name
    try:
        atomic_write(target, res.data)
    except OSError as e:
        return FileResult(name, False, error=f"không ghi được {target} — cannot write: "
                                             f"{e.strerror}")
    return FileResult(name, True, output=str(target), format=res.format)


def renew_files(config: Config, paths: Sequence[str | os.PathLike[str]],
                out_dir: str | os.PathLike[str] | None, *,
                on_result: Callable[[FileResult], None] | None = None) -> list[FileResult]:
    """Renew ``paths`` to ``out_dir/<same name>`` (``None`` = in place, atomically)."""
    out = Path(out_dir) if out_dir is not None else None
    if out is not None and not out.is_dir():
        raise UsageError(f"thư mục đích không tồn tại — output directory not found: {out}")
    renewer = Renewer(config)
    results: list[FileResult] = []
    for p in paths:
        r = renew_path(renewer, Path(p), out)
        results.append(r)
        if on_result:
            on_result(r)
    return results


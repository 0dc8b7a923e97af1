"""From an HTTP request to the files to verify: multipart, raw body, ZIP batches.

Everything stays in memory. The format is recognised from the content first
and from the declared type or name second, so a truncated PDF still reaches the
verifier (and comes back as a FORMAT_FAILURE report) while a photo is refused
with 415. ZIP archives (a university's batch) are expanded under limits
against zip bombs; their entry names are only labels, never paths.
"""
from __future__ import annotations

from ground.formats import sniff as _sniff

import hashlib
import io
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass

from flask import Request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, UnsupportedMediaType

from ground.config import LimitsConfig
from ground.vocab import Indication, SubIndication
from verifier.report import Check, Finding, Report
from verifier.web.errors import Problem, TooLarge
from verifier.web.i18n import megabytes

MB = 1024 * 1024



class UnsupportedUpload(Problem, UnsupportedMediaType):
    error = "unsupported_media_type"


class ZipLimitExceeded(Problem, RequestEntityTooLarge):
    error = "zip_limit_exceeded"


class NoFile(Problem, BadRequest):
    error = "no_file"


@dataclass(frozen=True)
class Upload:
    """One file to verify. ``name`` is a label for the report, nothing else."""

    name: str
    data: bytes
    kind: str | None  # pdf | xml | None (declared as PDF/XML but not recognisable)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


# An item is either a file to verify or a report already decided here
# (a damaged archive, a zip-bomb entry, ...).
Item = Upload | Report

PDF_TYPES = {"application/pdf", "application/x-pdf"}
XML_TYPES = {"application/xml", "text/xml"}
ZIP_TYPES = {"application/zip", "application/x-zip-compressed", "application/x-zip"}
SNIFF_TYPES = {"", "application/octet-stream"}


def sniff(data: bytes) -> str | None:
    """The format from the content: pdf, xml, zip or None (ground.formats)."""
    return _sniff(data)


def declared(content_type: str | None, filename: str | None) -> str | None:
    ct = (content_type or "").split(";")[0].strip().lower()
    if ct in PDF_TYPES:
        return "pdf"
    if ct in XML_TYPES or ct.endswith("+xml"):
        return "xml"
    if ct in ZIP_TYPES:
        return "zip"
    ext = (filename or "").rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    return {"pdf": "pdf", "xml": "xml", "zip": "zip"}.get(ext)


def label(name: str | None, fallback: str) -> str:
    """A display label: NFC, no control characters, bounded length."""
    text = unicodedata.normalize("NFC", name or "")
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip()
    return (text or fallback)[:255]


class Budget:
    """Per-request limits for expanding archives (CONTRACT 7, zip bombs)."""

    def __init__(self, limits: LimitsConfig) -> None:
        self.max_entries = limits.max_zip_entries
        self.max_total = int(limits.max_zip_total_mb * MB)
        self.max_ratio = limits.max_zip_ratio
        self.entries = 0
        self.total = 0


def collect(request: Request, limits: LimitsConfig) -> list[Item]:
    """The files a request carries, in order. Raises 400/413/415 HTTP errors."""
    mimetype = request.mimetype
    budget = Budget(limits)
    if mimetype == "multipart/form-data":
        parts = request.files.getlist("file")
        check_complete(request)
        if not parts:
            if request.form.getlist("file"):
                # werkzeug files a part without a filename as text (decoded, lossy):
                # verifying it would judge altered bytes, so say what to send instead.
                raise NoFile("no_filename")
            raise NoFile("no_file")
        items: list[Item] = []
        for n, part in enumerate(parts, 1):
            name = label(part.filename, f"file-{n}")
            data = part.stream.read()
            kind = _kind(data, declared(part.mimetype, part.filename))
            if kind is None:
                raise UnsupportedUpload("part_unsupported", n=n, name=repr(name))
            items.extend(_item(name, data, kind, budget))
        return items
    if mimetype == "application/x-www-form-urlencoded":
        raise UnsupportedUpload("form_urlencoded")
    kind = declared(mimetype, None)
    if kind is None and mimetype not in SNIFF_TYPES:
        raise UnsupportedUpload("content_type", content_type=repr(mimetype))
    data = request.get_data(cache=False)
    check_complete(request)
    if not data and not mimetype:
        raise NoFile("empty_body")
    kind = _kind(data, kind)
    if kind is None:
        raise UnsupportedUpload("body_unsupported")
    ext = {"pdf": ".pdf", "xml": ".xml", "zip": ".zip"}.get(kind, "")
    name = label(request.args.get("name"), "upload" + ext)
    return list(_item(name, data, kind, budget))


def _kind(data: bytes, declared_kind: str | None) -> str | None:
    """The content decides, except that a ZIP is expanded only when it was sent as one
    (``application/zip`` or a ``.zip`` name): a .docx, .xlsx or .odt (ZIP inside)
    renamed .pdf is a file that is not a record, as ``hocba verify`` says."""
    found = sniff(data)
    if found == "zip" and declared_kind != "zip":
        return "not_a_record"
    return found or declared_kind


def check_complete(request: Request) -> None:
    """413 for a body without Content-Length (chunked) cut at ``MAX_CONTENT_LENGTH``.

    Werkzeug stops reading such a stream at the limit without an error, so an
    oversized upload would otherwise be verified truncated (or as no file).
    """
    stream = request.stream
    if request.content_length is None and getattr(stream, "is_exhausted", False):
        raise TooLarge("too_large", limit=megabytes(request.max_content_length))


def _item(name: str, data: bytes, kind: str, budget: Budget) -> list[Item]:
    if kind == "zip":
        return expand_zip(name, data, budget)
    budget.entries += 1
    if budget.entries > budget.max_entries:
        raise ZipLimitExceeded("too_many_files", limit=budget.max_entries)
    return [Upload(name, data, kind if kind in ("pdf", "xml") else None)]


def expand_zip(name: str, data: bytes, budget: Budget) -> list[Item]:
    """One item per archive entry, within the entry, size and ratio limits."""
    sha = hashlib.sha256(data).hexdigest()
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in zf.infolist()
                 if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        return [failure(name, sha, None, Finding.of("web_bad_zip"))]
    budget.entries += len(infos)
    if budget.entries > budget.max_entries:
        raise ZipLimitExceeded("zip_entries", name=name, count=len(infos),
                               limit=budget.max_entries)
    declared_total = sum(i.file_size for i in infos)
    if budget.total + declared_total > budget.max_total:
        raise ZipLimitExceeded("zip_total", name=name, size=declared_total // MB,
                               limit=budget.max_total // MB)
    items: list[Item] = []
    for info in infos:
        entry = label(f"{name}/{info.filename}", f"{name}/entry")
        items.append(_entry(zf, info, entry, budget))
    return items


def _entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, entry: str, budget: Budget) -> Item:
    kind_by_name = declared(None, info.filename)
    ratio = info.file_size / max(info.compress_size, 1)
    if ratio > budget.max_ratio:
        return failure(entry, None, kind_by_name, Finding.of(
            "web_zip_ratio", ratio=f"{ratio:.0f}", limit=f"{budget.max_ratio:g}"))
    if info.flag_bits & 0x1:
        return failure(entry, None, kind_by_name,
                       Finding.of("web_zip_entry_bad", detail="encrypted"))
    try:
        with zf.open(info) as f:
            # zipfile stops at the declared size; read one byte more to catch a lie.
            content = f.read(info.file_size + 1)
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, OSError,
            ValueError, RuntimeError) as e:
        return failure(entry, None, kind_by_name,
                       Finding.of("web_zip_entry_bad", detail=type(e).__name__))
    budget.total += len(content)
    if len(content) > info.file_size or budget.total > budget.max_total:
        raise ZipLimitExceeded("zip_entry_larger", name=entry)
    found = sniff(content)
    if found == "zip":
        return failure(entry, hashlib.sha256(content).hexdigest(), None,
                       Finding.of("web_nested_archive"))
    kind = found or kind_by_name
    if kind is None:
        return failure(entry, hashlib.sha256(content).hexdigest(), None,
                       Finding.of("web_unsupported_entry"))
    return Upload(entry, content, kind)


def failure(name: str, sha256: str | None, fmt: str | None, finding: Finding) -> Report:
    """A FORMAT_FAILURE report decided before verification."""
    return Report(file=name, sha256=sha256 or "", format=fmt, checks=(
        Check("format", False, finding, Indication.TOTAL_FAILED, SubIndication.FORMAT_FAILURE),))

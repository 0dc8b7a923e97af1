"""The role registry (CONTRACT 8): which certificate may sign in which role, and when.

A school system or a Department of Education publishes a UTF-8 CSV with the header
``sha256,role,school_code,valid_from,valid_to``: the certificate's SHA-256 fingerprint
in hex, a role name, the school's code (mã trường), and ISO dates (empty = open).
Dates are calendar days in Vietnam's time (UTC+07:00), both ends included.

Read once per process (cached by path, size and modification time); every problem is a
:class:`RegistryError` naming the line.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from ground.errors import UsageError
from ground.vocab import Role

COLUMNS = ("sha256", "role", "school_code", "valid_from", "valid_to")
VN_TZ = timezone(timedelta(hours=7))
MAX_BYTES = 64 * 1024 * 1024


class RegistryError(UsageError, ValueError):
    """The registry file cannot be read or has a bad line (a catalog key + fields)."""


@dataclass(frozen=True)
class RegistryEntry:
    sha256: str  # lowercase hex
    role: Role
    school_code: str | None
    valid_from: date | None
    valid_to: date | None
    line: int

    def valid_at(self, when: datetime) -> bool:
        day = when.astimezone(VN_TZ).date()
        return ((self.valid_from is None or self.valid_from <= day)
                and (self.valid_to is None or day <= self.valid_to))

    def describe(self) -> str:
        def d(x: date | None) -> str:
            return x.strftime("%d/%m/%Y") if x else "…"
        return f"{d(self.valid_from)}–{d(self.valid_to)}"


@dataclass(frozen=True)
class RoleRegistry:
    source: Path
    entries: tuple[RegistryEntry, ...]

    def entries_for(self, sha256_hex: str) -> tuple[RegistryEntry, ...]:
        key = sha256_hex.lower()
        return tuple(e for e in self.entries if e.sha256 == key)

    def role_at(self, sha256_hex: str, when: datetime | tuple[datetime, ...],
                school_code: str | None = None) -> RegistryEntry | None:
        """The entry giving this certificate a role at every moment of ``when`` (for the
        record's school when both codes are known); ``None`` when no entry does, or when
        entries valid then disagree on the role."""
        moments = when if isinstance(when, tuple) else (when,)
        hits = [e for e in self.entries_for(sha256_hex)
                if all(e.valid_at(m) for m in moments)
                and (not e.school_code or not school_code
                     or _code(e.school_code) == _code(school_code))]
        roles = {e.role for e in hits}
        return hits[0] if len(roles) == 1 else None


def _code(s: str) -> str:
    return s.strip().casefold()


def _date(value: str, what: str, line: int, file: Path) -> date | None:
    v = value.strip()
    if not v:
        return None
    try:
        return date.fromisoformat(v)
    except ValueError:
        raise RegistryError("ground.registry.err.not_date", file=file, line=line, column=what,
                            value=repr(v)) from None


def parse_registry(data: bytes, file: Path) -> RoleRegistry:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RegistryError("ground.registry.err.not_utf8", file=file) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise RegistryError("ground.registry.err.empty", file=file,
                            header=",".join(COLUMNS)) from None
    except csv.Error as e:
        raise RegistryError("ground.registry.err.csv", file=file, line=1, detail=str(e)) from None
    names = [h.strip().lower() for h in header]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise RegistryError("ground.registry.err.header", file=file, missing=", ".join(missing),
                            header=",".join(COLUMNS))
    idx = {c: names.index(c) for c in COLUMNS}
    entries: list[RegistryEntry] = []
    try:
        for row in reader:
            line = reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) < len(names):
                raise RegistryError("ground.registry.err.columns", file=file, line=line,
                                    count=len(row), expected=len(names))
            fp = "".join(row[idx["sha256"]].split()).replace(":", "").lower()
            if len(fp) != 64 or any(ch not in "0123456789abcdef" for ch in fp):
                raise RegistryError("ground.registry.err.sha256", file=file, line=line)
            try:
                role = Role.parse(row[idx["role"]].strip())
            except ValueError:
                raise RegistryError("ground.registry.err.unknown_role", file=file, line=line,
                                    role=repr(row[idx["role"]].strip()),
                                    known=", ".join(r.value for r in Role)) from None
            vf = _date(row[idx["valid_from"]], "valid_from", line, file)
            vt = _date(row[idx["valid_to"]], "valid_to", line, file)
            if vf and vt and vf > vt:
                raise RegistryError("ground.registry.err.dates_order", file=file, line=line)
            code = row[idx["school_code"]].strip() or None
            entries.append(RegistryEntry(fp, role, code, vf, vt, line))
    except csv.Error as e:
        raise RegistryError("ground.registry.err.csv", file=file, line=reader.line_num,
                            detail=str(e)) from None
    return RoleRegistry(file, tuple(entries))


def load_registry(path: Path | str) -> RoleRegistry:
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise RegistryError("ground.registry.err.not_found", path=p) from None
    except OSError as e:
        raise RegistryError("ground.registry.err.unreadable", path=p,
                            detail=e.strerror or str(e)) from None
    if st.st_size > MAX_BYTES:
        raise RegistryError("ground.registry.err.too_large", path=p,
                            limit=MAX_BYTES // (1024 * 1024))
    return _load(str(p.resolve()), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=16)
def _load(path: str, size: int, mtime_ns: int) -> RoleRegistry:
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise RegistryError("ground.registry.err.unreadable", path=path,
                            detail=e.strerror or str(e)) from None
    return parse_registry(data, Path(path))


__all__ = ["COLUMNS", "RegistryEntry", "RegistryError", "RoleRegistry", "load_registry",
           "parse_registry"]

"""Findings and facts: the values the certificate judge and the format modules return,
rendered only at the edge (a message code + arguments, in the report's language).

Shared by the verifier's report and the signing prechecks (the one judge lives in the
shared ground, so its vocabulary does too)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any


class Foreign(str):
    """Text a library wrote (pyHanko, certvalidator, lxml): English, technical. English
    reports show it as a detail; Vietnamese reports leave it out rather than mix
    languages (the Vietnamese sentence around it says what happened)."""

    __slots__ = ()


@dataclass(frozen=True)
class Finding:
    """A note about a signature or the document: message code + arguments."""

    code: str
    # Argument values are strings, or findings rendered in the report's language
    # (a reason inside a reason), never text rendered in advance in one language.
    args: tuple[tuple[str, "str | Finding | tuple[Finding, ...]"], ...] = ()

    @staticmethod
    def of(code: str, **args: Any) -> "Finding":
        def keep(v: Any) -> "str | Finding | tuple[Finding, ...]":
            if isinstance(v, (Finding, Foreign)):
                return v
            if isinstance(v, (tuple, list)) and all(isinstance(x, Finding) for x in v):
                return tuple(v)
            return str(v)
        return Finding(code, tuple((k, keep(v)) for k, v in args.items()))

    def render(self, lang: str = "vi") -> str:
        from ground.messages import render

        def text(v: "str | Finding | tuple[Finding, ...]") -> str:
            # a sentence inside a sentence: without its own final full stop
            if isinstance(v, Finding):
                return v.render(lang).rstrip(".")
            if isinstance(v, tuple):
                return "; ".join(f.render(lang).rstrip(".") for f in v)
            return v
        return render(self.code, {k: (v if isinstance(v, Foreign) else text(v))
                                  for k, v in self.args}, lang)

    @property
    def informational(self) -> bool:
        """A note that something checked out (never the reason for a failure)."""
        return self.code.endswith("_ok") or self.code in _INFO_CODES


_INFO_CODES = frozenset({"sig_intact", "signed_elements", "cert_ok_at_poe",
                         "role_from_registry", "role_vouched_by_seal"})


@dataclass(frozen=True)
class SignerInfo:
    common_name: str | None
    organization: str | None
    title: str | None
    subject: str
    issuer: str
    serial: str
    not_before: datetime
    not_after: datetime
    # SHA-256 of the certificate (hex): what a role registry lists (CONTRACT 8).
    sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "common_name": self.common_name, "organization": self.organization,
            "title": self.title, "subject": self.subject, "issuer": self.issuer,
            "serial": self.serial, "not_before": _iso(self.not_before),
            "not_after": _iso(self.not_after), "sha256": self.sha256,
        }


@dataclass(frozen=True)
class TimestampInfo:
    time: datetime
    tsa: str
    valid: bool

    def to_dict(self) -> dict[str, Any]:
        return {"time": _iso(self.time), "tsa": self.tsa, "valid": self.valid}


@dataclass(frozen=True)
class RevocationInfo:
    status: str  # good | revoked | unknown
    source: str | None  # ocsp | crl | embedded | None

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "source": self.source}


def _iso(d: datetime | None) -> str | None:
    return d.isoformat() if d is not None else None


_ICT = timezone(timedelta(hours=7))


def fmt_time(d: datetime | None) -> str:
    """The one way a moment is shown to people, in both languages: Vietnam time with the
    offset spelled out, to the second (``dd/mm/yyyy HH:MM:SS (UTC+07:00)``)."""
    if d is None:
        return "—"
    try:
        return d.astimezone(_ICT).strftime("%d/%m/%Y %H:%M:%S (UTC+07:00)")
    except OverflowError:  # e.g. notAfter 99991231235959Z (RFC 5280: no expiry date)
        return d.strftime("%d/%m/%Y %H:%M:%S (UTC)")

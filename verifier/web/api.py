"""The JSON API (CONTRACT 7): ``POST /api/v1/verify``, ``/healthz``, ``/openapi.json``."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from verifier.web.errors import BadParameter

from ground import __version__
from verifier.report import Report
from verifier.web import run, uploads

bp = Blueprint("api", __name__)


def service() -> dict[str, Any]:
    return current_app.extensions["hocba"]  # type: ignore[no-any-return]


def parse_lang(value: str | None, strict: bool) -> str:
    if value in ("vi", "en"):
        return value
    if value is None or value == "" or not strict:
        return "vi"
    raise BadParameter("bad_lang", value=_echo(value))


def _echo(value: str) -> str:
    """A client's value quoted in an error, bounded."""
    return repr(value if len(value) <= 40 else value[:40] + "…")


def parse_validation_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        t = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        t = t if t.tzinfo else t.replace(tzinfo=timezone.utc)
        # Shown in Vietnam time and compared in UTC: both must be representable.
        t.astimezone(timezone.utc) + timedelta(hours=14)
        t.astimezone(timezone.utc) - timedelta(hours=14)
    except (ValueError, OverflowError):
        raise BadParameter("bad_validation_time", value=_echo(value)) from None
    return t


def verify_request(validation_time: datetime | None) -> list[Report]:
    """Collect the request's files and verify them (shared with the page)."""
    svc = service()
    items = uploads.collect(request, svc["config"].limits)
    g.upload_hashes = [i.sha256 for i in items]
    return run.verify_items(
        items, svc["verifier"], svc["executor"],
        timeout=float(current_app.config["HOCBA_REQUEST_TIMEOUT"]),
        validation_time=validation_time)


@bp.post("/api/v1/verify")
def verify() -> Any:
    lang = parse_lang(request.args.get("lang"), strict=True)
    fmt = request.args.get("format") or "json"
    if fmt not in ("json", "etsi"):
        raise BadParameter("bad_format", value=_echo(fmt))
    vt = parse_validation_time(request.args.get("validation_time"))
    reports = verify_request(vt)
    if fmt == "etsi":
        # CONTRACT 7: one file -> its ETSI TS 119 102-2 validation report.
        if len(reports) != 1:
            raise BadParameter("etsi_one_file", count=len(reports))
        from flask import Response

        from verifier.etsi import render_report

        return Response(render_report(reports[0], lang), status=200,
                        mimetype="application/xml")
    return jsonify({"results": [r.to_dict(lang) for r in reports]})


@bp.get("/healthz")
def healthz() -> Any:
    cfg = service()["config"]
    return jsonify({"status": "ok", "version": __version__,
                    "trust_anchors": len(service()["verifier"].policy.trust_anchors),
                    "revocation_mode": cfg.revocation.mode})


@bp.get("/openapi.json")
def openapi() -> Any:
    from verifier.web.openapi import spec

    cfg = service()["config"]
    return jsonify(spec(current_app.config["MAX_CONTENT_LENGTH"], cfg.limits.max_zip_entries,
                        cfg.jobs.result_ttl_hours))

"""The two-step signing service (issue 9): a Flask app factory for the school system's backend.

``gunicorn 'signer.service:create_app()'``. Separate from the verifier service:
this one is internal to a school system, authenticated by a bearer token from
``[twostep] token``, and holds **no private keys**: it prepares records,
hands out digests, and finishes records with the values the key holder
returns. Prepared batches live in ``[twostep] state_dir`` and survive a
restart; see ``docs/two-step-signing.md`` for the flow with curl examples.

Endpoints (JSON; every error is ``{"error": "...", "detail": "..."}``):

- ``POST /api/v1/twostep/batches`` — prepare. JSON ``{"role", "level",
  "certificates": [PEM or base64 DER, signer first], "records": [{"name",
  "data": base64}]}`` or ``multipart/form-data`` with fields ``role``,
  ``level``, ``certificate`` (repeatable, file or text) and ``file``
  (repeatable). ``201`` with the batch for the key holder.
- ``POST /api/v1/twostep/batches/<id>/finish`` — ``{"signatures": [{"id",
  "value": base64}]}``. ``200`` with the signed records (base64).
- ``GET /api/v1/twostep/batches/<id>`` — status; a finished batch's results
  (``?data=1`` with the signed records) until it expires.
- ``GET /healthz``.

Every ``detail`` (and a record's ``error``) is in the request's language: ``?lang=en`` for
English, Vietnamese by default (texts from the catalog, :mod:`ground.i18n`).
"""
from __future__ import annotations

import base64
import binascii
import hmac
import io
import logging
import os
import unicodedata
from typing import IO, Any, Mapping, NoReturn

from flask import Blueprint, Flask, Request, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from ground.config import Config, load_config
from ground.errors import ConfigError, HocbaError, UsageError
from ground.i18n import has, lang_of, t
from ground.vocab import Level, Role
from signer.twostep import TwoStep
from signer.twostep_store import TwoStepError

MB = 1024 * 1024
log = logging.getLogger("signer.service")

bp = Blueprint("twostep", __name__)


class InMemoryRequest(Request):
    """Uploaded records stay in memory (pupils' data is not spooled to temporary files)."""

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None,
                         content_length: int | None = None) -> IO[bytes]:
        return io.BytesIO()


def _error(status: int, error: str, detail: str) -> Any:
    resp = jsonify({"error": error, "detail": detail})
    resp.status_code = status
    return resp


def request_lang() -> str:
    """The language the client asked for (``?lang=en``); Vietnamese by default."""
    return lang_of(request.args.get("lang"))


def _ts() -> TwoStep:
    return current_app.extensions["hocba_twostep"]["twostep"]  # type: ignore[no-any-return]


# -- authentication --------------------------------------------------------------------------

@bp.before_app_request
def _authenticate() -> Any:
    if request.path == "/healthz":
        return None
    expected: str = current_app.extensions["hocba_twostep"]["token"]
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given or not hmac.compare_digest(
            given.strip().encode(), expected.encode()):
        resp = _error(401, "unauthorized", t("signer.service.unauthorized", request_lang()))
        resp.headers["WWW-Authenticate"] = 'Bearer realm="hocba-twostep"'
        return resp
    return None


# -- input -----------------------------------------------------------------------------------

def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise UsageError("signer.service.base64_type", what=what)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise UsageError("signer.service.base64_invalid", what=what) from None


def _label(name: Any, fallback: str) -> str:
    """A record's name is only a label: NFC, no control characters, bounded."""
    text = unicodedata.normalize("NFC", name if isinstance(name, str) else "")
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip()
    return (text or fallback)[:255]


def _check_complete() -> None:
    """413 for a chunked body cut at ``MAX_CONTENT_LENGTH`` (werkzeug truncates it silently)."""
    if request.content_length is None and getattr(request.stream, "is_exhausted", False):
        raise TwoStepError("signer.service.too_large", status=413)


def _json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    _check_complete()
    if not isinstance(data, dict):
        raise UsageError("signer.service.json_object")
    return data


def _prepare_input() -> tuple[list[tuple[str, bytes]], str, str, list[bytes]]:
    if request.mimetype == "multipart/form-data":
        role = request.form.get("role", "")
        _check_complete()
        level = request.form.get("level", "B-T")
        certs = [f.read() for f in request.files.getlist("certificate")]
        certs += [c.encode() for c in request.form.getlist("certificate")]
        records = [(_label(f.filename, f"record-{i}"), f.read())
                   for i, f in enumerate(request.files.getlist("file"))]
    elif request.mimetype == "application/json":
        body = _json_body()
        role = body.get("role", "")
        level = body.get("level", "B-T")
        raw_certs = body.get("certificates")
        if not isinstance(raw_certs, list) or not all(isinstance(c, str) for c in raw_certs):
            raise UsageError("signer.service.certificates")
        certs = [c.encode() for c in raw_certs]
        raw_records = body.get("records")
        if not isinstance(raw_records, list):
            raise UsageError("signer.service.records")
        records = []
        for i, r in enumerate(raw_records):
            if not isinstance(r, dict):
                raise UsageError("signer.service.record_object", index=i)
            name = r.get("name")
            if name is not None and not isinstance(name, str):
                raise UsageError("signer.service.record_name", index=i)
            records.append((_label(name, f"record-{i}"), _b64(r.get("data"), f"records[{i}].data")))
    else:
        _unsupported()
    if not isinstance(role, str) or not role:
        raise UsageError("signer.service.role_required", choices=", ".join(r.value for r in Role))
    if not isinstance(level, str) or level not in {x.value for x in Level}:
        raise UsageError("signer.service.level", choices=", ".join(x.value for x in Level))
    if not certs:
        raise UsageError("signer.service.certificate_required")
    return records, role, level, certs


def _unsupported() -> NoReturn:
    raise TwoStepError("signer.service.media_type", status=415, code="unsupported_media_type")


# -- routes ----------------------------------------------------------------------------------

@bp.get("/healthz")
def healthz() -> Any:
    return jsonify({"status": "ok"})


@bp.post("/api/v1/twostep/batches")
def prepare() -> Any:
    records, role, level, certs = _prepare_input()
    try:
        Role.parse(role)
    except ValueError:
        raise UsageError("signer.service.bad_role", value=repr(role[:40]),
                         choices=", ".join(r.value for r in Role)) from None
    batch = _ts().prepare(records, role=role, level=level, certificates=certs,
                          lang=request_lang())
    log.info("prepared batch %s: %d records, %d refused", batch.batch_id, len(batch.items),
             len(batch.refused))
    resp = jsonify(batch.to_dict())
    resp.status_code = 201
    resp.headers["Location"] = f"/api/v1/twostep/batches/{batch.batch_id}"
    return resp


@bp.post("/api/v1/twostep/batches/<batch_id>/finish")
def finish(batch_id: str) -> Any:
    if request.mimetype != "application/json":
        _unsupported()
    body = _json_body()
    sigs = body.get("signatures")
    values: dict[str, bytes] = {}
    if isinstance(sigs, dict):
        for k, v in sigs.items():
            values[str(k)] = _b64(v, f"signatures[{k}]")
    elif isinstance(sigs, list):
        for i, s in enumerate(sigs):
            if not isinstance(s, dict) or "id" not in s:
                raise UsageError("signer.service.signature_object", index=i)
            values[str(s["id"])] = _b64(s.get("value"), f"signatures[{i}].value")
    else:
        raise UsageError("signer.service.signatures")
    result = _ts().finish(batch_id, values, lang=request_lang())
    log.info("finished batch %s: %d signed, %d failed", batch_id,
             sum(r.ok for r in result.records), sum(not r.ok for r in result.records))
    return jsonify(result.to_dict(with_data=True))


@bp.get("/api/v1/twostep/batches/<batch_id>")
def status(batch_id: str) -> Any:
    return jsonify(_ts().status(batch_id, with_data=request.args.get("data") in ("1", "true")))


# -- errors ----------------------------------------------------------------------------------

def _handle_twostep(e: TwoStepError) -> Any:
    return _error(e.status, e.code, e.render(request_lang()))


def _handle_usage(e: UsageError) -> Any:
    return _error(400, "bad_request", e.render(request_lang()))


def _handle_hocba(e: HocbaError) -> Any:
    return _error(422, "unprocessable", e.render(request_lang()))


def _handle_http(e: HTTPException) -> Any:
    status = e.code or 500
    name = "payload_too_large" if status == 413 else (e.name or "error").lower().replace(" ", "_")
    key = f"signer.service.http_{status}"
    detail = (t(key, request_lang()) if has(key)
              else t("signer.service.http_other", request_lang(), status=status))
    return _error(status, name, detail)


def _handle_unexpected(e: Exception) -> Any:
    log.exception("internal error in %s %s", request.method, request.path)
    return _error(500, "internal_error",
                  t("signer.service.internal", request_lang(), name=type(e).__name__))


# -- factory ---------------------------------------------------------------------------------

def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the signing service.

    ``test_config`` overrides Flask settings; also ``HOCBA_CONFIG`` (a path),
    ``HOCBA_CONFIG_OBJ`` (a loaded :class:`Config`), ``TWOSTEP_TOKEN``,
    ``TWOSTEP_STATE_DIR``, ``TWOSTEP_TTL_MINUTES`` and ``TWOSTEP_CLOCK`` (a
    callable returning an aware datetime, for expiry tests). Without a token
    the service refuses to start (:class:`ConfigError`).
    """
    overrides = dict(test_config or {})
    cfg = overrides.pop("HOCBA_CONFIG_OBJ", None)
    if cfg is None:
        cfg = load_config(overrides.pop("HOCBA_CONFIG", None) or os.environ.get("HOCBA_CONFIG"))
    assert isinstance(cfg, Config)
    token = overrides.pop("TWOSTEP_TOKEN", None) or cfg.twostep.token
    if not token:
        raise ConfigError("signer.service.no_token")
    kwargs: dict[str, Any] = {}
    if "TWOSTEP_CLOCK" in overrides:
        kwargs["clock"] = overrides.pop("TWOSTEP_CLOCK")
    state_dir = overrides.pop("TWOSTEP_STATE_DIR", None)
    ttl = overrides.pop("TWOSTEP_TTL_MINUTES", None)
    from pathlib import Path

    ts = TwoStep(cfg, state_dir=Path(state_dir) if state_dir else None, ttl_minutes=ttl, **kwargs)
    ts.store.purge_expired()

    app = Flask(__name__)
    app.request_class = InMemoryRequest
    app.config.update(
        # Records travel base64-encoded in JSON: room for a full batch of them.
        MAX_CONTENT_LENGTH=int(cfg.limits.max_zip_total_mb * MB * 4 / 3 + MB),
        MAX_FORM_MEMORY_SIZE=8 * MB,
        MAX_FORM_PARTS=cfg.limits.max_zip_entries + 16,
    )
    app.config.update(overrides)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["hocba_twostep"] = {"twostep": ts, "token": token}
    app.register_blueprint(bp)
    app.register_error_handler(TwoStepError, _handle_twostep)
    app.register_error_handler(UsageError, _handle_usage)
    app.register_error_handler(HocbaError, _handle_hocba)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(Exception, _handle_unexpected)
    return app

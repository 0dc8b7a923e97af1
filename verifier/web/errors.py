"""Every error is JSON ``{"error": "...", "detail": "..."}`` (CONTRACT 7).

A handler for every HTTP error and a catch-all that answers 500 only for a
fault of the service itself, logging the uploaded files' hashes and the
exception type, never their content. The one exception to JSON: the web page's
own form post (no JavaScript) gets the page back with the error shown.
"""
from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import (
    HTTPException,
    InternalServerError,
    MethodNotAllowed,
    RequestEntityTooLarge,
)

log = logging.getLogger("verifier.web")


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


# Stable codes where werkzeug's names are dated (RFC 9110 renamed 413).
_CODES = {413: "payload_too_large"}


def error_response(status: int, error: str, detail: str) -> Response:
    resp = jsonify({"error": error, "detail": detail})
    resp.status_code = status
    return resp


def _wants_page() -> bool:
    """The no-JavaScript form post of the web page (a browser, not a script)."""
    return (request.blueprint == "pages" and request.method == "POST"
            and not request.args.get("fragment")
            and request.accept_mimetypes.accept_html
            and request.accept_mimetypes["text/html"] >= request.accept_mimetypes["application/json"])


def handle_http(e: HTTPException) -> Any:
    status = e.code or 500
    error = getattr(e, "error", None) or _CODES.get(status) or slug(e.name)
    detail = e.description or e.name
    if type(e) is RequestEntityTooLarge:  # werkzeug's own: say what the limit is
        limit = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) / (1024 * 1024)
        detail = f"the request is over the limit of {limit:g} MB (limits.max_file_mb)"
    if _wants_page():
        from verifier.web.pages import render_index

        return render_index(error=detail, status=status)
    resp = error_response(status, error, detail)
    if isinstance(e, MethodNotAllowed) and e.valid_methods:
        resp.headers["Allow"] = ", ".join(e.valid_methods)
    return resp


def handle_unexpected(e: Exception) -> Any:
    tb = e.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb else "?"
    hashes = getattr(g, "upload_hashes", None)
    if hashes is None:
        try:
            body = request.get_data(cache=True) if not request.files else b""
            hashes = [hashlib.sha256(body).hexdigest()] if body else []
        except Exception:
            hashes = []
    log.error("internal error %s at %s sha256=%s", type(e).__name__, where,
              ",".join(hashes) or "-")
    return handle_http(InternalServerError("internal error; the request was logged"))


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(Exception, handle_unexpected)

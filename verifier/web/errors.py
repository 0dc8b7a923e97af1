"""Every error is JSON ``{"error": "...", "detail": "..."}`` (CONTRACT 7).

A handler for every HTTP error and a catch-all that answers 500 only for a
fault of the service itself, logging the uploaded files' hashes and the
exception type, never their content. The one exception to JSON: the web page's
own form post (no JavaScript) gets the page back with the error shown.

``detail`` is in the request's language (``?lang=vi|en``, Vietnamese by default, as
the reports): the service's own errors are :class:`Problem` subclasses naming a
message of the catalog (``error.*`` keys); werkzeug's own errors get a sentence
for their status.
"""
from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    InternalServerError,
    MethodNotAllowed,
    RequestEntityTooLarge,
)

from verifier.web import i18n

log = logging.getLogger("verifier.web")


class Problem(HTTPException):
    """An error of the service with a message of the catalog (``error.<key>``), shown in
    the request's language. Combined with a werkzeug class for the status, e.g.
    ``class NoFile(Problem, BadRequest)``; ``description`` holds the English text."""

    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(description=i18n.error_text(key, "en", **params))

    def detail(self, lang: str) -> str:
        return i18n.error_text(self.key, lang, **self.params)


class BadParameter(Problem, BadRequest):
    """400 for a query parameter (``lang``, ``validation_time``, ``format``...)."""


class TooLarge(Problem, RequestEntityTooLarge):
    """413: the body is over ``limits.max_file_mb``."""


class InternalError(Problem, InternalServerError):
    """500: a fault of the service itself (logged)."""


def request_lang() -> str:
    """The language the client asked for (query ``lang``, or the page form's ``lang`` when
    the body was already parsed); Vietnamese by default, as the reports."""
    value = request.args.get("lang")
    if value is None:
        form = request.__dict__.get("form")  # never parse the body again here (413)
        value = form.get("lang") if form is not None else None
    return "en" if value == "en" else "vi"


def describe(e: HTTPException, lang: str) -> str:
    """The ``detail`` of an HTTP error in ``lang``."""
    status = e.code or 500
    if isinstance(e, Problem):
        return e.detail(lang)
    if type(e) is RequestEntityTooLarge:  # werkzeug's own: say what the limit is
        limit = i18n.megabytes(current_app.config.get("MAX_CONTENT_LENGTH"))
        return i18n.error_text("too_large", lang, limit=limit)
    own = e.description if e.description != type(e).description else None
    if own is None:
        return i18n.http_text(status, lang)
    if lang == "en":
        return own
    # A message of its own with no translation: the Vietnamese sentence first, then it.
    return f"{i18n.http_text(status, 'vi').rstrip('.')} — {own}"


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
    detail = describe(e, request_lang())
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
    return handle_http(InternalError("internal"))


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(Exception, handle_unexpected)

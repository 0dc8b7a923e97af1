"""The verifier service (CONTRACT 7): a Flask app factory.

``gunicorn 'verifier.app:create_app()'`` in production, ``hocba serve`` for
development and demos. The app holds ONE immutable :class:`verifier.core.Verifier`
built from ``HOCBA_CONFIG`` (trust anchors and policy, no private keys) and
shares it between all threads. Uploads live in memory only and are dropped with
the response: student records are personal data of minors (Nghị định 13/2023),
so nothing a client sends is written to disk, and logs carry a file's SHA-256
and verdict, never its name or content.
"""
from __future__ import annotations

import io
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any, Mapping

from flask import Flask, Request

from ground.config import Config, load_config

MB = 1024 * 1024
log = logging.getLogger("verifier.web")


class InMemoryRequest(Request):
    """A request whose uploaded files stay in memory.

    Werkzeug spools multipart file parts over 500 kB to a temporary file by
    default; that would write a pupil's record to disk. The body is bounded by
    ``MAX_CONTENT_LENGTH`` before it is read, so memory use is bounded too.
    """

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        return io.BytesIO()


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the verifier service.

    ``test_config`` overrides Flask settings; ``HOCBA_CONFIG`` in it (a path)
    selects the configuration instead of the environment variable of that
    name, and ``HOCBA_CONFIG_OBJ`` passes an already loaded :class:`Config`.
    A configuration error raises :class:`hocba.errors.ConfigError` here, so a
    misconfigured server refuses to start instead of answering wrongly.
    """
    app = Flask(__name__, static_folder="web/static", template_folder="web/templates")
    app.request_class = InMemoryRequest
    overrides = dict(test_config or {})
    from verifier.runtime import configure_process

    configure_process()  # process-wide opt-ins, explicit at app start (verifier/runtime.py)

    cfg = overrides.pop("HOCBA_CONFIG_OBJ", None)
    if cfg is None:
        cfg = load_config(overrides.pop("HOCBA_CONFIG", None) or os.environ.get("HOCBA_CONFIG"))
    assert isinstance(cfg, Config)
    verifier = overrides.pop("VERIFIER", None)
    if verifier is None:
        verifier = build_verifier(cfg)

    app.config.update(
        MAX_CONTENT_LENGTH=int(cfg.limits.max_file_mb * MB),
        # Bounds non-file form fields and the multipart parser's buffer; file parts
        # go to BytesIO (InMemoryRequest) within MAX_CONTENT_LENGTH.
        MAX_FORM_MEMORY_SIZE=1 * MB,
        MAX_FORM_PARTS=cfg.limits.max_zip_entries + 16,
        JSON_SORT_KEYS=False,
        HOCBA_REQUEST_TIMEOUT=cfg.limits.request_timeout,
        HOCBA_VERIFY_THREADS=16,
    )
    app.config.update(overrides)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    app.extensions["hocba"] = {
        "config": cfg,
        "verifier": verifier,
        # Verifications run here so a request can stop waiting at its time limit.
        "executor": ThreadPoolExecutor(
            max_workers=int(app.config["HOCBA_VERIFY_THREADS"]), thread_name_prefix="verify"),
    }

    from verifier.web import api, errors, jobs_api, pages

    app.register_blueprint(api.bp)
    app.register_blueprint(jobs_api.bp)  # bulk jobs (CONTRACT 10): 503 without [jobs]
    app.register_blueprint(pages.bp)
    errors.register(app)
    _setup_translations(app)
    app.after_request(_security_headers)
    _setup_logging()
    return app


def _setup_translations(app: Flask) -> None:
    """Flask-Babel on the one catalog (ground/locale, domain ``hocba``): the request's
    language (``?lang=``, the form's ``lang``; Vietnamese by default) selects the
    translations; templates call ``_("ui.key", field=value)`` and ``_or(key, default)``.
    Fields are ``str.format`` fields, as everywhere else in the catalog."""
    from flask_babel import Babel, gettext

    from ground import i18n
    from verifier.web.pages import page_lang

    Babel(app, locale_selector=page_lang, default_domain=i18n.DOMAIN,
          default_translation_directories=str(i18n.LOCALE_DIR), configure_jinja=False)

    def text(key: str, **fields: Any) -> str:
        found = str(gettext(key))
        if found == key:  # not in the catalog: the strict test mode raises here
            return i18n.t(key, page_lang(), **fields)
        try:
            return found.format(**fields) if fields else found
        except (KeyError, IndexError, ValueError):
            return i18n.t(key, page_lang(), **fields)  # raises in strict mode

    def text_or(key: str, default: str) -> str:
        found = str(gettext(key))
        return default if found == key else found

    app.jinja_env.globals.update(_=text, _or=text_or)


def _setup_logging() -> None:
    """One line per verified file (hash + verdict) on stderr, unless logging is set up.

    Under gunicorn the root logger has no handler (gunicorn's own loggers do not
    propagate), so without this the audit lines would be lost.
    """
    if not log.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        log.addHandler(handler)
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)


def build_verifier(cfg: Config) -> Any:
    """The one immutable verifier of this app (trust and policy from ``cfg``)."""
    from verifier.core import Verifier
    from ground.policy import Policy

    return Verifier(Policy.from_config(cfg))


_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _security_headers(resp: Any) -> Any:
    h = resp.headers
    h.setdefault("Content-Security-Policy", _CSP)
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Referrer-Policy", "no-referrer")
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    h.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    # Reports describe pupils: no shared caches, no browser cache.
    if "Cache-Control" not in h:
        h["Cache-Control"] = "no-store"
    return resp

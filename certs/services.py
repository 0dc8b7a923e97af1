"""Real OCSP, CRL and RFC 3161 time-stamping services for a generated PKI.

certomancer's Animator (a WSGI app) answers from the same configuration that
made the certificates; we serve it with werkzeug's threaded server on loopback,
either in a background thread (tests, ``hocba demo``) or in the foreground
(``hocba certs serve``).
"""
from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType

from certomancer.integrations.animator import Animator, AnimatorArchStore
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from certs.pki import load_certomancer


def build_app(certomancer_yml: Path) -> Animator:
    cfg = load_certomancer(certomancer_yml)
    # No clock override from request headers: these services tell the real time.
    return Animator(AnimatorArchStore(cfg.pki_archs), with_web_ui=False,
                    allow_time_override=False)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class TrustServices:
    """Run the services in a background thread; use as a context manager."""

    def __init__(self, certomancer_yml: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self._app = build_app(certomancer_yml)
        self.host = host
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> "TrustServices":
        """Start serving (again); the port stays the same across restarts."""
        if self._server is not None:
            return self
        self._server = make_server(self.host, self.port, self._app, threaded=True,
                                   request_handler=_QuietHandler)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="hocba-trust-services", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> "TrustServices":
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def serve_forever(certomancer_yml: Path, host: str, port: int) -> None:
    """Serve in the foreground until SIGTERM or SIGINT."""
    import signal

    server = make_server(host, port, build_app(certomancer_yml), threaded=True)
    stop = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        stop.wait()
    finally:
        server.shutdown()
        server.server_close()

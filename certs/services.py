"""Real OCSP, CRL and RFC 3161 time-stamping services for a generated PKI.

certomancer's Animator (a WSGI app) answers from the same configuration that
made the certificates; we serve it with werkzeug's threaded server on loopback,
either in a background thread (tests, ``hocba demo``) or in the foreground
(``hocba certs serve``).
"""
from __future__ import annotations

import base64
import binascii
import threading
import urllib.parse
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from asn1crypto import ocsp
from certomancer.integrations.animator import Animator, AnimatorArchStore
from certomancer.registry import ArchLabel, ServiceLabel
from werkzeug.exceptions import BadRequest
from werkzeug.routing import Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from certs.pki import load_certomancer


class TrustAnimator(Animator):
    """certomancer's Animator, with OCSP answers every client reads.

    - OCSP times (producedAt, thisUpdate, nextUpdate) in whole seconds. RFC 5280
      4.1.2.5.2 GeneralizedTime "MUST NOT include fractional seconds"; NSS (pdfsig,
      Evince, Okular, Firefox) refuses such a response as malformed
      (SEC_ERROR_OCSP_MALFORMED_RESPONSE), and poppler then reports the signer's
      certificate as "Unknown issue with Certificate" although the chain is trusted.
    - OCSP over HTTP GET as well as POST (RFC 6960 A.1, RFC 5019), which NSS tries first.
    """

    def __init__(self, architectures: AnimatorArchStore, **kwargs: Any) -> None:
        super().__init__(architectures, **kwargs)
        self.url_map.add(Rule("/<arch>/ocsp/<label>/<path:encoded>", endpoint="ocsp-get",
                              methods=("GET",)))
        self._handlers["ocsp-get"] = self.serve_ocsp_get

    def at_time(self, request: Request) -> datetime:
        t: datetime = super().at_time(request)  # type: ignore[no-untyped-call]  # unannotated
        return t.replace(microsecond=0) if "/ocsp/" in request.path else t

    def serve_ocsp_get(self, request: Request, *, label: str, arch: str,
                       encoded: str) -> Response:
        try:
            der = base64.b64decode(urllib.parse.unquote(encoded), validate=True)
            req = ocsp.OCSPRequest.load(der)
            req.native  # parse it all now: a malformed request is a 400, not a 500
        except (binascii.Error, ValueError, TypeError):
            raise BadRequest("not a base64 DER OCSP request") from None
        responder = self.architectures[ArchLabel(arch)].service_registry.summon_responder(
            ServiceLabel(label), self.at_time(request))
        return Response(responder.build_ocsp_response(req).dump(),
                        mimetype="application/ocsp-response")


def build_app(certomancer_yml: Path) -> Animator:
    cfg = load_certomancer(certomancer_yml)
    # No clock override from request headers: these services tell the real time.
    return TrustAnimator(AnimatorArchStore(cfg.pki_archs), with_web_ui=False,
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

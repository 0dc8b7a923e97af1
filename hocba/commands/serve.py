"""``hocba serve`` (CONTRACT 7): the verifier service for development and demos.

Werkzeug's threaded server on the given host and port; production runs the
same app under gunicorn (see docs/deploy.md). SIGTERM and SIGINT stop it cleanly.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ground.errors import UsageError


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser(
        "serve", help="chạy dịch vụ xác thực (API + trang web) — run the verifier web service "
                      "for development and demos",
        description="Chạy dịch vụ xác thực: POST /api/v1/verify, trang web tại /, /healthz và "
                    "/openapi.json (dùng khi phát triển và chạy thử; khi triển khai thật dùng "
                    "gunicorn). Run the verifier web service: POST /api/v1/verify, the web page "
                    "at /, /healthz and /openapi.json. For production use gunicorn: "
                    "gunicorn 'verifier.app:create_app()' (see docs/deploy.md). Exit 0 stopped "
                    "cleanly (Ctrl+C, SIGTERM), 2 usage error (no trust anchors, bad config, "
                    "port in use).")
    p.add_argument("--host", default="127.0.0.1",
                   help="địa chỉ lắng nghe (mặc định 127.0.0.1) — address to listen on "
                        "(default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080,
                   help="cổng lắng nghe (mặc định 8080; 0 = cổng trống bất kỳ) — port to "
                        "listen on (default 8080; 0 = any free port)")
    p.add_argument("--config", type=Path, default=None,
                   help="hocba.toml có chứng thư gốc tin cậy (mặc định: $HOCBA_CONFIG) — "
                        "hocba.toml with the trust anchors (default: $HOCBA_CONFIG)")
    p.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    import signal
    import threading

    from werkzeug.serving import make_server

    from ground.config import load_config
    from verifier.app import create_app

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port phải từ 0 đến 65535 — --port must be between 0 and 65535, "
                         f"got {args.port}")
    cfg = load_config(args.config)
    if not cfg.trust.anchors:
        raise UsageError("chưa có chứng thư gốc tin cậy: dùng --config (hoặc HOCBA_CONFIG) có "
                         "[trust] anchors — no trust anchors: pass --config (or set "
                         "HOCBA_CONFIG) with [trust] anchors, e.g. the hocba.toml made by "
                         "`hocba certs demo`")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log: URLs carry names
    app = create_app({"HOCBA_CONFIG_OBJ": cfg})
    _check_listen(args.host, args.port)
    import werkzeug.serving

    werkzeug.serving._log_add_style = sys.stderr.isatty()  # ANSI colours only on a terminal
    server = make_server(args.host, args.port, app, threaded=True)
    stop = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print(f"Trang xác thực tại http://{args.host}:{server.server_port}/ (Ctrl+C để dừng) — "
          f"verifier on http://{args.host}:{server.server_port}/ (Ctrl+C to stop)",
          file=sys.stderr, flush=True)
    try:
        stop.wait()
    finally:
        server.shutdown()
        server.server_close()
    print("Đã dừng — stopped.", file=sys.stderr)
    return 0


def _check_listen(host: str, port: int) -> None:
    """One clear line (exit 2) when the address is taken, instead of werkzeug's exit 1."""
    import socket

    try:
        family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(addr)
    except OSError as e:
        raise UsageError(f"không lắng nghe được tại {host}:{port} — cannot listen on "
                         f"{host}:{port}: {e.strerror or e}") from None

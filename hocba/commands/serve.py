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
from ground.i18n import cli_lang, t
from hocba.cli import add_lang_option


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    lang = cli_lang()
    p = sub.add_parser("serve", help=t("cli.serve.help", lang),
                       description=t("cli.serve.desc", lang))
    p.add_argument("--host", default="127.0.0.1", help=t("cli.serve.opt.host", lang))
    p.add_argument("--port", type=int, default=8080, help=t("cli.serve.opt.port", lang))
    p.add_argument("--config", type=Path, default=None, help=t("cli.serve.opt.config", lang))
    add_lang_option(p)
    p.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    import signal
    import threading

    from werkzeug.serving import make_server

    from ground.config import load_config
    from verifier.app import create_app

    if not 0 <= args.port <= 65535:
        raise UsageError("cli.err.port_range", low=0, port=args.port)
    cfg = load_config(args.config)
    if not cfg.trust.anchors:
        raise UsageError("cli.err.no_anchors")
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
    print(t("cli.serve.msg.serving", cli_lang(),
            url=f"http://{args.host}:{server.server_port}/"), file=sys.stderr, flush=True)
    try:
        stop.wait()
    finally:
        server.shutdown()
        server.server_close()
    print(t("cli.msg.stopped", cli_lang()), file=sys.stderr)
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
        raise UsageError("cli.err.cannot_listen", host=host, port=port,
                         detail=e.strerror or str(e)) from None

"""``hocba certs demo|serve`` (CONTRACT 2)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ground.config import load_config
from ground.errors import UsageError


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("certs", help="demo PKI and its trust services (OCSP, CRL, TSA)")
    csub = p.add_subparsers(dest="certs_command", metavar="ACTION", required=True)

    d = csub.add_parser("demo", help="create a demo PKI for a fictitious province and school")
    d.add_argument("--out", required=True, type=Path, help="directory to create it in")
    d.add_argument("--port", type=int, default=None,
                   help="port of the local trust services (default 8731)")
    d.add_argument("--profile", choices=("default", "vn"), default="default",
                   help="default: chứng thư số có chức danh (title) / certificates with a "
                        "title; vn: giống PKI thật của Việt Nam — Root CA quốc gia → CA công "
                        "cộng → chứng thư cá nhân không chức danh (UID=CCCD), con dấu trường "
                        "(UID=MST), kèm roles.csv / shaped like the real Vietnamese PKI: "
                        "national root → licensed CA → personal certificates without title, "
                        "the school's organisation certificate, and a role registry roles.csv")
    d.set_defaults(func=_demo)

    s = csub.add_parser("serve", help="serve the demo PKI's TSA, OCSP and CRLs on 127.0.0.1")
    s.add_argument("--config", type=Path, default=None, help="the hocba.toml of the demo PKI")
    s.add_argument("--port", type=int, default=None,
                   help="port to listen on (default: the PKI's, [services] port); the "
                        "certificates' OCSP/CRL/TSA URLs keep naming the PKI's port")
    s.set_defaults(func=_serve)


def _demo(args: argparse.Namespace) -> int:
    from certs.pki import DEFAULT_PORT, DEMO_PIN, create_pki, key_labels

    port = args.port or DEFAULT_PORT
    if not 1 <= port <= 65535:
        raise UsageError(f"--port must be between 1 and 65535, got {port}")
    profile = getattr(args, "profile", "default")
    layout, created = create_pki(args.out, port=port, profile=profile)
    if not created:
        print(f"Demo PKI already exists in {args.out}; nothing changed.", file=sys.stderr)
        return 0
    what = "Demo PKI" if profile == "default" else f"Demo PKI (profile {profile})"
    print(f"{what} created in {args.out}", file=sys.stderr)
    print(f"  trust anchor : {layout.anchor}", file=sys.stderr)
    for role in key_labels(profile):
        print(f"  {role:<15}: {layout.p12(role)} (PIN {DEMO_PIN})", file=sys.stderr)
    if profile == "vn":
        print(f"  roles        : {layout.roles} (registry: teacher, principal)", file=sys.stderr)
    print(f"  config       : {layout.config}", file=sys.stderr)
    print(f"Start its services with: hocba certs serve --config {layout.config}", file=sys.stderr)
    return 0


def _serve(args: argparse.Namespace) -> int:
    from certs.pki import service_urls
    from certs.services import serve_forever

    cfg = load_config(args.config)
    if cfg.services.certomancer is None:
        raise UsageError(
            f"{cfg.source or 'configuration'}: services.certomancer is not set;"
            " this command serves a PKI made by `hocba certs demo`"
        )
    from hocba.ports import port_free

    host, port = cfg.services.host, args.port or cfg.services.port
    if not 1 <= port <= 65535:
        raise UsageError(f"--port must be between 1 and 65535, got {port}")
    if not port_free(port, host):
        raise UsageError(f"cổng {port} đang được dùng — port {port} is in use on {host} "
                         "(chọn cổng khác với --port / choose another with --port)")
    urls = service_urls(port, host)
    try:
        print(f"Serving on http://{host}:{port} (Ctrl+C to stop)\n"
              f"  TSA : {urls['tsa']}\n  OCSP: {urls['ocsp']}\n  CRL : {urls['crl']}",
              file=sys.stderr, flush=True)
        serve_forever(cfg.services.certomancer, host, port)
    except OSError as e:
        raise UsageError(f"cannot listen on {host}:{port}: {e.strerror}") from None
    print("Stopped.", file=sys.stderr)
    return 0

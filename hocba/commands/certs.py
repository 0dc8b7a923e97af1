"""``hocba certs demo|serve`` (CONTRACT 2)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ground.config import load_config
from ground.errors import UsageError
from ground.i18n import cli_lang, t
from hocba.cli import add_lang_option


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    lang = cli_lang()
    p = sub.add_parser("certs", help=t("cli.certs.help", lang),
                       description=t("cli.certs.desc", lang))
    add_lang_option(p)
    csub = p.add_subparsers(dest="certs_command", metavar="ACTION", required=True)

    d = csub.add_parser("demo", help=t("cli.certs.demo.help", lang),
                        description=t("cli.certs.demo.desc", lang))
    d.add_argument("--out", required=True, type=Path, metavar="DIR",
                   help=t("cli.certs.demo.opt.out", lang))
    d.add_argument("--port", type=int, default=None, help=t("cli.certs.demo.opt.port", lang))
    d.add_argument("--profile", choices=("default", "vn"), default="default",
                   help=t("cli.certs.demo.opt.profile", lang))
    add_lang_option(d)
    d.set_defaults(func=_demo)

    s = csub.add_parser("serve", help=t("cli.certs.serve.help", lang),
                        description=t("cli.certs.serve.desc", lang))
    s.add_argument("--config", type=Path, default=None, help=t("cli.certs.serve.opt.config", lang))
    s.add_argument("--port", type=int, default=None, help=t("cli.certs.serve.opt.port", lang))
    add_lang_option(s)
    s.set_defaults(func=_serve)


def _row(label: str, value: object) -> str:
    return f"  {label:<20}: {value}"


def _demo(args: argparse.Namespace) -> int:
    from certs.pki import DEFAULT_PORT, DEMO_PIN, create_pki, key_labels

    lang = cli_lang()
    port = args.port or DEFAULT_PORT
    if not 1 <= port <= 65535:
        raise UsageError("cli.err.port_range", low=1, port=port)
    profile = getattr(args, "profile", "default")
    layout, created = create_pki(args.out, port=port, profile=profile)
    if not created:
        print(t("cli.certs.demo.msg.exists", lang, dir=args.out), file=sys.stderr)
        return 0
    if profile == "default":
        print(t("cli.certs.demo.msg.created", lang, dir=args.out), file=sys.stderr)
    else:
        print(t("cli.certs.demo.msg.created_profile", lang, dir=args.out, profile=profile),
              file=sys.stderr)
    print(_row(t("cli.certs.demo.l_anchor", lang), layout.anchor), file=sys.stderr)
    for role in key_labels(profile):
        print(_row(role, f"{layout.p12(role)} (PIN {DEMO_PIN})"), file=sys.stderr)
    if profile == "vn":
        print(_row(t("cli.certs.demo.l_registry", lang), f"{layout.roles} (teacher, principal)"),
              file=sys.stderr)
    print(_row(t("cli.certs.demo.l_config", lang), layout.config), file=sys.stderr)
    print(t("cli.certs.demo.msg.next", lang, config=layout.config), file=sys.stderr)
    return 0


def _serve(args: argparse.Namespace) -> int:
    from certs.pki import service_urls
    from certs.services import serve_forever

    lang = cli_lang()
    cfg = load_config(args.config)
    if cfg.services.certomancer is None:
        raise UsageError("cli.certs.serve.err.no_certomancer",
                         config=cfg.source or t("cli.certs.serve.l_configuration", lang))
    from hocba.ports import port_free

    host, port = cfg.services.host, args.port or cfg.services.port
    if not 1 <= port <= 65535:
        raise UsageError("cli.err.port_range", low=1, port=port)
    if not port_free(port, host):
        raise UsageError("cli.err.port_in_use", port=port)
    urls = service_urls(port, host)
    try:
        print(t("cli.certs.serve.msg.serving", lang, url=f"http://{host}:{port}")
              + f"\n  TSA : {urls['tsa']}\n  OCSP: {urls['ocsp']}\n  CRL : {urls['crl']}",
              file=sys.stderr, flush=True)
        serve_forever(cfg.services.certomancer, host, port)
    except OSError as e:
        raise UsageError("cli.err.cannot_listen", host=host, port=port,
                         detail=e.strerror or str(e)) from None
    print(t("cli.msg.stopped", lang), file=sys.stderr)
    return 0

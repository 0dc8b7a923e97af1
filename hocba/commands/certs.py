"""``hocba certs demo|serve`` (CONTRACT 2)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ground.config import load_config
from ground.errors import UsageError


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser(
        "certs", help="PKI mẫu và dịch vụ tin cậy (OCSP, CRL, TSA) — demo PKI and its trust "
                      "services",
        description="PKI mẫu của một tỉnh và một trường giả lập, cùng dịch vụ OCSP, CRL và "
                    "cấp dấu thời gian (TSA) chạy trên máy. A demo PKI of a fictitious province "
                    "and school, and its OCSP, CRL and time-stamping services on loopback. "
                    "Chỉ dùng để chạy thử và kiểm thử — for demonstrations and tests only.")
    csub = p.add_subparsers(dest="certs_command", metavar="ACTION", required=True)

    d = csub.add_parser(
        "demo", help="tạo PKI mẫu — create a demo PKI for a fictitious province and school",
        description="Tạo PKI mẫu trong DIR: chứng thư gốc trust/root.pem, khoá keys/<vai trò>.p12 "
                    "(mã PIN 123456) và DIR/hocba.toml. Chạy lại trên DIR đã có thì không thay "
                    "đổi gì. Creates the demo PKI in DIR: the trust anchor trust/root.pem, "
                    "keys/<role>.p12 (PIN 123456) and DIR/hocba.toml; run again on an existing "
                    "DIR, it changes nothing. Exit 0 done, 2 usage error.")
    d.add_argument("--out", required=True, type=Path, metavar="DIR",
                   help="thư mục tạo PKI — directory to create it in")
    d.add_argument("--port", type=int, default=None,
                   help="cổng của dịch vụ tin cậy, ghi vào chứng thư (mặc định 8731) — port "
                        "of the local trust services, written into the certificates "
                        "(default 8731)")
    d.add_argument("--profile", choices=("default", "vn"), default="default",
                   help="default: chứng thư số có chức danh (title) / certificates with a "
                        "title; vn: giống PKI thật của Việt Nam — Root CA quốc gia → CA công "
                        "cộng → chứng thư cá nhân không chức danh (UID=CCCD), con dấu trường "
                        "(UID=MST), kèm roles.csv / shaped like the real Vietnamese PKI: "
                        "national root → licensed CA → personal certificates without title, "
                        "the school's organisation certificate, and a role registry roles.csv")
    d.set_defaults(func=_demo)

    s = csub.add_parser(
        "serve", help="chạy TSA, OCSP, CRL của PKI mẫu — serve the demo PKI's TSA, OCSP and "
                      "CRLs on 127.0.0.1",
        description="Chạy dịch vụ cấp dấu thời gian, OCSP và CRL của PKI mẫu trên 127.0.0.1 "
                    "cho đến khi dừng (Ctrl+C hoặc SIGTERM). Serves the demo PKI's TSA, OCSP "
                    "and CRLs on 127.0.0.1 until stopped (Ctrl+C or SIGTERM). Exit 0 stopped "
                    "cleanly, 2 usage error (no such config, port in use).")
    s.add_argument("--config", type=Path, default=None,
                   help="hocba.toml của PKI mẫu (mặc định: $HOCBA_CONFIG) — the hocba.toml of "
                        "the demo PKI (default: $HOCBA_CONFIG)")
    s.add_argument("--port", type=int, default=None,
                   help="cổng lắng nghe (mặc định: cổng của PKI, [services] port); địa chỉ "
                        "OCSP/CRL/TSA trong chứng thư vẫn là cổng của PKI — port to listen on "
                        "(default: the PKI's, [services] port); the certificates' OCSP/CRL/TSA "
                        "URLs keep naming the PKI's port")
    s.set_defaults(func=_serve)


def _demo(args: argparse.Namespace) -> int:
    from certs.pki import DEFAULT_PORT, DEMO_PIN, create_pki, key_labels

    port = args.port or DEFAULT_PORT
    if not 1 <= port <= 65535:
        raise UsageError(f"--port phải từ 1 đến 65535 — --port must be between 1 and 65535, "
                         f"got {port}")
    profile = getattr(args, "profile", "default")
    layout, created = create_pki(args.out, port=port, profile=profile)
    if not created:
        print(f"PKI mẫu đã có trong {args.out}, không thay đổi gì — demo PKI already exists "
              f"in {args.out}; nothing changed.", file=sys.stderr)
        return 0
    what = "" if profile == "default" else f" (profile {profile})"
    print(f"Đã tạo PKI mẫu{what} trong {args.out} — demo PKI created", file=sys.stderr)
    print(f"  chứng thư gốc / trust anchor : {layout.anchor}", file=sys.stderr)
    for role in key_labels(profile):
        print(f"  {role:<29}: {layout.p12(role)} (PIN {DEMO_PIN})", file=sys.stderr)
    if profile == "vn":
        print(f"  danh sách vai trò / registry : {layout.roles} (teacher, principal)",
              file=sys.stderr)
    print(f"  cấu hình / config            : {layout.config}", file=sys.stderr)
    print(f"Chạy dịch vụ của PKI — start its services: hocba certs serve --config "
          f"{layout.config}", file=sys.stderr)
    return 0


def _serve(args: argparse.Namespace) -> int:
    from certs.pki import service_urls
    from certs.services import serve_forever

    cfg = load_config(args.config)
    if cfg.services.certomancer is None:
        raise UsageError(
            f"{cfg.source or 'cấu hình / configuration'}: chưa đặt services.certomancer; lệnh "
            "này chạy dịch vụ của PKI do `hocba certs demo` tạo — services.certomancer is not "
            "set; this command serves a PKI made by `hocba certs demo`"
        )
    from hocba.ports import port_free

    host, port = cfg.services.host, args.port or cfg.services.port
    if not 1 <= port <= 65535:
        raise UsageError(f"--port phải từ 1 đến 65535 — --port must be between 1 and 65535, "
                         f"got {port}")
    if not port_free(port, host):
        raise UsageError(f"cổng {port} đang được dùng — port {port} is in use on {host} "
                         "(chọn cổng khác với --port / choose another with --port)")
    urls = service_urls(port, host)
    try:
        print(f"Đang chạy tại http://{host}:{port} (Ctrl+C để dừng) — serving on "
              f"http://{host}:{port} (Ctrl+C to stop)\n"
              f"  TSA : {urls['tsa']}\n  OCSP: {urls['ocsp']}\n  CRL : {urls['crl']}",
              file=sys.stderr, flush=True)
        serve_forever(cfg.services.certomancer, host, port)
    except OSError as e:
        raise UsageError(f"không lắng nghe được tại {host}:{port} — cannot listen on "
                         f"{host}:{port}: {e.strerror}") from None
    print("Đã dừng — stopped.", file=sys.stderr)
    return 0

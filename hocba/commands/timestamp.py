"""``hocba timestamp``: renew archive timestamps of B-LTA records (EN 319 142-1 5.5,
EN 319 132-1 5.5.2)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ground.config import load_config
from ground.errors import UsageError


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser(
        "timestamp", help="gia hạn dấu thời gian lưu trữ — renew archive timestamps",
        description=(
            "Gia hạn dấu thời gian lưu trữ của học bạ B-LTA: thêm dữ liệu xác thực cho dấu "
            "thời gian lưu trữ cuối cùng rồi một dấu mới; chạy trước khi chứng thư TSA cuối "
            "cùng hết hạn (ví dụ mỗi năm một lần), không cần khoá hay PIN. "
            "Renew the archive timestamp of B-LTA records: "
            "validation data for the last archive timestamp, then a new one (PDF: EN 319 142-1 "
            "5.5; XML: EN 319 132-1 5.5.2, on the last XAdES signature). Run it before the last TSA certificate expires or its algorithms weaken "
            "(e.g. a yearly batch job). No key or PIN needed. Exit 0 all renewed, 1 a file "
            "failed, 2 usage error."))
    p.add_argument("--config", type=Path, default=None,
                   help="tệp cấu hình (mặc định: $HOCBA_CONFIG) — hocba.toml (default: "
                        "$HOCBA_CONFIG)")
    dest = p.add_mutually_exclusive_group(required=True)
    dest.add_argument("--out", type=Path, metavar="DIR",
                      help="ghi kết quả vào DIR/<cùng tên> — write results to DIR/<same name>")
    dest.add_argument("--in-place", action="store_true",
                      help="thay từng tệp đầu vào một cách nguyên tử — replace each input "
                           "atomically")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE",
                   help="học bạ B-LTA, PDF hoặc XML — B-LTA records, PDF or XML")
    p.set_defaults(func=_timestamp)


def _timestamp(args: argparse.Namespace) -> int:
    from signer.batch import FileResult, Progress
    from signer.renew import renew_files

    cfg = load_config(args.config)
    for f in args.files:
        if not f.is_file():
            raise UsageError(f"không tìm thấy tệp — file not found: {f}")
    if args.out is not None and not args.out.is_dir():
        raise UsageError(f"thư mục đích không tồn tại — output directory not found: {args.out}")
    progress = Progress(len(args.files))

    def report(r: FileResult) -> None:
        progress.update(r.ok)
        if not r.ok:
            if progress.enabled:
                sys.stderr.write("\n")
            print(f"hocba: {r.name}: {r.error}", file=sys.stderr)

    results = renew_files(cfg, args.files, None if args.in_place else args.out, on_result=report)
    progress.finish()
    ok = sum(1 for r in results if r.ok)
    failed = len(results) - ok
    print(f"Đã gia hạn {ok}/{len(results)} tệp; lỗi: {failed} — renewed {ok} of {len(results)}, "
          f"{failed} failed", file=sys.stderr)
    return 1 if failed else 0

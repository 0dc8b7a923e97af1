"""``hocba timestamp``: renew archive timestamps of B-LTA records (EN 319 142-1 5.5,
EN 319 132-1 5.5.2)."""
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
    p = sub.add_parser("timestamp", help=t("cli.timestamp.help", lang),
                       description=t("cli.timestamp.desc", lang))
    p.add_argument("--config", type=Path, default=None, help=t("cli.opt.config", lang))
    dest = p.add_mutually_exclusive_group(required=True)
    dest.add_argument("--out", type=Path, metavar="DIR", help=t("cli.timestamp.opt.out", lang))
    dest.add_argument("--in-place", action="store_true", help=t("cli.sign.opt.in_place", lang))
    add_lang_option(p)
    p.add_argument("files", nargs="+", type=Path, metavar="FILE",
                   help=t("cli.timestamp.opt.files", lang))
    p.set_defaults(func=_timestamp)


def _timestamp(args: argparse.Namespace) -> int:
    from signer.batch import FileResult, Progress
    from signer.renew import renew_files

    cfg = load_config(args.config)
    for f in args.files:
        if not f.is_file():
            raise UsageError("cli.err.file_not_found", path=f)
    if args.out is not None and not args.out.is_dir():
        raise UsageError("cli.err.out_dir_not_found", path=args.out)
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
    print(t("cli.timestamp.msg.summary", cli_lang(), ok=ok, total=len(results), failed=failed),
          file=sys.stderr)
    return 1 if failed else 0

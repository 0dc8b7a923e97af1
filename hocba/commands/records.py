"""``hocba records``: sample record books (CONTRACT 3)."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ground.errors import HocbaError, UsageError
from ground.i18n import cli_lang, t
from hocba.cli import add_lang_option


def register(sub: Any) -> None:
    lang = cli_lang()
    parser = sub.add_parser("records", help=t("cli.records.help", lang),
                            description=t("cli.records.desc", lang))
    add_lang_option(parser)
    rsub = parser.add_subparsers(dest="records_command", metavar="SUBCOMMAND")
    sample = rsub.add_parser("sample", help=t("cli.records.sample.help", lang),
                             description=t("cli.records.sample.desc", lang))
    sample.add_argument("--out", required=True, type=Path, metavar="DIR",
                        help=t("cli.records.sample.opt.out", lang))
    sample.add_argument("--count", type=int, default=40, metavar="N",
                        help=t("cli.records.sample.opt.count", lang))
    sample.add_argument("--seed", default="0", metavar="S",
                        help=t("cli.records.sample.opt.seed", lang))
    sample.add_argument("--level", choices=("primary", "secondary"), default="primary",
                        help=t("cli.records.sample.opt.level", lang))
    sample.add_argument("--school-year", default=None, metavar="YYYY-YYYY",
                        help=t("cli.records.sample.opt.school_year", lang))
    add_lang_option(sample)
    sample.set_defaults(func=_sample)
    parser.set_defaults(func=lambda args: _no_subcommand(parser))


def _no_subcommand(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _sample(args: argparse.Namespace) -> int:
    # Imported here so that `hocba --help` stays fast.
    from recordbook.pdf import render_pdf
    from recordbook.sample import DEFAULT_SCHOOL_YEAR, sample_class
    from recordbook.xmlio import to_xml, validate

    if not 1 <= args.count <= 10000:
        raise UsageError("cli.err.count_range", count=args.count)
    school_year = args.school_year or DEFAULT_SCHOOL_YEAR
    parts = school_year.split("-")
    if (len(parts) != 2 or not all(p.isdigit() and len(p) == 4 for p in parts)
            or int(parts[1]) != int(parts[0]) + 1):
        raise UsageError("cli.records.err.school_year", value=repr(school_year))
    seed: int | str = int(args.seed) if args.seed.lstrip("-").isdigit() else args.seed
    out: Path = args.out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError("cli.records.err.mkdir", dir=out, detail=e.strerror or str(e)) from None

    started = time.perf_counter()
    records = sample_class(args.count, seed=seed, level=args.level, school_year=school_year)
    for i, record in enumerate(records, 1):
        xml = to_xml(record)
        validate(xml)  # never hand out a sample that our own schema refuses
        try:
            _write_atomic(out / f"{record.id}.xml", xml)
            _write_atomic(out / f"{record.id}.pdf", render_pdf(record))
        except OSError as e:
            raise HocbaError("cli.records.err.write", dir=out,
                             detail=e.strerror or str(e)) from None
        if sys.stderr.isatty():
            print(f"\r{i}/{len(records)} {record.id}", end="", file=sys.stderr, flush=True)
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr)
    elapsed = time.perf_counter() - started
    latest = records[0].latest
    lang = cli_lang()
    print(t("cli.records.msg.written", lang, n=len(records),
            level=t(f"cli.records.level.{args.level}", lang), class_name=latest.class_name,
            school_year=latest.school_year, seed=seed, dir=out, seconds=elapsed,
            s="" if len(records) == 1 else "s"), file=sys.stderr)
    return 0

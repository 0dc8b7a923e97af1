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


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "records",
        help="học bạ số mẫu (XML và PDF) — sample record books as XML and PDF",
        description="Học bạ số mẫu: tạo hồ sơ học bạ giả lập (XML theo lược đồ của dự án, "
        "PDF in được). Sample record books: XML in the project's schema and printable PDF.",
    )
    rsub = parser.add_subparsers(dest="records_command", metavar="SUBCOMMAND")
    sample = rsub.add_parser(
        "sample",
        help="tạo một lớp học bạ mẫu — write a class of fictitious pupils as <id>.xml and "
             "<id>.pdf",
        description="Tạo một lớp học sinh giả lập: mỗi học sinh một tệp <mã>.xml (toàn bộ "
        "học bạ) và <mã>.pdf (năm học gần nhất, có sẵn ô chữ ký trống); cùng seed cho cùng "
        "một lớp. Writes one class of fictitious pupils: <id>.xml (the whole record book) and "
        "<id>.pdf (the latest school year, with empty signature boxes); the same seed gives "
        "the same class. Exit 0 written, 1 a file could not be written, 2 usage error.",
    )
    sample.add_argument("--out", required=True, type=Path, metavar="DIR",
                        help="thư mục ghi (tự tạo nếu chưa có) — output directory (created "
                             "if missing)")
    sample.add_argument("--count", type=int, default=40, metavar="N",
                        help="số học sinh, 1–10000 (mặc định 40) — number of pupils, 1–10000 "
                             "(default 40)")
    sample.add_argument("--seed", default="0", metavar="S",
                        help="hạt giống ngẫu nhiên; cùng seed cho cùng học bạ (mặc định 0) — "
                             "random seed; the same seed gives the same records (default 0)")
    sample.add_argument("--level", choices=("primary", "secondary"), default="primary",
                        help="cấp học: primary = tiểu học (Thông tư 27/2020, lớp 3, mặc định), "
                             "secondary = trung học cơ sở (Thông tư 22/2021, lớp 8; học bạ có "
                             "các năm lớp 6–8) — primary (Thông tư 27/2020, grade 3, default) "
                             "or secondary (Thông tư 22/2021, grade 8, with years 6–8)")
    sample.add_argument("--school-year", default=None, metavar="YYYY-YYYY",
                        help="năm học của năm gần nhất trong học bạ (mặc định 2025-2026); các "
                             "năm trước tính lùi từ đó — school year of the latest year block "
                             "(default 2025-2026); earlier years count back from it")
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
        raise UsageError(f"--count phải từ 1 đến 10000 — --count must be between 1 and "
                         f"10000, not {args.count}")
    school_year = args.school_year or DEFAULT_SCHOOL_YEAR
    parts = school_year.split("-")
    if (len(parts) != 2 or not all(p.isdigit() and len(p) == 4 for p in parts)
            or int(parts[1]) != int(parts[0]) + 1):
        raise UsageError(f"--school-year phải có dạng 2025-2026 — --school-year must look "
                         f"like 2025-2026, not {school_year!r}")
    seed: int | str = int(args.seed) if args.seed.lstrip("-").isdigit() else args.seed
    out: Path = args.out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"không tạo được thư mục {out} — cannot create output directory "
                         f"{out}: {e.strerror}") from None

    started = time.perf_counter()
    records = sample_class(args.count, seed=seed, level=args.level, school_year=school_year)
    for i, record in enumerate(records, 1):
        xml = to_xml(record)
        validate(xml)  # never hand out a sample that our own schema refuses
        try:
            _write_atomic(out / f"{record.id}.xml", xml)
            _write_atomic(out / f"{record.id}.pdf", render_pdf(record))
        except OSError as e:
            raise HocbaError(f"không ghi được vào {out} — cannot write to {out}: "
                             f"{e.strerror}") from None
        if sys.stderr.isatty():
            print(f"\r{i}/{len(records)} {record.id}", end="", file=sys.stderr, flush=True)
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr)
    elapsed = time.perf_counter() - started
    latest = records[0].latest
    level_vi = "tiểu học" if args.level == "primary" else "trung học cơ sở"
    print(f"hocba: đã ghi {len(records)} học bạ ({level_vi}, lớp {latest.class_name}, năm học "
          f"{latest.school_year}) dạng XML và PDF vào {out} — "
          f"wrote {len(records)} record book{'' if len(records) == 1 else 's'} ({args.level}, "
          f"class {latest.class_name}, school year {latest.school_year}, seed {seed}) as XML "
          f"and PDF to {out} in {elapsed:.1f} s", file=sys.stderr)
    return 0

"""Maintain the one translation catalog (ground/locale/{vi,en}/LC_MESSAGES/hocba.po).

    python tools/catalog.py add KEY "Vietnamese text" "English text" [--replace]
    python tools/catalog.py remove KEY...
    python tools/catalog.py compile        # .po -> .mo (after editing a .po by hand)
    python tools/catalog.py check          # same keys, fields and NFC in both languages

Every command rewrites both .po files in one canonical form (sorted by key, a fixed
header), so changes from different branches merge line by line, and compiles the .mo
files the program reads. ``tests/test_catalog.py`` fails when the .mo files are stale.
"""
from __future__ import annotations

import argparse
import sys
import unicodedata
from datetime import datetime, timezone
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "ground" / "locale"
LANGS = ("vi", "en")
FIXED = datetime(2026, 1, 1, tzinfo=timezone.utc)


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "hocba.po"


def load(lang: str) -> dict[str, str]:
    path = po_path(lang)
    if not path.exists():
        return {}
    with open(path, "rb") as fh:
        cat = read_po(fh, locale=lang, domain="hocba")
    return {str(m.id): str(m.string) for m in cat if m.id}


def build(lang: str, entries: dict[str, str]) -> Catalog:
    cat = Catalog(locale=lang, domain="hocba", project="hocba", version="1",
                  copyright_holder="hocba", msgid_bugs_address="-",
                  creation_date=FIXED, revision_date=FIXED,
                  last_translator="hocba", language_team="hocba", fuzzy=False)
    for key in sorted(entries):
        text = unicodedata.normalize("NFC", entries[key])
        cat.add(key, text, flags=("python-brace-format",) if "{" in text else ())
    return cat


def save(lang: str, entries: dict[str, str]) -> None:
    cat = build(lang, entries)
    path = po_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        write_po(fh, cat, width=100, sort_output=True, omit_header=True)
    with open(path.with_suffix(".mo"), "wb") as fh:
        write_mo(fh, cat)


def mo_bytes(lang: str) -> bytes:
    """What ``compile`` would write for the current .po (the test compares)."""
    import io

    buf = io.BytesIO()
    write_mo(buf, build(lang, load(lang)))
    return buf.getvalue()


def problems() -> list[str]:
    import string

    def fields(text: str) -> set[str]:
        return {n.split(".")[0].split("[")[0] for _, n, _, _ in string.Formatter().parse(text)
                if n}

    vi, en = load("vi"), load("en")
    out = [f"{k}: only in {'vi' if k in vi else 'en'}" for k in sorted(set(vi) ^ set(en))]
    for k in sorted(set(vi) & set(en)):
        for lang, text in (("vi", vi[k]), ("en", en[k])):
            if not text.strip():
                out.append(f"{k}: empty in {lang}")
            if not unicodedata.is_normalized("NFC", text):
                out.append(f"{k}: not NFC in {lang}")
        try:
            a, b = fields(vi[k]), fields(en[k])
        except ValueError as e:
            out.append(f"{k}: bad template: {e}")
            continue
        # {s}: the English plural ending, which Vietnamese does not have
        if (a - {"s"}) != (b - {"s"}):
            out.append(f"{k}: fields differ: vi {sorted(a)} / en {sorted(b)}")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="tools/catalog.py")
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("add")
    a.add_argument("key")
    a.add_argument("vi")
    a.add_argument("en")
    a.add_argument("--replace", action="store_true")
    r = sub.add_parser("remove")
    r.add_argument("keys", nargs="+")
    sub.add_parser("compile")
    sub.add_parser("check")
    args = p.parse_args(argv)
    cats = {lang: load(lang) for lang in LANGS}
    if args.cmd == "add":
        if not args.replace and any(args.key in c for c in cats.values()):
            print(f"{args.key} exists (use --replace)", file=sys.stderr)
            return 1
        cats["vi"][args.key], cats["en"][args.key] = args.vi, args.en
    elif args.cmd == "remove":
        for c in cats.values():
            for k in args.keys:
                c.pop(k, None)
    elif args.cmd == "check":
        found = problems()
        print("\n".join(found) or "ok")
        return 1 if found else 0
    for lang in LANGS:
        save(lang, cats[lang])
    return 0


if __name__ == "__main__":
    sys.exit(main())

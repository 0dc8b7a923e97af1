"""Resolve a git merge conflict in the catalog: the union of both sides' entries.

    python tools/merge_catalog.py      # during a conflicted merge, from the repo root

Keys changed differently on both sides are reported and the merge stops (exit 1).
"""
from __future__ import annotations

import io
import subprocess
import sys

from babel.messages.pofile import read_po

import catalog

def side(stage: int, lang: str) -> dict[str, str]:
    rel = catalog.po_path(lang).relative_to(catalog.ROOT).as_posix()
    raw = subprocess.run(["git", "show", f":{stage}:{rel}"], cwd=catalog.ROOT,
                         capture_output=True, check=True).stdout
    cat = read_po(io.BytesIO(raw), locale=lang, domain="hocba")
    return {str(m.id): str(m.string) for m in cat if m.id}


def main() -> int:
    clashes = []
    for lang in catalog.LANGS:
        base, ours, theirs = side(1, lang), side(2, lang), side(3, lang)
        merged = dict(ours)
        for k, v in theirs.items():
            if k in ours and ours[k] != v:
                if base.get(k) == ours[k]:
                    merged[k] = v  # only theirs changed it
                elif base.get(k) != v:
                    clashes.append(f"{lang} {k}: {ours[k]!r} / {v!r}")
            else:
                merged[k] = v
        for k in base:  # removed on one side, unchanged on the other
            if (k not in ours and theirs.get(k) == base[k]) or (k not in theirs and ours.get(k) == base[k]):
                merged.pop(k, None)
        catalog.save(lang, merged)
    if clashes:
        print("\n".join(clashes), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

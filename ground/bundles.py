"""Shipped trust bundles (CONTRACT 9): ``config/trust/<name>/``.

A bundle is a directory of PEM files: ``roots/`` are trust anchors, ``intermediates/``
and ``tsa/`` are untrusted certificates offered to path building (real signatures often
embed only the signer's certificate). ``config/trust/README.md`` lists every file with
subject, validity, SHA-256 and source; a test holds the two together.

The bundles are found in the source tree (``config/trust`` beside the rooms) and, in an
installed wheel, under ``<prefix>/share/hocba/trust`` (pyproject's data-files).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from asn1crypto import x509

from ground.errors import UsageError

ANCHOR_DIRS = ("roots",)
HELPER_DIRS = ("intermediates", "tsa")


class UnknownBundle(UsageError, ValueError):
    """No shipped bundle of that name (a catalog key + fields)."""


def bundle_search_path() -> tuple[Path, ...]:
    here = Path(__file__).resolve().parent.parent / "config" / "trust"
    installed = Path(sys.prefix) / "share" / "hocba" / "trust"
    return tuple(p for p in (here, installed) if p.is_dir())


def available_bundles() -> list[str]:
    names: set[str] = set()
    for base in bundle_search_path():
        names.update(p.name for p in base.iterdir() if (p / "roots").is_dir())
    return sorted(names)


@dataclass(frozen=True)
class BundleFiles:
    name: str
    directory: Path
    anchors: tuple[Path, ...]
    intermediates: tuple[Path, ...]


def bundle_files(name: str) -> BundleFiles:
    """The files of bundle ``name``; :class:`UnknownBundle` when there is none."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise UnknownBundle("ground.bundles.err.bad_name", name=repr(name))
    for base in bundle_search_path():
        d = base / name
        if (d / "roots").is_dir():
            anchors = tuple(sorted(p for sub in ANCHOR_DIRS for p in (d / sub).glob("*.pem")))
            helpers = tuple(sorted(p for sub in HELPER_DIRS if (d / sub).is_dir()
                                   for p in (d / sub).glob("*.pem")))
            return BundleFiles(name, d, anchors, helpers)
    known = ", ".join(available_bundles())
    if not known:
        raise UnknownBundle("ground.bundles.err.unknown_none", name=repr(name))
    raise UnknownBundle("ground.bundles.err.unknown", name=repr(name), known=known)


@lru_cache(maxsize=8)
def bundle_certificates(name: str) -> tuple[tuple[x509.Certificate, ...], tuple[x509.Certificate, ...]]:
    """``(anchors, intermediates)`` of bundle ``name``, parsed once per process."""
    from ground.certificates import load_certificates

    files = bundle_files(name)
    anchors = tuple(c for p in files.anchors for c in load_certificates(p))
    helpers = tuple(c for p in files.intermediates for c in load_certificates(p))
    return anchors, helpers

"""Python API for school systems: sign many files or byte strings in one call.

    from signer.api import sign_files, sign_bytes
    results = sign_files(["a.pdf", "b.xml"], config="hocba.toml", role="principal",
                         key="principal.p12", pin="123456", out_dir="signed/")
    for r in results:
        print(r.name, r.ok, r.error)

One key load (one token login), one certificate pre-check, one signer per
format for the whole call. Each result is a :class:`signer.batch.FileResult`;
a failed file has ``ok=False`` and ``error`` set, and the others go on.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence

from ground.config import Config, load_config
from ground.errors import UsageError
from ground.vocab import Level, Role
from signer.batch import FileResult, run_files, run_items
from signer.keys import KeySource

__all__ = ["FileResult", "KeySource", "sign_files", "sign_bytes"]


def _config(config: Config | str | os.PathLike[str] | None) -> Config:
    return config if isinstance(config, Config) else load_config(config)


def _key(key: KeySource | str | os.PathLike[str] | None, cfg: Config, role: Role) -> KeySource:
    if isinstance(key, KeySource):
        return key
    if key is None:
        default = getattr(cfg.signing, f"{role.value}_key")
        if default is None:
            raise UsageError("signer.api.no_key", role=role.value)
        return KeySource(p12=Path(default))
    return KeySource(p12=Path(key))


def sign_files(paths: Sequence[str | os.PathLike[str]], *, config: Config | str | None = None,
               role: Role | str, key: KeySource | str | None = None, pin: str,
               level: Level | str = Level.B_T, out_dir: str | os.PathLike[str] | None = None,
               in_place: bool = False, jobs: int | None = None,
               claim_role: bool = False) -> list[FileResult]:
    """Sign files to ``out_dir/<same name>`` or, with ``in_place=True``, replace them atomically."""
    cfg = _config(config)
    r = Role.parse(role) if isinstance(role, str) else role
    lv = Level(level) if isinstance(level, str) else level
    if (out_dir is None) == (not in_place):
        raise UsageError("signer.api.out_dir_or_in_place")
    return run_files(cfg, r, lv, _key(key, cfg, r), pin, [Path(p) for p in paths],
                     Path(out_dir) if out_dir is not None else None, jobs=jobs,
                     claim_role=claim_role)


def sign_bytes(items: Iterable[tuple[str, bytes]], *, config: Config | str | None = None,
               role: Role | str, key: KeySource | str | None = None, pin: str,
               level: Level | str = Level.B_T) -> list[FileResult]:
    """Sign in memory: ``items`` are (name, bytes); results carry ``data`` (the signed bytes)."""
    cfg = _config(config)
    r = Role.parse(role) if isinstance(role, str) else role
    lv = Level(level) if isinstance(level, str) else level
    return run_items(cfg, r, lv, _key(key, cfg, r), pin, items)

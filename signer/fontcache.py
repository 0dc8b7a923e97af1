"""An on-disk cache of the appearance font subset, so a signing process starts faster.

Making the subset (:class:`signer.appearance.EmbeddedFont`: fontTools imported, the
TrueType file parsed, glyph metrics and bounds measured, the subset written) takes about
0.3 s, once per process; for ``hocba sign`` on a class that is a large part of the whole
run. The result depends only on the font file, the characters and the code that made it,
so it is kept in ``$HOCBA_CACHE_DIR`` (default ``$XDG_CACHE_HOME/hocba`` or
``~/.cache/hocba``) as JSON (plain data, nothing executable), keyed by a SHA-256 of the font
file's name, size and mtime, the characters, the base name and the making module's own
source. A cache that cannot be read or written is ignored: the subset is made as before.
"""
from __future__ import annotations

import base64
import hashlib
import inspect
import json
import os
import tempfile
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

VERSION = 1


def cache_dir() -> Path:
    env = os.environ.get("HOCBA_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hocba"


def _encode(v: Any) -> Any:
    if isinstance(v, bytes):
        return {"b": base64.b64encode(v).decode("ascii")}
    if isinstance(v, tuple):
        return {"t": [_encode(x) for x in v]}
    if isinstance(v, list):
        return [_encode(x) for x in v]
    if isinstance(v, dict):
        return {"d": [[_encode(k), _encode(x)] for k, x in v.items()]}
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    raise TypeError(f"not cacheable: {type(v).__name__}")


def _decode(v: Any) -> Any:
    if isinstance(v, list):
        return [_decode(x) for x in v]
    if isinstance(v, dict):
        if "b" in v:
            return base64.b64decode(v["b"])
        if "t" in v:
            return tuple(_decode(x) for x in v["t"])
        return {_decode(k): _decode(x) for k, x in v["d"]}
    return v


def _key(cls: type, path: Path, args: tuple[str, ...]) -> str:
    st = path.stat()
    source = inspect.getsourcefile(cls)
    code = hashlib.sha256(Path(source).read_bytes()).hexdigest() if source else cls.__qualname__
    material = json.dumps([VERSION, cls.__module__, cls.__qualname__, code, path.name,
                           st.st_size, st.st_mtime_ns, *args])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:40]


def cached(cls: type[T], path: Path, *args: str) -> T:
    """``cls(path, *args)``, from the cache when the same object was made before."""
    try:
        file = cache_dir() / f"font-{_key(cls, path, args)}.json"
    except OSError:
        return cls(path, *args)  # type: ignore[call-arg]
    try:
        state = _decode(json.loads(file.read_bytes()))
        obj = cls.__new__(cls)
        obj.__dict__.update(state)
        return obj
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    obj = cls(path, *args)  # type: ignore[call-arg]
    try:
        data = json.dumps(_encode(vars(obj))).encode("utf-8")
        file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=str(file.parent), prefix=".font-", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, file)
    except (OSError, TypeError, ValueError):
        pass
    return obj

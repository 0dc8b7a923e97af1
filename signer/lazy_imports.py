"""Start-up cost of a signing process: defer what a batch may never use.

``import pyhanko.sign`` imports pyHanko's aiohttp-based RFC 3161 client
(``pyhanko.sign.timestamps.aiohttp_client``) and aiohttp-based fetchers
(``pyhanko_certvalidator.fetchers.aiohttp_fetchers``, for ``pyhanko.sign.validation.ades``),
and with them ``aiohttp``: 0.15-0.3 s, about a fifth of a whole ``hocba sign`` of a B-B
class. The signer uses neither: its TSA client (:mod:`signer.tsa`) and revocation fetchers
(:mod:`signer.precheck`) are on ``requests``, and CSC signing imports ``aiohttp`` itself.
:func:`defer_pyhanko_aiohttp` puts stand-in modules in their place before pyHanko is
imported: they have the same public names, and the real module is loaded the first time
any of them is used (``AIOHttpFetcherBackend()`` then returns the real backend). Called by
the ``hocba sign`` command only; library users import pyHanko as it is.
"""
from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path
from typing import Any, Callable

# (module, file relative to its distribution's package dir, is a package, public names)
_DEFERRED: tuple[tuple[str, str, str, bool, tuple[str, ...]], ...] = (
    ("pyhanko_certvalidator.fetchers.aiohttp_fetchers", "pyhanko_certvalidator",
     "fetchers/aiohttp_fetchers/__init__.py", True, ("AIOHttpFetcherBackend",)),
    ("pyhanko.sign.timestamps.aiohttp_client", "pyhanko",
     "sign/timestamps/aiohttp_client.py", False, ("HTTPTimeStamper", "AIOHttpTimeStamper")),
)


def _stand_in(name: str, path: Path, package: bool, names: tuple[str, ...],
              before: Callable[[], object] | None) -> Callable[[], types.ModuleType]:
    stub = types.ModuleType(name, "stand-in, see signer.lazy_imports")
    real: list[types.ModuleType] = []

    def load() -> types.ModuleType:
        if not real:
            if before is not None:
                before()
            spec = importlib.util.spec_from_file_location(
                name, path, submodule_search_locations=[str(path.parent)] if package else None)
            assert spec is not None and spec.loader is not None
            mod = importlib.util.module_from_spec(spec)
            sys.modules[name] = mod
            spec.loader.exec_module(mod)
            parent_name, _, attr = name.rpartition(".")
            parent = sys.modules.get(parent_name)
            if parent is not None:
                setattr(parent, attr, mod)
                for n in names:  # names the parent re-exported from the stand-in
                    if getattr(parent, n, None) is getattr(stub, n):
                        setattr(parent, n, getattr(mod, n))
            real.append(mod)
        return real[0]

    def make(attr: str) -> type:
        def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
            return getattr(load(), attr)(*args, **kwargs)

        return type(attr, (), {"__new__": __new__, "__module__": name,
                               "__doc__": f"Stand-in for {name}.{attr} (loaded on use)."})

    for n in names:
        setattr(stub, n, make(n))

    def __getattr__(attr: str) -> Any:
        if attr.startswith("__"):  # the import system probes __path__, __spec__, ...
            raise AttributeError(attr)
        return getattr(load(), attr)

    stub.__getattr__ = __getattr__  # type: ignore[method-assign]
    stub.__all__ = list(names)  # type: ignore[attr-defined]
    stub.__file__ = str(path)
    if package:  # its submodules import as usual (they import aiohttp themselves)
        stub.__path__ = [str(path.parent)]
    sys.modules[name] = stub
    return load


def defer_pyhanko_aiohttp() -> bool:
    """Install the stand-ins; False (nothing done) once pyHanko's signing is imported."""
    if any(m in sys.modules for m in ("pyhanko.sign", "aiohttp") + tuple(
            d[0] for d in _DEFERRED)):
        return False
    files = []
    for name, dist, rel, package, names in _DEFERRED:
        spec = importlib.util.find_spec(dist)
        if spec is None or not spec.submodule_search_locations:
            return False
        path = Path(list(spec.submodule_search_locations)[0]) / rel
        if not path.is_file():
            return False
        files.append((name, path, package, names))
    before: Callable[[], object] | None = None
    for name, path, package, names in files:
        # The client imports the fetchers' package: load the real one first.
        before = _stand_in(name, path, package, names, before)
    return True

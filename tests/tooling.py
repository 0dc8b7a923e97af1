"""External tools the tests use (pdfsig, xmlsec1, softhsm2, chromium, ...).

A missing tool skips the test on a developer's machine, but fails it when
``HOCBA_REQUIRE_TOOLS=1`` (set by CI), so CI never passes by skipping.
"""
from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REQUIRE_TOOLS = os.environ.get("HOCBA_REQUIRE_TOOLS") == "1"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path:
        return path
    if REQUIRE_TOOLS:
        pytest.fail(f"required tool {name!r} is not installed (HOCBA_REQUIRE_TOOLS=1)")
    pytest.skip(f"{name} not installed")


def require_path(path: Path, what: str) -> Path:
    if path.exists():
        return path
    if REQUIRE_TOOLS or os.environ.get("CI"):
        pytest.fail(f"required {what} not found at {path}")
    pytest.skip(f"{what} not found at {path}")


def corpus_dir() -> Path:
    return require_path(CORPUS, "third-party corpus (../shared/corpus)")


@contextmanager
def time_limit(seconds: int, what: str = "verification") -> Iterator[None]:
    """Fail with TimeoutError when the block runs longer than ``seconds`` (a hang)."""
    def on_alarm(*_: object) -> None:
        raise TimeoutError(f"{what} took more than {seconds}s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@contextmanager
def serve_wsgi(app: object) -> Iterator[str]:
    """A WSGI app on a free loopback port in a thread, for the test's duration: its base URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)

"""Running one coroutine to completion from synchronous code, cheaply (issue 14).

``asyncio.run`` makes a new event loop for every call and, in the main thread, installs
its own SIGINT handler and puts the previous one back. Putting it back goes through
``signal.signal``, which turns the returned handler into an enum where it can: the
handler ``asyncio.run`` installed is a ``functools.partial`` holding the main task,
whose failed enum lookup formats the task's repr (its coroutine and frame). On a PDF
signed in ~6 ms that was ~1 ms per call, and the loop's own set-up and tear-down
(a selector, a socket pair, the default executor's threads) came on top.

:func:`run` keeps one event loop for the main thread, for the life of the process (or
until it is closed), and runs each coroutine on it with ``run_until_complete``. Other
threads (a web server's request threads) use ``asyncio.run`` as before: no signal
handling happens there, and a loop per call ends with its thread. A process forked
while the main thread's loop exists (batch workers) leaves the inherited loop alone -
closing it would unregister descriptors from the epoll instance the parent still uses -
and makes its own.

Called from inside a running loop, :func:`run` raises as ``asyncio.run`` does.
"""
from __future__ import annotations

import asyncio
import atexit
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_main_loop: asyncio.AbstractEventLoop | None = None
# Loops inherited over fork: kept referenced, never closed or used (see above).
_inherited: list[asyncio.AbstractEventLoop] = []


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)``, on the main thread's lasting loop when in the main thread."""
    global _main_loop
    if threading.current_thread() is not threading.main_thread():
        return asyncio.run(coro)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        coro.close()
        raise RuntimeError("ground.aio.run() cannot be called from a running event loop")
    loop = _main_loop
    if loop is None or loop.is_closed():
        loop = _main_loop = asyncio.new_event_loop()
    return loop.run_until_complete(coro)


def _after_fork_in_child() -> None:
    global _main_loop
    if _main_loop is not None:
        _inherited.append(_main_loop)
        _main_loop = None


os.register_at_fork(after_in_child=_after_fork_in_child)


@atexit.register
def _close_main_loop() -> None:
    loop = _main_loop
    if loop is None or loop.is_closed() or loop.is_running():
        return
    try:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()

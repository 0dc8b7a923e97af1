"""ground.aio.run: asyncio.run's answers without a new loop and a SIGINT handler swap per
call in the main thread (issue 14: ~1 ms of a ~6 ms PDF signature), safe across fork."""
from __future__ import annotations

import asyncio
import os
import signal
import threading

import pytest

from ground import aio


async def _loop() -> asyncio.AbstractEventLoop:
    await asyncio.sleep(0)
    return asyncio.get_running_loop()


def test_main_thread_keeps_one_loop_and_the_sigint_handler() -> None:
    async def handler() -> object:
        return signal.getsignal(signal.SIGINT)

    before = signal.getsignal(signal.SIGINT)
    first = aio.run(_loop())
    assert aio.run(_loop()) is first and not first.is_closed()
    assert aio.run(handler()) is before  # asyncio.run would show its own partial here
    assert signal.getsignal(signal.SIGINT) is before


def test_results_and_exceptions_come_back_as_from_asyncio_run() -> None:
    async def boom() -> None:
        await asyncio.sleep(0)
        raise ValueError("inside")

    assert aio.run(asyncio.sleep(0, result=42)) == 42
    with pytest.raises(ValueError, match="inside"):
        aio.run(boom())
    assert aio.run(asyncio.sleep(0, result="still usable")) == "still usable"


def test_other_threads_get_a_loop_per_call() -> None:
    loops: list[asyncio.AbstractEventLoop] = []
    t = threading.Thread(target=lambda: loops.extend([aio.run(_loop()), aio.run(_loop())]))
    t.start()
    t.join()
    assert len(loops) == 2 and loops[0] is not loops[1]
    assert all(lp.is_closed() for lp in loops) and aio._main_loop not in loops


def test_inside_a_running_loop_is_refused() -> None:
    async def nested() -> None:
        coro = asyncio.sleep(0)
        with pytest.raises(RuntimeError):
            aio.run(coro)

    asyncio.run(nested())


def test_a_forked_child_makes_its_own_loop_and_leaves_the_parents_alone() -> None:
    parent_loop = id(aio.run(_loop()))
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its own loop, with timers and a thread-pool call on it
        try:
            async def work() -> int:
                await asyncio.sleep(0.01)
                await asyncio.get_running_loop().run_in_executor(None, lambda: None)
                return id(asyncio.get_running_loop())

            ok = aio.run(work()) != parent_loop and aio._inherited
            os.write(w, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    assert os.read(r, 1) == b"1" and status == 0
    os.close(r)

    # the parent's loop still waits on its own descriptors (timers, the executor's wake-up)
    async def after() -> int:
        await asyncio.sleep(0.01)
        await asyncio.get_running_loop().run_in_executor(None, lambda: None)
        return id(asyncio.get_running_loop())

    assert aio.run(after()) == parent_loop

"""certomancer-csc-dummy served in-process on loopback, with call counters."""
from __future__ import annotations

import asyncio
import socket
import threading
import warnings
from collections import Counter
from pathlib import Path
from typing import Any


class CscDummy:
    """The CSC v1 test server for the test PKI's certomancer config, in a background thread.

    ``calls`` counts requests per endpoint (``credentials/authorize``,
    ``signatures/signHash``, ...), so tests can assert one authorisation per batch.
    """

    def __init__(self, certomancer_yml: Path, *, multisign: int = 50) -> None:
        self.certomancer_yml = certomancer_yml
        self.multisign = multisign
        self.calls: Counter[str] = Counter()
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "CscDummy":
        from aiohttp import web
        from csc_dummy.csc_dummy_server import CSCWithCertomancer, DummyServiceParams

        from certs.pki import load_certomancer

        cfg = load_certomancer(self.certomancer_yml)
        with warnings.catch_warnings():  # the dummy keys its app with plain strings
            warnings.simplefilter("ignore")
            csc = CSCWithCertomancer(cfg, service_params=DummyServiceParams(
                hash_pinning_required=True, multisign=self.multisign))
        csc.register_routes()
        calls = self.calls

        @web.middleware
        async def count(request: Any, handler: Any) -> Any:
            calls[request.path.split("/csc/v1/", 1)[-1]] += 1
            return await handler(request)

        csc.app.middlewares.append(count)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        ready = threading.Event()
        loop = asyncio.new_event_loop()
        self._loop = loop

        def serve() -> None:
            asyncio.set_event_loop(loop)
            runner = web.AppRunner(csc.app)
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
            self._runner = runner
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name="csc-dummy", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

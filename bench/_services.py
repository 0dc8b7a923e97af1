"""Benchmark helpers: a demo PKI's trust services in their own process, the TSA latency proxy.

certomancer re-loads (and re-validates) the RSA private key for every token and OCSP
response it signs, about 80 ms each, so its TSA answers about 12 requests per second
whatever the client does. A production TSA keeps its key loaded (in an HSM) and answers
in milliseconds plus the network. ``serve`` therefore runs the same
``certs.services.TrustServices`` with certomancer's ``generic_sign`` wrapped to load each
key once; ``--slow-tsa`` in the benchmarks keeps certomancer as it is.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[1]


def _fast_keys() -> None:
    # certomancer's signing backend looks this function up on every call.
    from cryptography.hazmat.primitives import serialization

    loaded: dict[bytes, Any] = {}
    orig_load = serialization.load_der_private_key

    def load_once(data: bytes, password: Any = None, **kw: Any) -> Any:
        if password is None and not kw:
            key = loaded.get(data)
            if key is None:
                key = loaded[data] = orig_load(data, password=None)
            return key
        return orig_load(data, password=password, **kw)

    serialization.load_der_private_key = load_once  # type: ignore[assignment]


def serve(config: str, fast: bool = True) -> int:
    """Run the config's trust services in the foreground until stdin closes."""
    sys.path[:0] = [str(REPO)]
    if fast:
        _fast_keys()
    from certs.services import TrustServices
    from ground.config import load_config

    cfg = load_config(config)
    assert cfg.services.certomancer is not None
    with TrustServices(cfg.services.certomancer, port=cfg.services.port):
        print("ready", flush=True)
        sys.stdin.read()
    return 0


def wait_port(port: int, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port}")


class Child:
    """A helper process that runs until its stdin closes (then it is waited for)."""

    def __init__(self, args: list[str]) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen([sys.executable, *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, cwd=str(REPO), env=env)
        assert self.proc.stdout is not None
        self.first_line = self.proc.stdout.readline().strip()

    def ask(self, line: str) -> str:
        stdin: IO[str] | None = self.proc.stdin
        assert stdin is not None and self.proc.stdout is not None
        stdin.write(line + "\n")
        stdin.flush()
        return self.proc.stdout.readline().strip()

    def stop(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def start_services(config: Path, fast: bool = True) -> Child:
    args = [str(Path(__file__).resolve()), "serve", str(config)] + ([] if fast else ["--slow"])
    child = Child(args)
    if child.first_line != "ready":
        raise RuntimeError("trust services did not start")
    return child


def start_proxy(upstream: str, delay: float) -> Child:
    return Child(["-m", "tests.tsa_proxy", "--upstream", upstream, "--delay", str(delay)])


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "serve":
        raise SystemExit(serve(sys.argv[2], fast="--slow" not in sys.argv))
    raise SystemExit("usage: _services.py serve CONFIG [--slow]")

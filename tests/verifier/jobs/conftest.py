"""Bulk job fixtures: a real redis-server on a free loopback port, ``hocba worker``
processes started and stopped by the tests, and the verifier app with ``[jobs]``.

redis-server runs without persistence (``--save '' --appendonly no``) in a temporary
directory; a missing redis-server skips the tests, or fails them under
HOCBA_REQUIRE_TOOLS=1 / CI (tests/tooling.py).
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from certs.pki import PkiLayout
from ground.config import Config, JobsConfig
from tests.conftest import free_port
from tests.tooling import REQUIRE_TOOLS, require_tool
from tests.verifier.web.conftest import records, xml_records  # noqa: F401  (fixtures, shared)

REPO = Path(__file__).resolve().parents[3]


def _require_redis() -> str:
    """redis-server's path; a skip when it is missing, a failure under CI or
    HOCBA_REQUIRE_TOOLS=1."""
    if os.environ.get("CI") and not REQUIRE_TOOLS and not shutil.which("redis-server"):
        pytest.fail("required tool 'redis-server' is not installed (CI)")
    return require_tool("redis-server")


class RedisServer:
    """``redis-server`` on 127.0.0.1:<free port>, no persistence."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = workdir / "redis.log"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(workdir), "--logfile", str(self.log),
             "--daemonize", "no", "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        self.client: Any = redis.Redis(host="127.0.0.1", port=self.port)
        deadline = time.monotonic() + 20
        while True:
            try:
                if self.client.ping():
                    break
            except redis.ConnectionError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("redis-server did not start: "
                                     + (self.log.read_text()[-2000:] if self.log.exists() else ""))
            time.sleep(0.05)

    def stop(self) -> None:
        self.client.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    binary = _require_redis()
    server = RedisServer(binary, tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_clean(redis_server: RedisServer) -> RedisServer:
    """The server emptied for this test (workers of earlier tests are stopped by then)."""
    redis_server.client.flushall()
    return redis_server


@pytest.fixture(scope="session")
def jobs_config_path(test_pki: PkiLayout, redis_server: RedisServer) -> Path:
    """The test PKI's hocba.toml plus ``[jobs]``, beside it (relative paths stay valid)."""
    path = test_pki.config.with_name("hocba-jobs.toml")
    path.write_text(test_pki.config.read_text(encoding="utf-8")
                    + f'\n[jobs]\nbroker = "{redis_server.url}"\nresult_ttl_hours = 1\n',
                    encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def jobs_config(test_config: Config, redis_server: RedisServer) -> Config:
    return test_config.with_overrides(jobs=JobsConfig(broker=redis_server.url,
                                                      result_ttl_hours=1.0))


def make_jobs_app(cfg: Config, **limits: Any) -> Flask:
    from verifier.app import create_app

    if limits:
        cfg = cfg.with_overrides(limits=dataclasses.replace(cfg.limits, **limits))
    return create_app({"HOCBA_CONFIG_OBJ": cfg, "TESTING": True})


@pytest.fixture(scope="session")
def jobs_app(jobs_config: Config, trust_services: Any) -> Flask:
    return make_jobs_app(jobs_config)


def children(pid: int) -> list[int]:
    """The direct child processes of ``pid`` (Linux /proc)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


class Worker:
    """``hocba worker`` as a subprocess; its log in ``log``."""

    def __init__(self, config: Path, log: Path, concurrency: int = 1,
                 env: dict[str, str] | None = None) -> None:
        self.log = log
        self._out = open(log, "wb")
        full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
        full_env.pop("HOCBA_CONFIG", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hocba", "worker", "--config", str(config),
             "--concurrency", str(concurrency)],
            env=full_env, cwd=str(log.parent), stdout=self._out, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        self.concurrency = concurrency

    def pool(self) -> list[int]:
        return children(self.pid)

    def wait_ready(self, timeout: float = 60) -> None:
        """Until the pool processes are up and the worker consumes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"hocba worker exited {self.proc.returncode}:\n"
                                     + self.text()[-3000:])
            if len(self.pool()) >= self.concurrency and "ready" in self.text():
                return
            time.sleep(0.1)
        raise AssertionError("hocba worker did not become ready:\n" + self.text()[-3000:])

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL the main process and its pool (a host that vanished)."""
        pool = self.pool()
        os.kill(self.pid, signal.SIGKILL)
        for p in pool:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            pool = self.pool()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
            for p in pool:  # a pool process left behind by a killed parent
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self._out.close()


@pytest.fixture
def start_worker(jobs_config_path: Path, redis_clean: RedisServer, trust_services: Any,
                 tmp_path: Path) -> Iterator[Any]:
    started: list[Worker] = []

    def start(concurrency: int = 1, env: dict[str, str] | None = None,
              ready: bool = True, config: Path | None = None) -> Worker:
        w = Worker(config or jobs_config_path, tmp_path / f"worker-{len(started)}.log",
                   concurrency, env)
        started.append(w)
        if ready:
            w.wait_ready()
        return w

    try:
        yield start
    finally:
        for w in started:
            w.stop()

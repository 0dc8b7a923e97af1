"""A newcomer's machine may have 8731 or 8080 in use: the demo picks free ports by
itself, and a port asked for that is taken is one clear line (issue 16)."""
from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from ground.config import load_config
from hocba.cli import main
from hocba.commands.demo import _services_port

pytestmark = pytest.mark.slow  # end to end: not in the fast suite (pytest -m "not slow")


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def test_default_port_in_use_gives_another_free_port(tmp_path: Path, busy_port: int) -> None:
    port = _services_port(tmp_path / "pki", None, busy_port)
    assert port != busy_port
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # really free


def test_demo_runs_while_its_default_port_is_taken(tmp_path: Path, busy_port: int,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import certs.pki

    monkeypatch.setattr(certs.pki, "DEFAULT_PORT", busy_port)
    rc = main(["demo", "--out", str(tmp_path / "d"), "--count", "1"])
    assert rc == 0, capsys.readouterr().err
    assert load_config(tmp_path / "d" / "pki" / "hocba.toml").services.port != busy_port


def test_requested_port_in_use_is_one_clear_line(tmp_path: Path, busy_port: int,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["demo", "--out", str(tmp_path / "d"), "--count", "1", "--port", str(busy_port)])
    err = capsys.readouterr().err
    assert rc == 2
    assert f"cổng {busy_port} đang được dùng" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_demo_serve_output_has_no_ansi_colours_when_redirected(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    log = tmp_path / "serve.log"
    with log.open("wb") as f:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hocba", "demo", "--out", str(tmp_path / "d"), "--count", "1",
             "--serve"], stdout=f, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and b"development server" not in log.read_bytes():
                time.sleep(0.5)
            time.sleep(0.5)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
    out = log.read_bytes()
    assert "Trang xác thực: http://127.0.0.1:".encode() in out, out[-2000:]
    assert b"development server" in out  # werkzeug's warning, printed ...
    assert b"\x1b[" not in out  # ... without colour codes

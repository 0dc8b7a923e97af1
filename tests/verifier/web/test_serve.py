"""``hocba serve`` as a real process: uploads never touch the disk; SIGTERM stops it."""
from __future__ import annotations

import pytest

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from certs.pki import PkiLayout
from ground.i18n import t
from tests.conftest import free_port
from tests.verifier.web.conftest import Records

pytestmark = pytest.mark.slow  # end to end: not in the fast suite (pytest -m "not slow")


# Runs `hocba serve` with an audit hook (PEP 578) that reports every file opened
# for writing and every temporary file, from the moment the server is up.
_AUDITED = """
import os, sys
WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
def hook(event, args):
    if event == "open" and isinstance(args[2], int) and args[2] & WRITE:
        os.write(2, ("AUDIT-WRITE %r\\n" % (args[0],)).encode())
    elif event in ("tempfile.mkstemp", "tempfile.mkdtemp", "os.link", "os.rename"):
        os.write(2, ("AUDIT-WRITE %s %r\\n" % (event, args)).encode())
if os.environ.get("HOCBA_TEST_SPOOL_TO_DISK"):  # proves the check can fail
    import flask, verifier.app
    verifier.app.InMemoryRequest._get_file_stream = flask.Request._get_file_stream
sys.addaudithook(hook)
from hocba.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"hocba serve exited: {proc.stderr.read() if proc.stderr else ''!r}")
        try:
            if requests.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError("hocba serve did not come up")


def test_large_uploads_are_never_written_to_disk(test_pki: PkiLayout, trust_services: Any,
                                                 records: Records, tmp_path: Path) -> None:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    port = free_port()
    env = {**os.environ, "TMPDIR": str(tmpdir), "TMP": str(tmpdir), "TEMP": str(tmpdir),
           "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("HOCBA_CONFIG", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", _AUDITED, "serve", "--port", str(port),
         "--config", str(test_pki.config)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_up(url, proc)
        # 6 MB parts: far above werkzeug's 500 kB spool-to-disk threshold.
        padded = records.signed + b"\n%" + b"p" * (6 * 1024 * 1024)
        r = requests.post(url + "/api/v1/verify",
                          files=[("file", ("a.pdf", padded, "application/pdf")),
                                 ("file", ("b.pdf", records.tampered, "application/pdf"))],
                          timeout=60)
        assert r.status_code == 200, r.text[:300]
        assert [x["file"] for x in r.json()["results"]] == ["a.pdf", "b.pdf"]
        r = requests.post(url + "/", files={"file": ("c.pdf", padded, "application/pdf")},
                          headers={"Accept": "text/html"}, timeout=60)
        assert r.status_code == 200
        assert list(tmpdir.iterdir()) == []
        assert requests.get(url + "/", timeout=5).headers["X-Content-Type-Options"] == "nosniff"
        # Over the 20 MB default through a real socket: a 413 JSON answer, not a reset.
        r = requests.post(url + "/api/v1/verify", data=b"%PDF-1.7" + b"x" * (21 * 1024 * 1024),
                          headers={"Content-Type": "application/pdf"}, timeout=60)
        assert r.status_code == 413 and "20 MB" in r.json()["detail"]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    assert rc == 0, err[-2000:]
    assert list(tmpdir.iterdir()) == []
    assert "AUDIT-WRITE" not in err, err[-2000:]


def test_serve_without_trust_anchors_is_a_usage_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "HOCBA_CONFIG"}
    p = subprocess.run([sys.executable, "-m", "hocba", "serve", "--port", "0"],
                       env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert p.stderr.strip() == "hocba: " + t("cli.err.no_anchors", "vi"), p.stderr


def test_serve_on_a_taken_port_is_one_line_exit_2(test_pki: PkiLayout) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        p = subprocess.run([sys.executable, "-m", "hocba", "serve", "--port", str(port),
                            "--config", str(test_pki.config)],
                           capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [
        "hocba: " + t("cli.err.cannot_listen", "vi", host="127.0.0.1", port=port,
                      detail="Address already in use")]

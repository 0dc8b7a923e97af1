"""A latency proxy in front of the test PKI's RFC 3161 TSA, for tests and ``bench/``.

``TsaProxy(upstream_tsa_url, delay=0.05)`` serves the same path on another loopback port
and forwards each request after ``delay`` seconds (a TSA across the country answers in
50–200 ms). It counts requests and the most in flight at once, and can misbehave:

- ``fail_first=K`` (``fail_status``, default 503): the first K requests get that status;
- ``hang_first=K`` (``hang`` seconds): the first K requests are held, then dropped
  without an answer (the client's timeout fires first);
- ``down=True``: every request gets ``fail_status``;
- ``mode="swap"``: answers of two requests in flight together are exchanged (each gets
  the other's token: wrong imprint and nonce);
- ``mode="stale"``: every answer after the first is the first one again (a replayed token);
- ``mode="imprint"``: the request's message imprint is altered before it is forwarded
  (a token for other data, with the right nonce).

Use as a context manager; ``proxy.url`` is the URL to configure as ``[timestamp] url``.
:func:`proxied_config` writes a copy of a hocba.toml pointing at it.
"""
from __future__ import annotations

import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from asn1crypto import tsp


class TsaProxy:
    def __init__(self, upstream: str, *, delay: float = 0.0, fail_first: int = 0,
                 fail_status: int = 503, hang_first: int = 0, hang: float = 2.0,
                 down: bool = False, mode: str | None = None, pair_wait: float = 1.0) -> None:
        self.upstream = upstream
        self.delay, self.fail_first, self.fail_status = delay, fail_first, fail_status
        self.hang_first, self.hang, self.down, self.mode = hang_first, hang, down, mode
        self.pair_wait = pair_wait
        self.requests = 0  # every request received
        self.forwarded = 0  # requests that reached the TSA
        self.in_flight = 0
        self.max_in_flight = 0
        self.swapped = 0  # answers given to the wrong request (swap, stale)
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._waiting: list[dict[str, Any]] = []  # swap: answers waiting for a partner
        self._first_answer: bytes | None = None
        self._local = threading.local()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None
        path = urllib.parse.urlsplit(self.upstream).path
        return f"http://127.0.0.1:{self._server.server_port}{path}"

    def start(self) -> TsaProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy._handle(self, body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="tsa-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> TsaProxy:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def reset_counts(self) -> None:
        with self._lock:
            self.requests = self.forwarded = self.max_in_flight = self.swapped = 0

    # -- one request ------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        with self._lock:
            self.requests += 1
            n = self.requests
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.down or n <= self.fail_first:
                time.sleep(self.delay)
                return self._reply(h, self.fail_status, b"unavailable", "text/plain")
            if n <= self.fail_first + self.hang_first:
                time.sleep(self.hang)
                h.close_connection = True
                return None
            time.sleep(self.delay)
            if self.mode == "imprint":
                body = _alter_imprint(body)
            status, ctype, answer = self._forward(body)
            with self._lock:
                self.forwarded += 1
            if status == 200 and self.mode == "swap":
                answer = self._swap(answer)
            elif status == 200 and self.mode == "stale":
                with self._lock:
                    if self._first_answer is None:
                        self._first_answer = answer
                    elif answer != self._first_answer:
                        answer = self._first_answer
                        self.swapped += 1
            return self._reply(h, status, answer, ctype)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _forward(self, body: bytes) -> tuple[int, str, bytes]:
        # One kept-alive connection to the TSA per proxy thread (as a real network path
        # would not pay a TCP handshake per request either).
        import http.client

        u = urllib.parse.urlsplit(self.upstream)
        for attempt in (0, 1):
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = http.client.HTTPConnection(u.hostname, u.port,
                                                                     timeout=30)
            try:
                conn.request("POST", u.path, body=body,
                             headers={"Content-Type": "application/timestamp-query"})
                r = conn.getresponse()
                return r.status, r.getheader("Content-Type", ""), r.read()
            except (http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _swap(self, answer: bytes) -> bytes:
        """Pair this answer with another one waiting; each gets the other's."""
        with self._cond:
            for slot in self._waiting:
                if slot["partner"] is None:
                    slot["partner"] = answer
                    self._waiting.remove(slot)
                    self.swapped += 2
                    self._cond.notify_all()
                    return bytes(slot["answer"])
            slot = {"answer": answer, "partner": None}
            self._waiting.append(slot)
            self._cond.wait_for(lambda: slot["partner"] is not None, timeout=self.pair_wait)
            if slot["partner"] is None:  # nobody came: its own answer
                self._waiting.remove(slot)
                return answer
            return bytes(slot["partner"])

    @staticmethod
    def _reply(h: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str) -> None:
        try:
            h.send_response(status)
            h.send_header("Content-Type", ctype or "application/octet-stream")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
            h.close_connection = True


def _alter_imprint(body: bytes) -> bytes:
    req = tsp.TimeStampReq.load(body)
    imprint = req["message_imprint"]
    digest = bytes(imprint["hashed_message"].native)
    altered = bytes([digest[0] ^ 0xFF]) + digest[1:]
    return bytes(tsp.TimeStampReq({
        "version": req["version"].native,
        "message_imprint": {"hash_algorithm": imprint["hash_algorithm"],
                            "hashed_message": altered},
        "nonce": req["nonce"].native,
        "cert_req": req["cert_req"].native,
    }).dump())


def proxied_config(config_file: Path, tsa_url: str, name: str, **timestamp: Any) -> Path:
    """A copy of ``config_file`` beside it (its relative paths still hold) whose
    ``[timestamp]`` has ``url = tsa_url`` and the other keys given."""
    text = config_file.read_text(encoding="utf-8")
    lines = [f'url = "{tsa_url}"'] + [f"{k} = {v!r}" if not isinstance(v, str)
                                      else f'{k} = "{v}"' for k, v in timestamp.items()]
    text, n = re.subn(r'(?m)^\[timestamp\]\n(?:url = .*\n)?', "[timestamp]\n" + "\n".join(lines)
                      + "\n", text)
    assert n == 1, "no [timestamp] section"
    out = config_file.with_name(f"hocba-{name}.toml")
    out.write_text(text, encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    """Run a proxy in the foreground (benchmarks run it as its own process):
    ``python -m tests.tsa_proxy --upstream URL --delay 0.05``; prints its URL, then serves
    until stdin closes or the process is stopped."""
    import argparse
    import sys

    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--delay", type=float, default=0.0)
    args = ap.parse_args(argv)
    with TsaProxy(args.upstream, delay=args.delay) as proxy:
        print(proxy.url, flush=True)
        try:
            for line in sys.stdin:  # "stats" → counts; EOF → stop
                if line.strip() == "stats":
                    print(f"{proxy.requests} {proxy.max_in_flight}", flush=True)
                elif line.strip() == "reset":
                    proxy.reset_counts()
                    print("ok", flush=True)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

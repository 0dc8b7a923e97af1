"""gunicorn configuration for the verifier service (CONTRACT 7).

    HOCBA_CONFIG=/etc/hocba/hocba.toml \\
        gunicorn -c config/gunicorn.conf.py 'verifier.app:create_app()'

Environment (all optional):
    HOCBA_BIND            address to listen on (default 127.0.0.1:8000; put a TLS-terminating
                          reverse proxy in front, do not expose gunicorn directly)
    HOCBA_WORKERS         worker processes (default: 2 x CPUs + 1, at most 16)
    HOCBA_THREADS         threads per worker (default 4)
    HOCBA_TIMEOUT         worker timeout in seconds (default: [limits] request_timeout of
                          HOCBA_CONFIG + 30, so a request times out cleanly in the app first)
    HOCBA_MAX_REQUESTS    recycle a worker after this many requests (default 2000, with jitter)
    HOCBA_ACCESS_LOG      "-" for stdout (default), a file path, or "off"
    HOCBA_LOG_LEVEL       gunicorn's error log level (default info; the error log is stderr)

Privacy (Nghị định 13/2023: records of minors): the access log carries no query string,
no referer and no user agent, only method, path, status, size and duration; the app itself
logs one line per verified file with its SHA-256 and verdict, never a name or content.
Uploads stay in memory (verifier.app.InMemoryRequest).
"""
from __future__ import annotations

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"gunicorn.conf.py: {name} must be an integer, got {value!r}") from None


def _request_timeout() -> float:
    """The app's own time limit per verification request ([limits] request_timeout)."""
    try:
        from ground.config import load_config

        return float(load_config().limits.request_timeout)
    except Exception:  # a bad config is reported by the app itself, clearly, at start
        return 120.0


bind = [b.strip() for b in os.environ.get("HOCBA_BIND", "127.0.0.1:8000").split(",") if b.strip()]

workers = _int("HOCBA_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 16))
threads = _int("HOCBA_THREADS", 4)
worker_class = "gthread" if threads > 1 else "sync"

# Above the app's request timeout: a slow verification gets the app's own time-out answer
# before gunicorn kills the worker.
timeout = _int("HOCBA_TIMEOUT", int(_request_timeout()) + 30)
graceful_timeout = 30
keepalive = 5

# Request line and header limits (uploads themselves are bounded by [limits] max_file_mb).
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190

# Load the app (trust store, policy) once in the master: a bad configuration stops the
# server at start, and the workers share the parsed trust bundle.
preload_app = True

# Recycle workers now and then (memory held by large PDFs), not all at once.
max_requests = _int("HOCBA_MAX_REQUESTS", 2000)
max_requests_jitter = max(1, max_requests // 10)

# Access log without query strings or personal data: %(U)s is the path without the query,
# no %(r)s (request line with query), %(f)s (referer) or %(a)s (user agent).
_access = os.environ.get("HOCBA_ACCESS_LOG", "-")
accesslog = None if _access.lower() in ("off", "none", "") else _access
access_log_format = '%(t)s %(m)s %(U)s %(s)s %(B)s %(M)sms'
errorlog = "-"
loglevel = os.environ.get("HOCBA_LOG_LEVEL", "info")

# Behind a reverse proxy on the same host: trust its X-Forwarded-* from loopback only.
forwarded_allow_ips = "127.0.0.1,::1"
proc_name = "hocba-verifier"
# gunicorn >= 24's control socket (~/.gunicorn/gunicorn.ctl) is not needed: signals do.
control_socket_disable = True

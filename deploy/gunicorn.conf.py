"""Gunicorn settings of the hub's web service (the image's command, docker-compose.yml's web).

Each value can be changed through the environment named beside it.
"""

from __future__ import annotations

import os
from typing import Any


def _cpus() -> int:
    # The CPUs this container may use (a CPU limit or affinity), not the host's count.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# The usual (2 x CPUs) + 1 sync workers, capped: each holds a database connection.
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * _cpus() + 1, 12)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# Long work runs as background jobs; a request still busy after this is stuck.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycling against slow leaks, for sync workers only: a gthread worker (threads > 1) that
# recycles exits with its kept-alive connections open, and a request just sent on one of them
# is reset (gunicorn issue #3038; README "Web workers"). GUNICORN_MAX_REQUESTS still decides.
# Each recycling costs a stall of seconds (a new worker imports the hub), so it stays rare: at
# the hundreds of requests per second this service answers, 2,000 meant a restart every ~25 s
# per worker, and those restarts were the API's p99 (README "Web workers"). Slow leaks take
# hours, not seconds.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000" if threads == 1 else "0"))
# Workers sharing the load evenly reach max_requests together, and a new worker takes seconds
# to import the hub on a busy host: with 10 % of jitter all 5 restarted within one bench pass
# (throughput down to a fifth, p99 of seconds). Half of max_requests spreads them out.
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", str(max_requests // 2)))
# The reverse proxy's addresses, whose X-Forwarded-* headers gunicorn believes (scheme, client).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# Flex Ready's certification emulator sends ``EMULATOR_<name>`` headers on every call and the
# hub journals them. gunicorn >= 22 drops every header whose name has an underscore (its
# ``header_map = "drop"``); "dangerous" keeps them all, and ``pre_request`` below drops again
# every underscore name but ``EMULATOR_*``: a client cannot smuggle ``X_Forwarded_For`` (which
# would share ``HTTP_X_FORWARDED_FOR`` with the proxy's ``X-Forwarded-For``).
header_map = "dangerous"
KEPT_UNDERSCORE_PREFIXES = ("EMULATOR_",)
# Heartbeat files in memory: the image's file system may be mounted read-only.
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR", "/dev/shm")  # noqa: S108 - tmpfs
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Its lines as the hub's other processes write theirs (JSON unless DJANGO_DEBUG); an access
# line's query string has its credential-like values replaced (hub/gunicorn_logs.py).
logger_class = "hub.gunicorn_logs.HubLogger"


def kept(name: str) -> bool:
    """Whether a header (gunicorn spells names in upper case) reaches the application."""
    return "_" not in name or name.upper().startswith(KEPT_UNDERSCORE_PREFIXES)


def pre_request(worker: Any, req: Any) -> None:
    # Runs before the WSGI environ is built from ``req.headers`` (sync and gthread workers).
    req.headers = [(name, value) for name, value in req.headers if kept(name)]


def on_starting(server: Any) -> None:
    # Prometheus multiprocess mode: the master picks the samples directory (and removes the
    # ones of ended runs) before it forks; workers inherit it (hub.metrics_dir).
    # prometheus_client is imported here, before any worker exists: importing it first in
    # child_exit (a SIGCHLD handler) could interrupt the master's own import of it half-way
    # (a circular ImportError seen when the benches stopped the server).
    import prometheus_client.multiprocess  # noqa: F401

    from hub import metrics_dir

    metrics_dir.prepare(metrics_dir.default_root() or None)


def child_exit(server: Any, worker: Any) -> None:
    # A worker that ended (max_requests, timeout) takes its live gauges out of the scrape;
    # its counters stay, so totals never go backwards.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)

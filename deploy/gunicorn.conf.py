"""Gunicorn settings of the hub's web service (the image's command, docker-compose.yml's web).

Each value can be changed through the environment named beside it.
"""

from __future__ import annotations

import os


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
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "200"))
# The reverse proxy's addresses, whose X-Forwarded-* headers gunicorn believes (scheme, client).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# Flex Ready's certification emulator sends headers spelled with underscores (EMULATOR_*).
# Gunicorn drops such headers by default; "dangerous" passes them to Django, where only the
# Flex Ready views read them (a proxy in front must not add underscore headers of its own).
header_map = "dangerous"
# Heartbeat files in memory: the image's file system may be mounted read-only.
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR", "/dev/shm")  # noqa: S108 - tmpfs
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

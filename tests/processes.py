"""Child processes of the tests (``tic_read``, Celery workers) on the test's own database."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

from tests.conftest import require

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The running test's database as a URL: a child sees what the test has committed."""
    # SQLite's test database lives in the test process's memory: no other process sees it.
    require(connection.vendor == "postgresql", "a child process shares the test's database")
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{db['USER']}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def _checkout_env() -> dict[str, str]:
    # The checkout first on the path, whatever the virtualenv's install points at.
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child running this checkout's code on the test's settings and
    database."""
    return {**_checkout_env(), "DATABASE_URL": database_url(), **extra}


def run_bench(script: str, *args: str, broker: bool = True) -> subprocess.CompletedProcess[str]:
    """``bench/<script>`` run to its end on this checkout's code and the test settings. A bench
    makes its own database and Redis prefix (never the test's), so it gets the configured
    servers, not the test's database; a bench with workers (``broker``) needs Redis too."""
    require(connection.vendor == "postgresql", "PostgreSQL (a bench's child processes share it)")
    require(not broker or bool(settings.REDIS_URL), "needs REDIS_URL (the workers' broker)")
    return subprocess.run(
        [sys.executable, f"bench/{script}", *args],
        cwd=ROOT,
        env=_checkout_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def stop_all(processes: Iterable[subprocess.Popen[bytes]], *, grace: float = 20) -> None:
    """SIGTERM (``tic_read`` and Celery then write what they hold), SIGKILL after ``grace``."""
    for process in processes:
        if process.poll() is not None:
            continue
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def start_celery_worker(name: str, env: dict[str, str], *, queues: str) -> subprocess.Popen[bytes]:
    """A real Celery worker of this checkout on ``queues``: one task at a time (solo pool),
    quiet, named ``<name>@<host>`` so a test or a bench can tell its workers apart."""
    command = [
        *(sys.executable, "-m", "celery", "-A", "hub", "worker", "--pool", "solo"),
        *("--queues", queues, "--without-mingle", "--without-gossip"),
        *("--loglevel", "WARNING", "--hostname", f"{name}@%h"),
    ]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def wait_until(check: Callable[[], bool], deadline: float, what: str) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` once ``time.monotonic()`` passes
    ``deadline`` (the child processes' work has no event to wait on)."""
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def celery_env_in_memory() -> dict[str, str]:
    """A Celery child of this checkout whose broker is in its own memory: it reads no queue
    and touches no database of the test's. Its lines at the level ``LOG_LEVEL`` sets."""
    return {**_checkout_env(), "CELERY_BROKER_URL": "memory://", "LOG_LEVEL": "INFO"}


@contextmanager
def stderr_lines(
    command: list[str], env: dict[str, str]
) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """A child of this checkout and the lines of its stderr, collected as they come; stopped
    (``stop_all``) when the block ends."""
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stderr or ()), daemon=True)
    reader.start()
    try:
        yield process, lines
    finally:
        stop_all([process])  # type: ignore[list-item]
        reader.join(timeout=10)

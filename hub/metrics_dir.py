"""Where each process's Prometheus samples live (multiprocess mode), chosen before any import of it.

prometheus_client picks its value storage when it is imported: with ``PROMETHEUS_MULTIPROC_DIR``
set, every process (gunicorn workers, Celery pool children, ``tic_read``) writes its samples to
mmap files named by its pid, and ``/metrics`` merges the files. Processes that share a pid
namespace (one host, one container) share one directory; a service's main process calls
``prepare`` at start, before it forks, so its children inherit the directory.

Layout under the root (``HUB_METRICS_DIR``): ``<host>-<main pid>/`` per service start. At start,
the directories of this host whose main process is gone are removed (a previous run's counters
and gauges, and pids the new run could reuse); ``/metrics`` reads every directory left.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


def default_root() -> str:
    """``HUB_METRICS_DIR`` (empty: off), else ``metrics/`` in the hub's ``var`` directory."""
    if "HUB_METRICS_DIR" in os.environ:
        return os.environ["HUB_METRICS_DIR"]
    var = os.environ.get("HUB_VAR_DIR") or str(Path(__file__).resolve().parent.parent / "var")
    return str(Path(var) / "metrics")


def sweep(root: Path, *, host: str | None = None) -> list[Path]:
    """Remove this host's directories whose main process has ended; the ones removed."""
    host = host or socket.gethostname()
    removed = []
    for child in root.glob(f"{host}-*"):
        pid_text = child.name.rsplit("-", 1)[-1]
        if not pid_text.isdigit():
            continue
        # Our own pid on a leftover directory: a previous run (a container restarted) had it.
        if int(pid_text) == os.getpid() or not _alive(int(pid_text)):
            shutil.rmtree(child, ignore_errors=True)
            removed.append(child)
    return removed


def prepare(root: str | Path | None) -> Path | None:
    """Give this process (and the children it forks) a samples directory; idempotent.

    A directory already set in the environment (by a parent, or by the operator) is kept.
    No root: single-process mode (samples in memory, ``/metrics`` shows this process only).
    """
    current = os.environ.get(ENV)
    if current:
        Path(current).mkdir(parents=True, exist_ok=True)
        return Path(current)
    if not root:
        return None
    base = Path(root)
    own = base / f"{socket.gethostname()}-{os.getpid()}"
    try:
        base.mkdir(parents=True, exist_ok=True)
        sweep(base)
        own.mkdir(exist_ok=True)
    except OSError as exc:
        # A read-only tree (an image build's collectstatic): this process keeps its samples
        # in memory rather than fail to start.
        logging.getLogger(__name__).warning("metrics: %s not writable (%s)", base, exc)
        return None
    os.environ[ENV] = str(own)
    return own


def sample_files(root: str | Path) -> list[str]:
    """Every samples file under the root, all hosts and services."""
    return sorted(str(p) for p in Path(root).glob("*/*.db"))

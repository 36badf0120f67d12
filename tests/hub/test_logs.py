"""Production logs are JSON lines whose exceptions can be read."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time

from hub.logs import build_formatter
from tests.processes import ROOT, stop_all, wait_until


def _record_with_exception() -> logging.LogRecord:
    try:
        {}["missing"]
    except KeyError:
        exc_info = sys.exc_info()
    return logging.LogRecord("hub.test", logging.ERROR, __file__, 1, "failed", (), exc_info)


def test_json_logs_render_the_traceback_not_its_repr():
    """Finding: "production JSON logs carry "<traceback object at …>" instead of the
    traceback"."""
    line = build_formatter(json=True).format(_record_with_exception())
    assert "<traceback object" not in line
    entry = json.loads(line)
    assert entry["event"] == "failed" and entry["level"] == "error"
    (exception,) = entry["exception"]
    assert exception["exc_type"] == "KeyError"
    assert exception["frames"][-1]["name"] == "_record_with_exception"
    assert "locals" not in exception["frames"][-1]  # may hold secrets


def test_console_logs_show_the_traceback():
    text = build_formatter(json=False).format(_record_with_exception())
    assert "Traceback" in text and "KeyError" in text


def test_a_celery_worker_writes_the_hubs_json_lines():
    """Celery replaces the root logger's handlers with its own plain-text format unless a
    receiver of its ``setup_logging`` signal is connected (Celery's documentation of the
    signal): the lines of a worker, which runs every poll and sync, would not be JSON. A real
    worker is started; its lines until it is ready must all be the hub's JSON, at the level
    ``LOG_LEVEL`` sets (INFO), not the ``--loglevel`` it was given (WARNING)."""
    # Its broker in its own memory: it reads no queue and touches no database of the test's.
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(ROOT),
        "CELERY_BROKER_URL": "memory://",
        "LOG_LEVEL": "INFO",
    }
    command = [
        *(sys.executable, "-m", "celery", "-A", "hub", "worker", "--pool", "solo"),
        *("--queues", "default", "--loglevel", "WARNING", "--hostname", "logs@%h"),
        *("--without-mingle", "--without-gossip", "--without-heartbeat"),
    ]
    worker = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(worker.stderr), daemon=True)
    reader.start()
    try:
        wait_until(
            lambda: any("ready" in line for line in lines) or worker.poll() is not None,
            time.monotonic() + 60,
            "the worker to say it is ready",
        )
    finally:
        stop_all([worker])
        reader.join(timeout=10)
    entries = [json.loads(line) for line in lines if line.strip()]
    ready = [entry for entry in entries if "ready" in entry["event"]]
    assert ready, lines
    assert ready[0]["logger"] == "celery.apps.worker" and ready[0]["level"] == "info"
    assert all({"event", "level", "logger", "timestamp"} <= set(entry) for entry in entries)

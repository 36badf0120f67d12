"""Production logs are JSON lines whose exceptions can be read."""

from __future__ import annotations

import json
import logging
import sys

from hub.logs import build_formatter


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

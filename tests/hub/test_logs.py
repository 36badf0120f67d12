"""Production logs are JSON lines whose exceptions can be read."""

from __future__ import annotations

import io
import json
import logging
import sys
import threading

from hub.logs import StreamHandler, build_formatter


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


class _GatedFormatter(logging.Formatter):
    """Formats ``slow`` records only once the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.formatting, self.gate = threading.Event(), threading.Event()

    def format(self, record: logging.LogRecord) -> str:
        if record.getMessage() == "slow":
            self.formatting.set()
            assert self.gate.wait(30)
        return super().format(record)


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("hub.test", logging.INFO, __file__, 1, message, (), None)


def test_a_line_being_formatted_does_not_hold_the_others():
    """Many threads log at once (a Smart OA poll's 16, one line per HTTP attempt): the lock
    that keeps lines whole is held for the write only, not while a line is formatted."""
    stream = io.StringIO()
    handler = StreamHandler(stream)
    formatter = _GatedFormatter()
    handler.setFormatter(formatter)
    slow = threading.Thread(target=handler.handle, args=(_record("slow"),))
    slow.start()
    assert formatter.formatting.wait(30)
    fast = threading.Thread(target=handler.handle, args=(_record("fast"),))
    fast.start()
    fast.join(30)  # the stdlib's handler would wait here until the slow line is formatted
    try:
        assert not fast.is_alive()
        assert stream.getvalue() == "fast\n"
    finally:
        formatter.gate.set()
        slow.join(30)
    assert stream.getvalue() == "fast\nslow\n"


def test_the_configured_handler_writes_whole_lines_and_filters(capsys):
    handler = StreamHandler(sys.stderr)
    handler.setFormatter(build_formatter(json=True))
    handler.addFilter(lambda record: record.getMessage() != "dropped")
    assert handler.handle(_record("kept")) is True
    assert handler.handle(_record("dropped")) is False
    lines = capsys.readouterr().err.splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["kept"]

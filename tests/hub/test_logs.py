"""Production logs are JSON lines, from every process, whose exceptions can be read."""

from __future__ import annotations

import json
import logging
import string
import sys
import time

import pytest
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.logs import _RECORD_KEYS, build_formatter
from tests.processes import celery_env_in_memory, stderr_lines, wait_until


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
    command = [
        *(sys.executable, "-m", "celery", "-A", "hub", "worker", "--pool", "solo"),
        *("--queues", "default", "--loglevel", "WARNING", "--hostname", "logs@%h"),
        *("--without-mingle", "--without-gossip", "--without-heartbeat"),
    ]
    with stderr_lines(command, celery_env_in_memory()) as (worker, lines):
        wait_until(
            lambda: any("ready" in line for line in lines) or worker.poll() is not None,
            time.monotonic() + 60,
            "the worker to say it is ready",
        )
    entries = [json.loads(line) for line in lines if line.strip()]
    ready = [entry for entry in entries if "ready" in entry["event"]]
    assert ready, lines
    assert ready[0]["logger"] == "celery.apps.worker" and ready[0]["level"] == "info"
    assert all({"event", "level", "logger", "timestamp"} <= set(entry) for entry in entries)


# --- The JSON lines' fast path ------------------------------------------------------------

_EXTRA_KEYS = st.text(alphabet=string.ascii_letters + "_", min_size=1, max_size=12).filter(
    lambda key: key not in _RECORD_KEYS and key not in {"message", "asctime"}
)
_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()  # past 64 bits too: orjson refuses them, the processors write them
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),  # other than ASCII too: those lines take the processors' path
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


def _both(record: logging.LogRecord) -> tuple[str, str]:
    """The fast path's line and the processors' line of the same record."""
    formatter = build_formatter(json=True)
    fast = formatter.format(logging.makeLogRecord(record.__dict__))
    slow = structlog.stdlib.ProcessorFormatter.format(
        formatter, logging.makeLogRecord(record.__dict__)
    )
    return fast, slow


def _without_time(line: str) -> list[tuple[str, object]]:
    entry = json.loads(line)
    assert entry.pop("timestamp").endswith("Z")
    return list(entry.items())  # the keys' order counts too


@given(
    message=st.text(),
    extra=st.dictionaries(_EXTRA_KEYS, _JSON_VALUES, max_size=6),
    level=st.sampled_from([logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR]),
)
@settings(max_examples=300, deadline=None)
def test_the_fast_lines_say_what_the_processors_say(message, extra, level):
    record = logging.getLogger("hub.http").makeRecord(
        "hub.http", level, __file__, 1, "said %s", (message,), None, extra=extra
    )
    fast, slow = _both(record)
    assert _without_time(fast) == _without_time(slow)
    assert fast.isascii()  # any stream's encoding takes it


def test_values_json_cannot_hold_are_written_as_the_processors_write_them():
    class Opaque:
        def __repr__(self) -> str:
            return "<opaque 7>"

    class Known:
        def __structlog__(self) -> dict[str, int]:
            return {"id": 7}

    record = logging.LogRecord("hub.test", logging.INFO, __file__, 1, "x", (), None)
    record.opaque, record.known, record.raw = Opaque(), Known(), b"\x00"
    fast, slow = _both(record)
    assert _without_time(fast) == _without_time(slow)
    assert json.loads(fast)["known"] == {"id": 7} and json.loads(fast)["opaque"] == "<opaque 7>"


def test_a_nan_is_written_as_null_which_json_can_read():
    record = logging.LogRecord("hub.test", logging.INFO, __file__, 1, "x", (), None)
    record.value = float("nan")
    line = build_formatter(json=True).format(record)
    assert json.loads(line, parse_constant=lambda name: pytest.fail(name))["value"] is None


def test_records_with_an_exception_keep_the_processors_path():
    line = build_formatter(json=True).format(_record_with_exception())
    assert json.loads(line)["exception"][0]["exc_type"] == "KeyError"


# --- Requests in log lines ----------------------------------------------------------------


@pytest.mark.parametrize("json_lines", [True, False])
def test_a_logged_request_keeps_its_query_secrets_out(rf, json_lines):
    """Django's ``log_response`` (every 4xx and 5xx) puts the request in ``extra``; its repr
    carried the whole query string, a refused call's ``?token=…`` with it."""
    request = rf.get("/api/v1/ping", {"token": "query-secret", "limit": "5"})
    record = logging.getLogger("django.request").makeRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "Unauthorized: %s",
        (request.path,),
        None,
        extra={"status_code": 401, "request": request},
    )
    formatter = build_formatter(json=json_lines)
    lines = [formatter.format(logging.makeLogRecord(record.__dict__))]
    if json_lines:  # the processors' path as well as the fast one
        lines.append(
            structlog.stdlib.ProcessorFormatter.format(
                formatter, logging.makeLogRecord(record.__dict__)
            )
        )
    for line in lines:
        assert "query-secret" not in line
        assert "/api/v1/ping?token=***&limit=5" in line
    if json_lines:
        assert (
            json.loads(lines[0])["request"]
            == json.loads(lines[1])["request"]
            == ("<WSGIRequest: GET '/api/v1/ping?token=***&limit=5'>")
        )

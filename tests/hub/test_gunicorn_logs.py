"""gunicorn writes the hub's JSON lines, and its access lines keep credentials out."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger

from hub.gunicorn_logs import HubLogger
from tests.processes import ROOT, stop_all, wait_until


class _Response:
    status = "404 Not Found"
    sent = 58
    headers = [("Content-Type", "application/json"), ("Set-Cookie", "sessionid=cookie-value")]


class _Request:
    headers = [("AUTHORIZATION", "Bearer header-secret"), ("COOKIE", "sessionid=cookie-value")]


def _environ(query: str = "", user_agent: str = "hub-test/1.0") -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/api/v1/ping?{query}" if query else "/api/v1/ping",
        "PATH_INFO": "/api/v1/ping",
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "192.0.2.7",
        "HTTP_USER_AGENT": user_agent,
        "HTTP_AUTHORIZATION": "Bearer header-secret",
        "HTTP_REFERER": "https://elsewhere.example/?code=referer-secret",
    }


def _logger(tmp_path: Path, cls: type[Logger] = HubLogger, **settings: Any) -> Logger:
    config = Config()
    config.set("accesslog", str(tmp_path / "access.log"))
    config.set("errorlog", str(tmp_path / "error.log"))
    for name, value in settings.items():
        config.set(name, value)
    return cls(config)


def _access_line(tmp_path: Path, **environ: Any) -> str:
    log = _logger(tmp_path)
    took = dt.timedelta(milliseconds=3, microseconds=250)
    log.access(_Response(), _Request(), _environ(**environ), took)
    (line,) = (tmp_path / "access.log").read_text().splitlines()
    return line


def test_an_access_line_is_json_with_the_requests_fields(tmp_path, monkeypatch):
    monkeypatch.delenv("DJANGO_DEBUG", raising=False)
    entry = json.loads(_access_line(tmp_path))
    assert entry["logger"] == "gunicorn.access" and entry["level"] == "info"
    assert entry["event"].startswith("http_access method=GET path=/api/v1/ping status=404")
    assert {key: entry[key] for key in ("method", "path", "status", "bytes", "duration_ms")} == {
        "method": "GET",
        "path": "/api/v1/ping",
        "status": 404,
        "bytes": 58,
        "duration_ms": 3.2,
    }
    assert entry["remote_addr"] == "192.0.2.7" and entry["protocol"] == "HTTP/1.1"
    assert entry["user_agent"] == "hub-test/1.0"
    assert "query" not in entry  # none was sent
    assert entry["timestamp"].endswith("Z")


@pytest.mark.parametrize("name", ["token", "access_token", "client_secret", "code", "api_key"])
def test_credential_like_query_values_are_not_written(tmp_path, name):
    """gunicorn's own format writes the whole request line (``%(r)s``), query string included,
    and a ``?token=…`` or an OAuth ``?code=…`` with it."""
    line = _access_line(tmp_path, query=f"{name}=query-secret&limit=5")
    assert "query-secret" not in line
    assert json.loads(line)["query"] == f"{name}=***&limit=5"
    # Nor anything of the headers, the cookies or the referer.
    for secret in ("header-secret", "cookie-value", "referer-secret"):
        assert secret not in line


def test_gunicorns_own_format_would_have_written_it(tmp_path):
    """What the class replaces: the request line in clear."""
    log = _logger(tmp_path, Logger)
    log.access(_Response(), _Request(), _environ(query="token=query-secret"), dt.timedelta(0))
    assert "token=query-secret" in (tmp_path / "access.log").read_text()


def test_a_long_user_agent_is_cut(tmp_path):
    entry = json.loads(_access_line(tmp_path, user_agent="x" * 5000))
    assert entry["user_agent"] == "x" * 200


def test_the_error_log_is_json_too(tmp_path, monkeypatch):
    monkeypatch.delenv("DJANGO_DEBUG", raising=False)
    log = _logger(tmp_path)
    log.info("Booting worker with pid: %s", 42)
    entry = json.loads((tmp_path / "error.log").read_text())
    assert entry["event"] == "Booting worker with pid: 42"
    assert entry["logger"] == "gunicorn.error" and entry["level"] == "info"


def test_debug_gives_the_readable_console_format(tmp_path, monkeypatch):
    monkeypatch.setenv("DJANGO_DEBUG", "true")
    line = _access_line(tmp_path, query="token=query-secret")
    assert not line.startswith("{")
    assert "http_access" in line and "query-secret" not in line


def test_no_access_log_asked_for_writes_none(tmp_path):
    config = Config()
    config.set("errorlog", str(tmp_path / "error.log"))
    HubLogger(config).access(_Response(), _Request(), _environ(), dt.timedelta(0))
    assert "http_access" not in (tmp_path / "error.log").read_text()


def test_an_operators_logging_configuration_is_kept(tmp_path):
    """``logconfig_dict`` is the operator's: its formatter is not replaced."""
    path = tmp_path / "operator.log"
    log = _logger(
        tmp_path,
        logconfig_dict={
            "version": 1,
            "formatters": {"plain": {"format": "OPERATOR %(message)s"}},
            "handlers": {
                "file": {
                    "class": "logging.FileHandler",
                    "filename": str(path),
                    "formatter": "plain",
                }
            },
            "root": {"handlers": [], "level": "WARNING"},
            "loggers": {"gunicorn.error": {"handlers": ["file"], "level": "INFO"}},
        },
    )
    log.info("hello")
    assert path.read_text().splitlines() == ["OPERATOR hello"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_shipped_server_writes_only_json_lines():
    """A real gunicorn on ``deploy/gunicorn.conf.py``: its start-up, its access lines and its
    shutdown are all JSON lines, and a token sent in a query string appears in none."""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(ROOT),
        "DJANGO_DEBUG": "false",
    }
    command = [
        *(sys.executable, "-m", "gunicorn", "hub.wsgi", "-c", "deploy/gunicorn.conf.py"),
        *("--bind", f"127.0.0.1:{port}", "--workers", "1"),
    ]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    out: list[str] = []
    err: list[str] = []
    readers = [
        threading.Thread(target=lambda: out.extend(server.stdout), daemon=True),  # type: ignore[arg-type]
        threading.Thread(target=lambda: err.extend(server.stderr), daemon=True),  # type: ignore[arg-type]
    ]
    for reader in readers:
        reader.start()
    base = f"http://127.0.0.1:{port}"
    try:

        def answers() -> bool:
            assert server.poll() is None, "".join(err)
            try:
                httpx.get(f"{base}/api/v1/ping?token=query-secret&limit=5", timeout=2)
            except httpx.TransportError:
                return False  # not listening yet
            return True

        wait_until(answers, time.monotonic() + 60, "gunicorn to answer")
        wait_until(lambda: bool(out), time.monotonic() + 30, "the access line")
    finally:
        stop_all([server])
        for reader in readers:
            reader.join(timeout=10)
    lines = [line for line in out + err if line.strip()]
    entries = [json.loads(line) for line in lines]
    assert all({"event", "level", "logger", "timestamp"} <= set(entry) for entry in entries)
    accessed = [entry for entry in entries if entry["logger"] == "gunicorn.access"]
    assert accessed and accessed[0]["path"] == "/api/v1/ping"
    assert accessed[0]["query"] == "token=***&limit=5"
    assert any(entry["event"].startswith("Booting worker") for entry in entries)
    assert not [line for line in lines if "query-secret" in line]

"""``EMULATOR_*`` headers through the shipped server: a real gunicorn on its configuration."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.db import connection

from flexready.models import JournalEntry
from hub.services.tokens import create_token
from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
BACS_1 = "f47ac10b-58cc-4372-a567-0e02b2c3d479"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def gunicorn_server() -> Iterator[str]:
    """The hub under gunicorn with the repository's configuration, on the test database."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    if db.get("PASSWORD"):
        url = url.replace("@", f":{db['PASSWORD']}@", 1)
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_CONN_MAX_AGE": "0",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "hub.wsgi",
            "-c",
            "deploy/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, "gunicorn exited"
            assert time.monotonic() < deadline, "gunicorn did not start"
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)  # waiting for a process to listen, not for a race
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.django_db(transaction=True)
def test_emulator_headers_reach_the_journal_through_gunicorn(
    annex: Any, tenant: Any, gunicorn_server: str
) -> None:
    """Annex 1's operator examples send ``-H "EMULATOR_<any_header>: <any_value>"`` (and
    Annex 2: headers "that start with the prefix EMULATOR_ ... are extracted by the proxy"):
    they must reach the journal and the request under the shipped server, while other names
    with an underscore stay dropped as gunicorn does by default."""
    require(connection.vendor == "postgresql", "a second process needs a shared database")
    issued = create_token(organisation=tenant.organisation, name="gunicorn")
    response = httpx.post(
        f"{gunicorn_server}/api/v1/gunicorn-run/operator/bacs/{BACS_1}/assets/WholeBuilding"
        "/flexibilities/request",
        headers={
            "Authorization": f"Bearer {issued.plaintext}",
            "Accept": "application/json",
            "EMULATOR_Trace": "cert-run-7",
            "EMULATOR_Authorization": "Bearer forwarded-secret",
            "X_Forwarded_For": "203.0.113.9",
            "X_Other": "dropped",
        },
        json={"requestID": "g-1", "flexProduct": "WID", "power": "lots"},
        timeout=30,
    )
    assert response.status_code == 400, response.text
    (entry,) = JournalEntry.objects.filter(session__session_id="gunicorn-run")
    assert entry.request_headers["Emulator-Trace"] == "cert-run-7"
    assert entry.request_headers["Emulator-Authorization"] == "Bearer ***"
    assert "forwarded-secret" not in str(entry.request_headers)
    assert "X-Other" not in entry.request_headers
    assert "X-Forwarded-For" not in entry.request_headers


def test_every_shipped_web_command_uses_the_configuration() -> None:
    """``make run`` (Procfile.dev), the Procfile, the image and compose start the same server
    configuration: Django's runserver would drop underscore headers as gunicorn's default does."""
    lines = []
    for name in ("Procfile", "Procfile.dev", "Dockerfile", "docker-compose.yml"):
        text = (ROOT / name).read_text(encoding="utf-8")
        lines += [line for line in text.splitlines() if "gunicorn" in line or "runserver" in line]
    assert lines
    for line in lines:
        assert "runserver" not in line
        assert "deploy/gunicorn.conf.py" in line, line

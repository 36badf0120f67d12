"""A bench database of its own and the hub served by gunicorn with deploy/gunicorn.conf.py."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent


def bench_database(suffix: str) -> str:
    """``<DATABASE_URL's name>_<suffix>``, created if missing (never the suite's database)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("DATABASE_URL must name a PostgreSQL database")
    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'hub'}_{suffix}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "hub.settings",
            "DJANGO_SECRET_KEY": "bench-" + uuid.uuid4().hex,
            "DJANGO_DEBUG": "false",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
            "PYTHONWARNINGS": "ignore::UserWarning",  # whitenoise: no collected static here
            # The benches measure the code, not the throttles (which still count).
            "API_TOKEN_RATE": "100000000/min",
            "API_ORGANISATION_RATE": "100000000/min",
            "API_USER_RATE": "100000000/min",
            **extra,
        }
    )
    env.setdefault("HUB_VAR_DIR", tempfile.mkdtemp(prefix="hub-bench-"))
    env.setdefault("FIELD_ENCRYPTION_KEYS", "aW7B8jsyH4Jz6wxBSMLdbTlZ7uQ2nUq0XJWSTjF8J6Q=")
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def serve(env: dict[str, str], port: int, options: Sequence[str] = ()) -> subprocess.Popen[bytes]:
    """gunicorn with the deployment's config; its access log (on in production) is written to
    /dev/null, so its cost stays in the figures."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "hub.wsgi",
            "--config",
            "deploy/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            *options,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("gunicorn exited early")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.terminate()
    sys.exit("gunicorn did not answer within 120 s")


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=45)  # the config's graceful timeout is 30 s
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=15)


def _process_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # gone meanwhile
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _postgres_pids() -> list[int]:
    # Every PostgreSQL process of the machine (backends, WAL writer, checkpointer): on an idle
    # machine, what the bench's statements cost the server, the commits' WAL included.
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


class CpuMeter:
    """CPU seconds spent between ``start`` and ``read`` by the gunicorn workers (``server``
    and its children), PostgreSQL's processes and this process (the clients)."""

    def __init__(self, server: subprocess.Popen[bytes]) -> None:
        self._server = server.pid
        self._at = self._now()

    def _now(self) -> tuple[float, float, float]:
        children = Path(f"/proc/{self._server}/task/{self._server}/children").read_text().split()
        workers = sum(_process_cpu(int(pid)) for pid in [self._server, *children])
        return workers, sum(map(_process_cpu, _postgres_pids())), time.process_time()

    def start(self) -> None:
        self._at = self._now()

    def read(self) -> tuple[float, float, float]:
        now = self._now()
        workers, postgres, clients = (b - a for a, b in zip(self._at, now, strict=True))
        return workers, postgres, clients

"""The deployment files: the compose file's structure, the image's rules, and the image's start
commands run as an unprivileged user against a read-only copy of what the image holds.

No container engine runs here: building the image, pulling postgres/redis and compose's own
interpretation (interpolation, secrets mounts, the device mapping) are not exercised.
"""

from __future__ import annotations

import fnmatch
import os
import pwd
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.conftest import require

ROOT = Path(__file__).resolve().parents[1]
HUB_SERVICES = ("migrate", "web", "worker", "beat", "tic")
LONG_RUNNING = ("web", "worker", "beat", "tic", "db", "redis")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_migrate_runs_once_before_the_services_that_need_the_schema(compose) -> None:
    services = compose["services"]
    migrate = services["migrate"]
    assert migrate["command"][-2:] == ["migrate", "--noinput"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}
    for name in ("web", "worker", "beat", "tic"):
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"},
            "db": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }, name


def test_services_restart_and_report_their_health(compose) -> None:
    services = compose["services"]
    for name in LONG_RUNNING:
        assert services[name]["restart"] == "unless-stopped", name
    for name in ("web", "worker", "db", "redis"):
        assert services[name]["healthcheck"]["test"], name
    assert services["web"]["healthcheck"]["test"] == ["CMD", "python", "deploy/healthcheck.py"]
    assert services["db"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_state_lives_in_named_volumes(compose) -> None:
    volumes = set(compose["volumes"])
    assert volumes == {"pgdata", "redisdata", "hubvar"}
    services = compose["services"]
    assert "pgdata:/var/lib/postgresql/data" in services["db"]["volumes"]
    assert "redisdata:/data" in services["redis"]["volumes"]
    for name in HUB_SERVICES:
        # Consent proofs and job results are under var/: they must survive a redeploy.
        assert "hubvar:/app/var" in services[name]["volumes"], name


def test_tic_reader_maps_a_serial_device(compose) -> None:
    tic = compose["services"]["tic"]
    assert tic["command"][-1] == "tic_read"
    host, container = tic["devices"][0].split(":")[:2]
    assert host.startswith("/dev/") and container.startswith("/dev/")
    assert "dialout" in tic["group_add"]
    assert tic["profiles"] == ["tic"]  # not started where no meter is plugged


def test_secrets_come_from_files_never_from_the_compose_file(compose) -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert "hub:hub" not in text and "PASSWORD:" not in text.replace("PASSWORD_FILE:", "")
    declared = set(compose["secrets"])
    for name in (*HUB_SERVICES, "db"):
        service = compose["services"][name]
        environment = service["environment"]
        for key, value in environment.items():
            if key.endswith("_FILE"):
                secret = value.removeprefix("/run/secrets/")
                assert secret in declared and secret in service["secrets"], (name, key)
            assert not key.endswith(("PASSWORD", "SECRET_KEY", "ENCRYPTION_KEYS")), (name, key)
        url = environment.get("DATABASE_URL")
        if url:
            assert urlsplit(url).password is None
    for secret in compose["secrets"].values():
        assert secret["file"].startswith("./secrets/")
    assert "secrets/" in (ROOT / ".gitignore").read_text().splitlines()


def test_image_runs_as_a_dedicated_user_owning_only_var() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    lines = [line.strip() for line in dockerfile.splitlines()]
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users == ["hub"]
    text = " ".join(lines)
    assert "chown hub:hub /app/var" in text and text.count("chown") == 1
    assert text.index("collectstatic") < text.index("USER hub")  # at build time
    assert "deploy/gunicorn.conf.py" in lines[-1]
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    for entry in (".env", ".venv", "var/", ".git", "secrets/"):
        assert entry in ignored


def test_gunicorn_config_passes_the_emulators_underscore_headers(monkeypatch) -> None:
    for name in ("WEB_CONCURRENCY", "GUNICORN_TIMEOUT", "GUNICORN_GRACEFUL_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    config: dict[str, Any] = {}
    exec((ROOT / "deploy/gunicorn.conf.py").read_text(encoding="utf-8"), config)
    assert config["header_map"] == "dangerous"
    assert config["timeout"] == 30 and config["graceful_timeout"] == 30
    assert 3 <= config["workers"] <= 12
    assert config["forwarded_allow_ips"]


@pytest.mark.parametrize(("threads", "recycled"), [(None, 20000), ("4", 0)])
def test_gunicorn_recycles_sync_workers_only(monkeypatch, threads, recycled) -> None:
    """README "Web workers": a recycling gthread worker resets its kept-alive connections
    (gunicorn #3038), so threads > 1 mean no max_requests unless GUNICORN_MAX_REQUESTS says."""
    monkeypatch.delenv("GUNICORN_MAX_REQUESTS", raising=False)
    monkeypatch.delenv("GUNICORN_MAX_REQUESTS_JITTER", raising=False)
    if threads is None:
        monkeypatch.delenv("GUNICORN_THREADS", raising=False)
    else:
        monkeypatch.setenv("GUNICORN_THREADS", threads)
    config: dict[str, Any] = {}
    exec((ROOT / "deploy/gunicorn.conf.py").read_text(encoding="utf-8"), config)
    assert config["max_requests"] == recycled
    # Restarts spread out: workers sharing the load evenly must not all restart at once.
    assert config["max_requests_jitter"] == recycled // 2
    monkeypatch.delenv("GUNICORN_MAX_REQUESTS_JITTER", raising=False)
    monkeypatch.setenv("GUNICORN_MAX_REQUESTS", "500")
    exec((ROOT / "deploy/gunicorn.conf.py").read_text(encoding="utf-8"), config)
    assert config["max_requests"] == 500


# -- the image's commands, as an unprivileged user, on a read-only copy -----------------------


@dataclass
class Image:
    app: Path
    var: Path
    env: dict[str, str]


def _dockerignored(patterns: list[str]) -> Any:
    rules = [p.rstrip("/") for p in patterns if p and not p.startswith(("#", "!"))]

    def ignore(folder: str, names: list[str]) -> set[str]:
        relative = Path(folder).relative_to(ROOT)
        skipped = set()
        for name in names:
            path = str(relative / name) if str(relative) != "." else name
            if any(
                fnmatch.fnmatch(path, rule) or fnmatch.fnmatch(name, rule.removeprefix("**/"))
                for rule in rules
            ):
                skipped.add(name)
        return skipped

    return ignore


def _unprivileged(command: list[str]) -> list[str]:
    # nobody, no groups. Reading is allowed everywhere (CAP_DAC_READ_SEARCH: the virtualenv may
    # sit under a folder only root may enter); writing is not, as in the image.
    return [
        "setpriv",
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        "--inh-caps=+dac_read_search",
        "--ambient-caps=+dac_read_search",
        *command,
    ]


def _run(command: list[str], image: Image, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _unprivileged(command),
        cwd=image.app,
        env={**image.env, **extra},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def image() -> Iterator[Image]:
    require(os.geteuid() == 0 and shutil.which("setpriv") is not None, "needs root and setpriv")
    base = Path(tempfile.mkdtemp(prefix="hub-image-"))
    base.chmod(0o755)
    app, var, static, secrets = (base / n for n in ("app", "var", "staticfiles", "secrets"))
    patterns = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    shutil.copytree(ROOT, app, ignore=_dockerignored(patterns), symlinks=True)
    secrets.mkdir()
    (secrets / "django_secret_key").write_text(
        "s" * 30 + "-deployed-secret-key-with-enough-entropy-7"
    )
    (secrets / "field_encryption_keys").write_text("aW7B8jsyH4Jz6wxBSMLdbTlZ7uQ2nUq0XJWSTjF8J6Q=")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": str(app),
        "HUB_VAR_DIR": str(var),
        "DJANGO_STATIC_ROOT": str(static),
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "hub.example.fr",
        "DJANGO_SECRET_KEY_FILE": str(secrets / "django_secret_key"),
        "FIELD_ENCRYPTION_KEYS_FILE": str(secrets / "field_encryption_keys"),
        "HUB_SIMULATORS": "false",
        "SMARTOA_API_URL": "https://smartoa.example.fr/api",
        "SMARTOA_RESOURCE_PATH": "/effacement",
        "DATABASE_URL": f"sqlite:///{var / 'hub.sqlite3'}",
        "CELERY_BROKER_URL": "memory://",
    }
    # The build step, as root, like the Dockerfile's RUN: static files outside var/.
    build = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=app,
        env={**env, "DJANGO_SECRET_KEY": "collectstatic-only", "HUB_VAR_DIR": str(base / "b")},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    shutil.rmtree(base / "b", ignore_errors=True)
    # Then everything read-only, except var/ owned by the service user.
    for folder in (app, static, secrets):
        for path in (folder, *folder.rglob("*")):
            if not path.is_symlink():
                path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    var.mkdir()
    nobody = pwd.getpwnam("nobody")
    os.chown(var, nobody.pw_uid, nobody.pw_gid)
    try:
        yield Image(app, var, env)
    finally:
        for path in (base, *base.rglob("*")):
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | stat.S_IWUSR)
        shutil.rmtree(base, ignore_errors=True)


def test_static_files_are_collected_at_build_time(image: Image) -> None:
    static = Path(image.env["DJANGO_STATIC_ROOT"])
    assert (static / "vendor" / "htmx.min.js").exists()
    assert (static / "vendor" / "htmx.min.js.gz").exists()  # whitenoise's compressed copy
    assert not any(image.var.iterdir())


def test_start_commands_run_unprivileged_on_a_read_only_tree(image: Image) -> None:
    denied = _run(["touch", str(image.app / "written")], image)
    assert denied.returncode != 0  # the code cannot be changed by the service
    migrate = _run([sys.executable, "manage.py", "migrate", "--noinput"], image)
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    check = _run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], image
    )
    assert check.returncode == 0, check.stdout + check.stderr[-2000:]
    config = _run(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--check-config",
            "-c",
            "deploy/gunicorn.conf.py",
            "hub.wsgi",
        ],
        image,
    )
    assert config.returncode == 0, config.stdout + config.stderr[-2000:]
    assert (image.var / "hub.sqlite3").exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_web_server_answers_the_compose_health_check(image: Image) -> None:
    port = str(_free_port())
    extra = {"PORT": port, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1"}
    server = subprocess.Popen(
        _unprivileged(
            [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "hub.wsgi"]
        ),
        cwd=image.app,
        env={**image.env, **extra},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        healthy = None
        while time.monotonic() < deadline and server.poll() is None:
            healthy = _run([sys.executable, "deploy/healthcheck.py"], image, PORT=port)
            if healthy.returncode == 0:
                break
            time.sleep(0.5)  # waiting for the server to listen, not papering over a race
        assert healthy is not None and healthy.returncode == 0, healthy and healthy.stderr
        # A Host outside DJANGO_ALLOWED_HOSTS is refused: the check's Host matters.
        wrong = _run(
            [sys.executable, "deploy/healthcheck.py"], image, PORT=port, HEALTHCHECK_HOST="evil"
        )
        assert wrong.returncode == 1
    finally:
        server.terminate()
        output = server.communicate(timeout=60)[0]
    assert server.returncode == 0, output[-2000:]

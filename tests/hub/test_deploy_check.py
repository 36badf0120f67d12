"""`manage.py check --deploy` is clean with production settings (run as a subprocess)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def production_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "HUB_", "SECURE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="hub.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="p" * 20 + "-production-grade-secret-key-with-enough-entropy-42",
        DJANGO_ALLOWED_HOSTS="hub.example.fr",
        FIELD_ENCRYPTION_KEYS="aW7B8jsyH4Jz6wxBSMLdbTlZ7uQ2nUq0XJWSTjF8J6Q=",
        HUB_SIMULATORS="false",
        SMARTOA_API_URL="https://smartoa.example.fr/api",
        SMARTOA_RESOURCE_PATH="/effacement",
        HUB_VAR_DIR=str(tmp_path),
    )
    return env


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = check_deploy(production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_when_the_simulators_are_on_with_debug_off(tmp_path):
    """Finding: "Simulator control endpoints (`/sim/*/_sim`) are unauthenticated when
    `HUB_SIMULATORS=true`: `check --deploy` warns when simulators are on with DEBUG off"."""
    env = production_env(tmp_path)
    env["HUB_SIMULATORS"] = "true"
    result = check_deploy(env)
    assert result.returncode != 0
    assert "hub.W001" in result.stderr + result.stdout

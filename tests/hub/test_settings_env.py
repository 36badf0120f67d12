"""Settings read from the environment, checked in a fresh interpreter (settings load once)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def embedded_settings(tmp_path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "HUB_", "SMARTOA_"))}
    # What `make run` writes into .env on first start (scripts/ensure_env.py).
    env.update(
        DJANGO_SETTINGS_MODULE="hub.settings",
        DJANGO_DEBUG="true",
        DJANGO_SECRET_KEY="embedded-" + "k" * 40,
        FIELD_ENCRYPTION_KEYS="aW7B8jsyH4Jz6wxBSMLdbTlZ7uQ2nUq0XJWSTjF8J6Q=",
        HUB_VAR_DIR=str(tmp_path),
        **extra,
    )
    names = ("HUB_PUBLIC_URL", "SMARTOA_API_URL", "GRDF_ADICT_URL", "ECOWATT_API_URL")
    script = (
        "import django; django.setup(); from django.conf import settings; "
        f"print('\\n'.join(getattr(settings, n) for n in {names!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return dict(zip(names, result.stdout.split(), strict=True))


def test_simulator_addresses_follow_the_port_make_run_serves_on(tmp_path):
    """README: `make run HUB_PORT=8010` serves on another port; the simulators the hub calls by
    default are its own, so their addresses must name that port too."""
    urls = embedded_settings(tmp_path, HUB_PORT="8010")
    assert urls["HUB_PUBLIC_URL"] == "http://127.0.0.1:8010"
    for name in ("SMARTOA_API_URL", "GRDF_ADICT_URL", "ECOWATT_API_URL"):
        assert urls[name].startswith("http://127.0.0.1:8010/sim/"), (name, urls[name])


def test_an_explicit_public_address_wins_over_the_port(tmp_path):
    urls = embedded_settings(tmp_path, HUB_PORT="8010", HUB_PUBLIC_URL="https://hub.example.fr")
    assert urls["HUB_PUBLIC_URL"] == "https://hub.example.fr"
    assert urls["SMARTOA_API_URL"] == "https://hub.example.fr/sim/smartoa"
